package io.callvec.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** A broker in a child JVM survives kill -9 with every acknowledged record. */
class LocalKafkaClusterChildProcessTest {

  @Test
  void ackedRecordsSurviveKillMinus9AndRestart() throws Exception {
    Path dataDir;
    try (LocalKafkaCluster kafka = LocalKafkaCluster.builder().mode(LocalKafkaCluster.Mode.CHILD_PROCESS).build()) {
      dataDir = kafka.dataDir();
      assertTrue(Files.isRegularFile(dataDir.resolve("node-0/broker.log")), "child log file");
      kafka.createTopics(2, "survive");
      try (KafkaProducer<String, String> p = KafkaTestClients.transactionalProducer(kafka, "survive-tx")) {
        p.initTransactions();
        p.beginTransaction();
        for (int i = 0; i < 50; i++) {
          p.send(new ProducerRecord<>("survive", "k" + (i % 5), "v" + i));
        }
        p.commitTransaction();
      }

      kafka.killNode(0);
      assertFalse(kafka.isNodeRunning(0));
      kafka.startNode(0);
      assertTrue(kafka.isNodeRunning(0));

      try (KafkaProducer<String, String> p = KafkaTestClients.idempotentProducer(kafka)) {
        p.send(new ProducerRecord<>("survive", "k0", "after-restart")).get(60, TimeUnit.SECONDS);
      }
      List<ConsumerRecord<String, String>> all =
          KafkaTestClients.readAll(kafka, "survive", "read_committed", 51, Duration.ofSeconds(60));
      Set<String> values = all.stream().map(ConsumerRecord::value).collect(Collectors.toCollection(TreeSet::new));
      assertEquals(51, all.size(), "records: " + values);
      for (int i = 0; i < 50; i++) {
        assertTrue(values.contains("v" + i), "lost v" + i);
      }
      assertTrue(values.contains("after-restart"));
      assertThrows(IllegalStateException.class, () -> kafka.startNode(0), "already running");
    }
    assertFalse(Files.exists(dataDir), "temporary data folder deleted on close");
  }
}
