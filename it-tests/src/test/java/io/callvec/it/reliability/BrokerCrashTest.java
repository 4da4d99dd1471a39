package io.callvec.it.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.broker.LocalKafkaCluster;
import io.callvec.demo.CallPlayer;
import io.callvec.it.support.AppTopics;
import io.callvec.it.support.CallFixtures;
import io.callvec.it.support.ChunkFeeder;
import io.callvec.it.support.CommittedOutput;
import io.callvec.it.support.ExactlyOnceCheck;
import io.callvec.it.support.Knobs;
import io.callvec.it.support.ScenarioSettings;
import io.callvec.it.support.WorkDirs;
import io.callvec.topology.TopologySettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
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
 * <p>Knobs: {@code -Dcallvec.soak.calls}, {@code speed}, {@code callMs}, {@code brokerDownMs}.
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
      String prefix = "broker-" + UUID.randomUUID().toString().substring(0, 8);
      AppTopics topics = AppTopics.of(prefix);
      kafka.createTopics(ScenarioSettings.topics(topics, 3, (short) 1));
      Map<String, String> cfg = new HashMap<>(ScenarioSettings.app(kafka.bootstrapServers(), prefix + "-app", topics));
      cfg.put("state.dir", work.resolve("state").toString());
      cfg.put("callvec.http.port", "-1");
      TopologySettings settings = ScenarioSettings.topology(cfg);
      List<CallPlayer.Stream> streams = CallFixtures.twoChannelCalls(prefix, calls, callMs, 400);
      Map<String, float[]> expected = CallFixtures.expectedSegments(streams, settings);
      CallPlayer.Options play = CallPlayer.Options.realTime().withSpeed(speed).withShuffle(5, 0.02, 11);

      try (CallvecApp app = CallvecApp.start(CallvecConfig.builder().overrides(cfg).build())) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (app.streams().state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        assertEquals(KafkaStreams.State.RUNNING, app.streams().state(), "app running before the feed");
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
}
