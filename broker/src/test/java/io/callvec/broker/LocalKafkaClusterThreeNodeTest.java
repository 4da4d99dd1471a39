package io.callvec.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.junit.jupiter.api.Test;

/** Three in-process nodes: replicated topics, transactions, and a parallel (bounded) shutdown. */
class LocalKafkaClusterThreeNodeTest {

  @Test
  void threeNodesReplicateAndStopTogether() throws Exception {
    LocalKafkaCluster kafka = LocalKafkaCluster.builder().nodes(3).build();
    try {
      assertEquals(3, kafka.bootstrapServers().split(",").length);
      assertEquals(3, kafka.defaultReplicationFactor());
      kafka.createTopics(3, "replicated");
      try (Admin admin = kafka.createAdmin()) {
        Set<Integer> brokers = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).stream()
            .map(Node::id).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(Set.of(0, 1, 2), brokers);
        TopicDescription d = admin.describeTopics(List.of("replicated")).allTopicNames().get(10, TimeUnit.SECONDS).get("replicated");
        d.partitions().forEach(p -> assertEquals(3, p.replicas().size(), "replicas of partition " + p.partition()));
      }
      try (KafkaProducer<String, String> p = KafkaTestClients.transactionalProducer(kafka, "three-tx")) {
        p.initTransactions();
        p.beginTransaction();
        for (int i = 0; i < 30; i++) {
          p.send(new ProducerRecord<>("replicated", "k" + i, "v" + i));
        }
        p.commitTransaction();
      }
      List<ConsumerRecord<String, String>> all =
          KafkaTestClients.readAll(kafka, "replicated", "read_committed", 30, Duration.ofSeconds(60));
      assertEquals(30, all.size());
    } finally {
      long t0 = System.nanoTime();
      kafka.close();
      long closeMs = (System.nanoTime() - t0) / 1_000_000;
      // Stopped one after another, the last node waits about 5 minutes for a lost quorum.
      assertTrue(closeMs < 30_000, "close took " + closeMs + " ms");
    }
  }
}
