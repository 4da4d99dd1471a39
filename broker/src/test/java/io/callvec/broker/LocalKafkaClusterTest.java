package io.callvec.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalKafkaClusterTest {

  @AutoClose private static LocalKafkaCluster kafka;

  @BeforeAll
  static void start() {
    kafka = LocalKafkaCluster.startSingleNode();
  }

  @Test
  void metadataShowsOneBrokerAtTheBootstrapAddress() throws Exception {
    assertEquals(1, kafka.nodeCount());
    assertEquals("localhost:" + kafka.brokerPort(0), kafka.bootstrapServers());
    try (Admin admin = kafka.createAdmin()) {
      var nodes = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS);
      assertEquals(1, nodes.size());
      assertEquals(kafka.brokerPort(0), nodes.iterator().next().port());
      assertEquals(kafka.clusterId(), admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void transactionsCommitAndAbortAreHonouredByReadCommitted() throws Exception {
    String topic = "tx-test";
    kafka.createTopics(2, topic);
    try (KafkaProducer<String, String> p = KafkaTestClients.transactionalProducer(kafka, "tx-test-producer")) {
      p.initTransactions();
      p.beginTransaction();
      for (int i = 0; i < 10; i++) {
        p.send(new ProducerRecord<>(topic, "k" + (i % 3), "committed-" + i));
      }
      p.commitTransaction();
      p.beginTransaction();
      for (int i = 0; i < 5; i++) {
        p.send(new ProducerRecord<>(topic, "k" + i, "aborted-" + i));
      }
      p.flush();
      p.abortTransaction();
      p.beginTransaction();
      for (int i = 10; i < 13; i++) {
        p.send(new ProducerRecord<>(topic, "k" + (i % 3), "committed-" + i));
      }
      p.commitTransaction();
    }
    List<ConsumerRecord<String, String>> committed =
        KafkaTestClients.readAll(kafka, topic, "read_committed", 13, Duration.ofSeconds(30));
    Set<String> values = committed.stream().map(ConsumerRecord::value).collect(Collectors.toCollection(TreeSet::new));
    Set<String> expected = new TreeSet<>();
    for (int i = 0; i < 13; i++) {
      expected.add("committed-" + i);
    }
    assertEquals(expected, values);
    assertEquals(13, committed.size(), "no duplicates");

    List<ConsumerRecord<String, String>> uncommitted =
        KafkaTestClients.readAll(kafka, topic, "read_uncommitted", 18, Duration.ofSeconds(30));
    assertEquals(18, uncommitted.size(), "read_uncommitted also sees the aborted records");
    assertEquals(5, uncommitted.stream().filter(r -> r.value().startsWith("aborted-")).count());
  }

  @Test
  void streamsExactlyOnceV2ReachesRunningAndProcesses(@TempDir Path stateDir) throws Exception {
    kafka.createTopics(2, "eos-in", "eos-out");
    StreamsBuilder sb = new StreamsBuilder();
    sb.stream("eos-in", Consumed.with(Serdes.String(), Serdes.String()))
        .mapValues(v -> v.toUpperCase())
        .to("eos-out", Produced.with(Serdes.String(), Serdes.String()));
    Properties props = new Properties();
    props.putAll(kafka.clientConfig());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "eos-smoke");
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    try (KafkaStreams streams = new KafkaStreams(sb.build(), props)) {
      streams.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (streams.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(KafkaStreams.State.RUNNING, streams.state());
      try (KafkaProducer<String, String> p = KafkaTestClients.idempotentProducer(kafka)) {
        for (int i = 0; i < 20; i++) {
          p.send(new ProducerRecord<>("eos-in", "call-" + (i % 4), "chunk-" + i)).get(30, TimeUnit.SECONDS);
        }
      }
      List<ConsumerRecord<String, String>> out =
          KafkaTestClients.readAll(kafka, "eos-out", "read_committed", 20, Duration.ofSeconds(60));
      Set<String> values = out.stream().map(ConsumerRecord::value).collect(Collectors.toSet());
      assertEquals(20, out.size());
      for (int i = 0; i < 20; i++) {
        assertTrue(values.contains("CHUNK-" + i), "missing CHUNK-" + i);
      }
      streams.close(Duration.ofSeconds(30));
    }
  }

  @Test
  void creatingAnExistingTopicFailsWithAClearMessage() {
    kafka.createTopics(1, "dup-topic");
    LocalKafkaException e = assertThrows(LocalKafkaException.class, () -> kafka.createTopics(1, "dup-topic"));
    assertTrue(e.getMessage().contains("dup-topic"), e.getMessage());
    assertTrue(e.getMessage().contains("already exists"), e.getMessage());
  }

  @Test
  void topicsAreNotAutoCreatedByProducers() throws Exception {
    Map<String, Object> cfg = new java.util.HashMap<>(kafka.clientConfig());
    cfg.put(org.apache.kafka.clients.producer.ProducerConfig.MAX_BLOCK_MS_CONFIG, 1_500);
    try (KafkaProducer<String, String> p = new KafkaProducer<>(
        cfg, new org.apache.kafka.common.serialization.StringSerializer(), new org.apache.kafka.common.serialization.StringSerializer())) {
      var e = assertThrows(java.util.concurrent.ExecutionException.class,
          () -> p.send(new ProducerRecord<>("never-created", "k", "v")).get(10, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException, e.toString());
    }
    try (Admin admin = kafka.createAdmin()) {
      assertFalse(admin.listTopics().names().get(10, TimeUnit.SECONDS).contains("never-created"));
    }
  }

  @Test
  void closeIsQuickDeletesTheTemporaryFolderAndFreesThePort() throws Exception {
    LocalKafkaCluster own = LocalKafkaCluster.builder().build();
    Path dir = own.dataDir();
    int port = own.brokerPort(0);
    assertTrue(Files.isRegularFile(dir.resolve("node-0/data/meta.properties")), "storage formatted");
    own.createTopics(1, "before-close");
    long t0 = System.nanoTime();
    own.close();
    long closeMs = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(closeMs < 20_000, "close took " + closeMs + " ms, expected well under the 30 s stop timeout");
    assertFalse(Files.exists(dir), "temporary data folder deleted");
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }
    own.close(); // idempotent
  }

  @Test
  void aFixedPortInUseIsRefusedWithAClearMessage() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      LocalKafkaException e = assertThrows(LocalKafkaException.class,
          () -> LocalKafkaCluster.builder().brokerPort(taken.getLocalPort()).build());
      assertTrue(e.getMessage().contains("port " + taken.getLocalPort()), e.getMessage());
      assertTrue(e.getMessage().contains("in use"), e.getMessage());
    }
  }
}
