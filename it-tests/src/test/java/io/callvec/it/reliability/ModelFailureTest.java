package io.callvec.it.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.it.KafkaBroker;
import io.callvec.it.RealKafka;
import io.callvec.it.support.AppTopics;
import io.callvec.it.support.CallFixtures;
import io.callvec.it.support.ChunkFeeder;
import io.callvec.it.support.CommittedOutput;
import io.callvec.it.support.ExactlyOnceCheck;
import io.callvec.it.support.ScenarioSettings;
import io.callvec.it.support.WorkDirs;
import io.callvec.model.InferenceException;
import io.callvec.model.WindowEmbedder;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

/**
 * Model trouble, through the real {@link CallvecApp} (its batcher, retry policy from {@code
 * callvec.batch.max.attempts}, and stream-thread failure handling) with the model wrapped by a
 * fault-injecting embedder:
 *
 * <ul>
 *   <li>transient failures ({@link InferenceException#isTransient()}) within the retry budget are
 *       retried and cost nothing: every segment exactly once, the app keeps running;
 *   <li>a model that starts failing for good stops the app with an error naming the window; no
 *       window that was not embedded is committed (no segment for it, no gap-hiding call
 *       embedding), and a restart with a good model completes the output exactly once.
 * </ul>
 */
@RealKafka
class ModelFailureTest {

  private final Path work = WorkDirs.create("ModelFailureTest");

  /** Wraps an embedder; {@code failBatch} decides per batch call number (1-based) whether it throws. */
  private static WindowEmbedder failing(WindowEmbedder real, IntPredicate failBatch, boolean transientFailure, AtomicInteger batches,
      AtomicInteger failures) {
    return new WindowEmbedder() {
      @Override
      public float[][] embedBatch(List<float[]> windows) throws InferenceException {
        int n = batches.incrementAndGet();
        if (failBatch.test(n)) {
          failures.incrementAndGet();
          throw new InferenceException("injected " + (transientFailure ? "transient" : "permanent") + " failure of batch call " + n,
              transientFailure);
        }
        return real.embedBatch(windows);
      }

      @Override
      public boolean acceptsMixedLengths() {
        return real.acceptsMixedLengths();
      }

      @Override
      public int dimension() {
        return real.dimension();
      }
    };
  }

  private Map<String, String> config(KafkaBroker broker, String prefix, AppTopics topics, String stateDir) {
    Map<String, String> m = ScenarioSettings.singleInstance(broker.bootstrapServers(), prefix, topics, work.resolve(stateDir), -1);
    m.put("callvec.batch.max.attempts", "3");
    return m;
  }

  /** One scenario: its topics (created), the instance's settings, the calls played and the segments they must give. */
  private record Scenario(AppTopics topics, Map<String, String> cfg, TopologySettings settings, List<Recording> streams,
      Map<String, float[]> expected, Chunker.Options play) {}

  /** Three two-channel 7 s calls on fresh topics named after {@code name}, played at full speed, shuffled with {@code shuffleSeed}. */
  private Scenario scenario(KafkaBroker broker, String name, String stateDir, long shuffleSeed) {
    String prefix = ScenarioSettings.uniquePrefix(name);
    AppTopics topics = AppTopics.of(prefix);
    broker.createTopics(ScenarioSettings.topics(topics, 3, (short) 1));
    Map<String, String> cfg = config(broker, prefix, topics, stateDir);
    TopologySettings settings = ScenarioSettings.topology(cfg);
    List<Recording> streams = CallFixtures.twoChannelCalls(prefix, 3, 7000, 500);
    return new Scenario(topics, cfg, settings, streams, CallFixtures.expectedSegments(streams, settings),
        Chunker.Options.realTime().withSpeed(0).withShuffle(5, 0.02, shuffleSeed));
  }

  @Test
  void transientFailuresWithinTheRetryBudgetAreRetriedAndLoseNothing(KafkaBroker broker) throws Exception {
    Scenario sc = scenario(broker, "model-transient", "a", 7);

    AtomicInteger batches = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    // Every other batch call fails: each batch fails at most once in a row, within 3 attempts.
    try (CallvecApp app = CallvecApp.start(CallvecConfig.builder().overrides(sc.cfg()).build(),
        real -> failing(real, n -> n % 2 == 1, true, batches, failures))) {
      try (ChunkFeeder feeder = ChunkFeeder.start(broker.clientConfig(), sc.topics().input(), sc.streams(), sc.play())) {
        feeder.awaitDone(Duration.ofSeconds(60));
      }
      CommittedOutput out = CommittedOutput.read(broker.clientConfig(), sc.topics(), sc.streams().size(), Duration.ofSeconds(90),
          Duration.ofSeconds(2), () -> assertNull(app.failure(), "the app failed"));
      ExactlyOnceCheck.Verdict v = ExactlyOnceCheck.check(out, sc.streams(), sc.play(), sc.expected(), sc.settings());
      v.assertClean();
      assertTrue(failures.get() > 0, "failures were injected");
      double retries = app.registry().find("callvec.batcher.retries").counters().stream().mapToDouble(c -> c.count()).sum();
      assertEquals(failures.get(), retries, 0.0, "every injected transient failure was retried once");
      assertEquals(KafkaStreams.State.RUNNING, app.streams().state());
    }
  }

  @Test
  void aModelThatFailsForGoodStopsTheAppAndARestartCompletesTheOutputExactlyOnce(KafkaBroker broker) throws Exception {
    Scenario sc = scenario(broker, "model-broken", "broken", 8);
    try (ChunkFeeder feeder = ChunkFeeder.start(broker.clientConfig(), sc.topics().input(), sc.streams(), sc.play())) {
      feeder.awaitDone(Duration.ofSeconds(60));
    }

    // Run 1: the first 3 batches succeed, then the model fails on every attempt (transient, so the batcher retries to its budget).
    AtomicInteger batches = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    CommittedOutput first;
    try (CallvecApp app = CallvecApp.start(CallvecConfig.builder().overrides(sc.cfg()).build(),
        real -> failing(real, n -> n > 3, true, batches, failures))) {
      assertTrue(app.awaitTermination(60, TimeUnit.SECONDS), "the app stopped after the model failed for good");
      Throwable failure = app.failure();
      assertNotNull(failure, "the app reports why it stopped");
      StringBuilder chain = new StringBuilder();
      for (Throwable t = failure; t != null; t = t.getCause()) {
        chain.append(t).append(" <- ");
      }
      String message = chain.toString();
      assertTrue(message.contains("inference failed for window") && message.contains("stopping without committing it")
          && message.contains("injected transient failure"), "a clear error naming the window and the model's failure: " + message);
      assertTrue(failures.get() >= 3, "the failing batch was attempted 3 times (callvec.batch.max.attempts), failures seen " + failures.get());
      assertTrue(app.streams().state() == KafkaStreams.State.ERROR || app.streams().state() == KafkaStreams.State.PENDING_ERROR,
          "Kafka Streams state after the failure: " + app.streams().state());
    }
    first = CommittedOutput.read(broker.clientConfig(), sc.topics(), Integer.MAX_VALUE, Duration.ofSeconds(4), Duration.ZERO, null);
    Set<String> firstKeys = new HashSet<>();
    for (SegmentEmbedding s : first.segments) {
      String key = CallFixtures.segmentKey(s.getCallId(), s.getChannel().getIndex(), s.getStartSample16k(), s.getEndSample16k());
      assertTrue(sc.expected().containsKey(key), "run 1 committed only real segments: " + key);
      assertTrue(firstKeys.add(key), "run 1 committed " + key + " once");
    }
    assertTrue(first.segments.size() < sc.expected().size(), "the failed windows were not committed: " + first.segments.size() + " of "
        + sc.expected().size() + " segments after run 1");
    // No call embedding may hide a window that was never embedded.
    assertTrue(first.calls.stream().allMatch(c -> c.getSegmentCount()
        == first.segments.stream().filter(s -> s.getCallId().equals(c.getCallId()) && s.getChannel().getIndex() == c.getChannel().getIndex()).count()),
        "a call embedding of run 1 counts only committed segments");

    // Run 2: a good model, on a fresh state directory (the pending windows come back from the changelog).
    Map<String, String> cfg2 = new HashMap<>(sc.cfg());
    cfg2.put("state.dir", work.resolve("restarted").toString());
    try (CallvecApp app = CallvecApp.start(CallvecConfig.builder().overrides(cfg2).build())) {
      CommittedOutput all = CommittedOutput.read(broker.clientConfig(), sc.topics(), sc.streams().size(), Duration.ofSeconds(90),
          Duration.ofSeconds(2), () -> assertNull(app.failure(), "the restarted app failed"));
      ExactlyOnceCheck.Verdict v = ExactlyOnceCheck.check(all, sc.streams(), sc.play(), sc.expected(), sc.settings());
      v.assertClean();
      assertTrue(app.metrics().total("callvec.windows.resubmitted") > 0, "the restarted app resubmitted the windows left pending");
    }
  }
}
