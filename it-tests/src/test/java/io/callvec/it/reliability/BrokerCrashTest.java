package io.callvec.it.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.broker.LocalKafkaCluster;
import io.callvec.it.support.AppStates;
import io.callvec.it.support.AppTopics;
import io.callvec.it.support.CallFixtures;
import io.callvec.it.support.ChunkFeeder;
import io.callvec.it.support.CommittedOutput;
import io.callvec.it.support.ExactlyOnceCheck;
import io.callvec.it.support.Knobs;
import io.callvec.it.support.ScenarioSettings;
import io.callvec.it.support.WorkDirs;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Broker trouble: the only broker of a cluster (a child JVM, with a dedicated KRaft controller) is
 * killed with {@code kill -9} while calls are live and restarted a few seconds later. The app (and
 * the producer) must recover without manual action, and the output must still hold every segment
 * and call embedding exactly once. A one-broker cluster is the harsh case: during the outage there is
 * no leader for any partition, no transaction coordinator and no group coordinator at all.
 *
 * <p>Second scenario: a cluster of 3 brokers (every topic, internal ones included, with replication
 * factor 3 and {@code min.insync.replicas=2}) loses one broker for good mid-stream ({@code kill -9},
 * restarted only after the check): the app must finish every call on the 2 that are left. The broker
 * killed is the one with the most to lose: the app's transaction coordinator if one can be found,
 * else its group coordinator, else the leader of the most partitions.
 *
 * <p>Knobs: {@code -Dcallvec.soak.calls}, {@code speed}, {@code callMs}, {@code brokerDownMs};
 * {@code clusterCalls}, {@code clusterCallMs}, {@code clusterKillAt} for the 3-broker scenario.
 */
class BrokerCrashTest {
  private static final Logger log = LoggerFactory.getLogger(BrokerCrashTest.class);

  private final Path work = WorkDirs.create("BrokerCrashTest");

  @Test
  void theAppRidesOutABrokerKilledAndRestartedMidStream() throws Exception {
    int calls = Knobs.intKnob("calls", 4);
    double speed = Knobs.doubleKnob("speed", 1.5);
    int callMs = Knobs.intKnob("callMs", 8000);
    int downMs = Knobs.intKnob("brokerDownMs", 2000);
    try (LocalKafkaCluster kafka = LocalKafkaCluster.builder().mode(LocalKafkaCluster.Mode.CHILD_PROCESS).nodes(1)
        .dataDir(work.resolve("kafka")).build()) {
      String prefix = ScenarioSettings.uniquePrefix("broker");
      AppTopics topics = AppTopics.of(prefix);
      kafka.createTopics(ScenarioSettings.topics(topics, 3, (short) 1));
      Map<String, String> cfg = ScenarioSettings.singleInstance(kafka.bootstrapServers(), prefix, topics, work.resolve("state"), -1);
      TopologySettings settings = ScenarioSettings.topology(cfg);
      List<Recording> streams = CallFixtures.twoChannelCalls(prefix, calls, callMs, 400);
      Map<String, float[]> expected = CallFixtures.expectedSegments(streams, settings);
      Chunker.Options play = Chunker.Options.realTime().withSpeed(speed).withShuffle(5, 0.02, 11);

      try (CallvecApp app = CallvecApp.start(CallvecConfig.builder().overrides(cfg).build())) {
        AppStates.awaitRunning(app, "app running before the feed");
        try (ChunkFeeder feeder = ChunkFeeder.start(kafka.clientConfig(), topics.input(), streams, play)) {
          feeder.awaitFraction(0.4, Duration.ofSeconds(120));
          long t0 = System.nanoTime();
          kafka.killNode(0);
          log.info("broker killed (kill -9) at {} of {} records sent", feeder.sent(), feeder.totalRecords());
          Thread.sleep(downMs);
          kafka.startNode(0);
          log.info("broker back after {} ms", (System.nanoTime() - t0) / 1_000_000);
          feeder.awaitDone(Duration.ofSeconds(180));
        }
        CommittedOutput out = CommittedOutput.read(kafka.clientConfig(), topics, streams.size(), Duration.ofSeconds(180), Duration.ofSeconds(3),
            () -> assertNull(app.failure(), "the app failed"));
        ExactlyOnceCheck.Verdict v = ExactlyOnceCheck.check(out, streams, play, expected, settings);
        log.info("RESULT scenario=broker-crash calls={} records={} segments={}/{} lost={} duplicated={} wrong={} app_state={} clean={}", calls,
            v.recordsChecked(), v.deliveredSegments(), v.expectedSegments(), v.lostSegments() + v.lostCalls(),
            v.duplicatedSegments() + v.duplicatedCalls(), v.wrongVectors() + v.wrongCalls() + v.unexpectedSegments(), app.streams().state(),
            v.clean());
        v.assertClean();
        assertEquals(KafkaStreams.State.RUNNING, app.streams().state(), "the app is running after the broker came back");
      }
    }
  }

  @Test
  void theAppFinishesOnTwoOfThreeBrokersWhenOneIsKilledForGood() throws Exception {
    int calls = Knobs.intKnob("clusterCalls", 4);
    double speed = Knobs.doubleKnob("speed", 1.5);
    int callMs = Knobs.intKnob("clusterCallMs", 8000);
    double killAt = Knobs.doubleKnob("clusterKillAt", 0.4);
    try (LocalKafkaCluster kafka = LocalKafkaCluster.builder().mode(LocalKafkaCluster.Mode.CHILD_PROCESS).nodes(3)
        .dataDir(work.resolve("kafka3"))
        // Explicit (LocalKafkaCluster derives the same from the node count): every internal topic survives one loss.
        .brokerProperty("offsets.topic.replication.factor", "3")
        .brokerProperty("transaction.state.log.replication.factor", "3")
        .brokerProperty("transaction.state.log.min.isr", "2")
        .brokerProperty("min.insync.replicas", "2")
        .brokerProperty("default.replication.factor", "3")
        .build()) {
      String prefix = ScenarioSettings.uniquePrefix("cluster");
      AppTopics topics = AppTopics.of(prefix);
      List<NewTopic> newTopics = new ArrayList<>();
      for (NewTopic t : ScenarioSettings.topics(topics, 3, (short) 3)) {
        newTopics.add(t.configs(Map.of("min.insync.replicas", "2")));
      }
      kafka.createTopics(newTopics);
      Map<String, String> cfg = ScenarioSettings.singleInstance(kafka.bootstrapServers(), prefix, topics, work.resolve("state3"), -1);
      cfg.put("replication.factor", "3"); // Kafka Streams' changelog and repartition topics
      cfg.put("topic.min.insync.replicas", "2");
      TopologySettings settings = ScenarioSettings.topology(cfg);
      List<Recording> streams = CallFixtures.twoChannelCalls(prefix, calls, callMs, 400);
      Map<String, float[]> expected = CallFixtures.expectedSegments(streams, settings);
      Chunker.Options play = Chunker.Options.realTime().withSpeed(speed).withShuffle(5, 0.02, 11);

      try (CallvecApp app = CallvecApp.start(CallvecConfig.builder().overrides(cfg).build()); Admin admin = kafka.createAdmin()) {
        AppStates.awaitRunning(app, "app running before the feed");
        int victim;
        String role;
        long t0;
        try (ChunkFeeder feeder = ChunkFeeder.start(kafka.clientConfig(), topics.input(), streams, play)) {
          feeder.awaitFraction(killAt, Duration.ofSeconds(120));
          Map<Integer, List<String>> roles = brokerRoles(admin, prefix + "-app", prefix);
          assertEveryPartitionHasThreeReplicas(admin, prefix + "-app", prefix);
          victim = pickVictim(roles);
          role = String.join(", ", roles.getOrDefault(victim, List.of("no role found")));
          t0 = System.nanoTime();
          kafka.killNode(victim);
          log.info("broker {} killed (kill -9) for good at {} of {} records sent; it was: {}; roles of all brokers: {}", victim,
              feeder.sent(), feeder.totalRecords(), role, roles);
          feeder.awaitDone(Duration.ofSeconds(180));
          log.info("feed done {} ms after the kill", (System.nanoTime() - t0) / 1_000_000);
        }
        CommittedOutput out = CommittedOutput.read(kafka.clientConfig(), topics, streams.size(), Duration.ofSeconds(180), Duration.ofSeconds(3),
            () -> assertNull(app.failure(), "the app failed"));
        long doneMs = (System.nanoTime() - t0) / 1_000_000;
        assertFalse(kafka.isNodeRunning(victim), "the killed broker stayed down for the whole run");
        ExactlyOnceCheck.Verdict v = ExactlyOnceCheck.check(out, streams, play, expected, settings);
        log.info("RESULT scenario=lose-one-of-three calls={} killed_broker={} role=\"{}\" records={} segments={}/{} lost={} duplicated={} wrong={} "
            + "output_complete_ms_after_kill={} app_state={} clean={}", calls, victim, role, v.recordsChecked(), v.deliveredSegments(),
            v.expectedSegments(), v.lostSegments() + v.lostCalls(), v.duplicatedSegments() + v.duplicatedCalls(),
            v.wrongVectors() + v.wrongCalls() + v.unexpectedSegments(), doneMs, app.streams().state(), v.clean());
        v.assertClean();
        assertNull(app.failure(), "the app never failed");
        assertEquals(KafkaStreams.State.RUNNING, app.streams().state(), "the app is running on 2 of 3 brokers");
      }
    }
  }

  /** What each broker does for the app: transaction coordinator, group coordinator, partition leader. */
  private static Map<Integer, List<String>> brokerRoles(Admin admin, String applicationId, String topicPrefix) throws Exception {
    Map<Integer, List<String>> roles = new TreeMap<>();
    try {
      List<String> txIds = new ArrayList<>();
      for (TransactionListing l : admin.listTransactions().all().get(10, TimeUnit.SECONDS)) {
        if (l.transactionalId().startsWith(applicationId)) {
          txIds.add(l.transactionalId());
        }
      }
      if (!txIds.isEmpty()) {
        for (Map.Entry<String, TransactionDescription> e : admin.describeTransactions(txIds).all().get(10, TimeUnit.SECONDS).entrySet()) {
          roles.computeIfAbsent(e.getValue().coordinatorId(), k -> new ArrayList<>()).add("transaction coordinator of " + e.getKey());
        }
      }
    } catch (Exception e) {
      log.warn("cannot find the transaction coordinator: {}", e.toString());
    }
    try {
      int gc = admin.describeConsumerGroups(List.of(applicationId)).all().get(10, TimeUnit.SECONDS).get(applicationId).coordinator().id();
      roles.computeIfAbsent(gc, k -> new ArrayList<>()).add("group coordinator");
    } catch (Exception e) {
      log.warn("cannot find the group coordinator: {}", e.toString());
    }
    List<String> names = new ArrayList<>();
    for (String t : admin.listTopics().names().get(10, TimeUnit.SECONDS)) {
      if (t.startsWith(topicPrefix) || t.startsWith(applicationId)) {
        names.add(t);
      }
    }
    Map<Integer, Integer> led = new TreeMap<>();
    for (TopicDescription d : admin.describeTopics(names).allTopicNames().get(10, TimeUnit.SECONDS).values()) {
      for (TopicPartitionInfo p : d.partitions()) {
        if (p.leader() != null) {
          led.merge(p.leader().id(), 1, Integer::sum);
        }
      }
    }
    led.forEach((b, n) -> roles.computeIfAbsent(b, k -> new ArrayList<>()).add("leader of " + n + " partitions"));
    return roles;
  }

  /** Input, outputs, changelogs, offsets and transaction state: 3 replicas each, so that one broker may go. */
  private static void assertEveryPartitionHasThreeReplicas(Admin admin, String applicationId, String topicPrefix) throws Exception {
    List<String> names = new ArrayList<>(List.of("__consumer_offsets", "__transaction_state"));
    for (String t : admin.listTopics().names().get(10, TimeUnit.SECONDS)) {
      if (t.startsWith(topicPrefix) || t.startsWith(applicationId)) {
        names.add(t);
      }
    }
    Map<String, TopicDescription> d = admin.describeTopics(names).allTopicNames().get(10, TimeUnit.SECONDS);
    assertTrue(d.keySet().stream().anyMatch(t -> t.endsWith("-changelog")), "changelog topics exist: " + d.keySet());
    for (TopicDescription t : d.values()) {
      for (TopicPartitionInfo p : t.partitions()) {
        assertEquals(3, p.replicas().size(), t.name() + "-" + p.partition() + " replicas");
      }
    }
  }

  /** The transaction coordinator, else the group coordinator, else the leader of the most partitions, else broker 0. */
  private static int pickVictim(Map<Integer, List<String>> roles) {
    for (String wanted : List.of("transaction coordinator", "group coordinator")) {
      for (Map.Entry<Integer, List<String>> e : roles.entrySet()) {
        if (e.getKey() >= 0 && e.getValue().stream().anyMatch(r -> r.startsWith(wanted))) {
          return e.getKey();
        }
      }
    }
    int best = 0;
    int bestCount = -1;
    for (Map.Entry<Integer, List<String>> e : roles.entrySet()) {
      for (String r : e.getValue()) {
        if (r.startsWith("leader of ")) {
          int n = Integer.parseInt(r.split(" ")[2]);
          if (n > bestCount) {
            best = e.getKey();
            bestCount = n;
          }
        }
      }
    }
    return best;
  }
}
