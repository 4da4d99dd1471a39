package io.callvec.it.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.it.KafkaBroker;
import io.callvec.it.RealKafka;
import io.callvec.it.support.AppInstance;
import io.callvec.it.support.AppTopics;
import io.callvec.it.support.CallFixtures;
import io.callvec.it.support.ChunkFeeder;
import io.callvec.it.support.CommittedOutput;
import io.callvec.it.support.ExactlyOnceCheck;
import io.callvec.it.support.Knobs;
import io.callvec.it.support.ScenarioSettings;
import io.callvec.it.support.SlowModelEmbedder;
import io.callvec.it.support.SlowModelMain;
import io.callvec.it.support.WorkDirs;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Overload is absorbed, not fought: one instance (a separate JVM) with a deliberately slow model
 * ({@link SlowModelEmbedder}: the real fixture ONNX model plus a fixed sleep per window, one batcher
 * worker, so its capacity is at most {@code window / delay} audio seconds per second) is offered
 * at least 3× that capacity in real-time calls; then the load stops and the instance catches up.
 *
 * <p>Asserts: windows were deferred (the batcher's queue refused them; {@code
 * callvec_windows_deferred} from the instance's {@code /metrics}); the offered load was ≥ 3× the
 * capacity the instance really showed (audio embedded ÷ load time); no fencing, no task migration, no
 * rebalance after the instance was ready (its log: Kafka Streams' state changes, "fenced",
 * TaskMigratedException); every segment and call embedding exactly once ({@link ExactlyOnceCheck});
 * heap after a full GC at the largest backlog within {@value #HEAP_GROWTH_LIMIT_MIB} MiB of the idle
 * heap (deferred windows are keys; their audio stays in the state store). Prints the catch-up time
 * (load stop → the last segment and call embedding emitted) in a {@code RESULT scenario=overload}
 * line.
 *
 * <p>The catch-up takes about (overload ratio − 1) × the load time. CI size: 14 two-channel calls of
 * ≈ 20 s (28 real-time streams against a capacity of at most 2000 ms ÷ 250 ms = 8 audio seconds per
 * second; ≈ 6 measured, ≈ 4×; ≈ 2 minutes in all). {@code it-tests/run-soak.sh overload} runs 5
 * minutes of load (knobs {@code -Dcallvec.soak.overloadCalls}, {@code overloadMs}, {@code
 * delayMsPerWindow}); the test fails if the offered load was not ≥ 3× the capacity it measured.
 */
@RealKafka
class OverloadTest {
  private static final Logger log = LoggerFactory.getLogger(OverloadTest.class);

  /** Heap growth after a full GC allowed at the largest backlog, MiB. */
  static final int HEAP_GROWTH_LIMIT_MIB = 48;
  /** The batcher's queue, windows: small, so that the overload shows as deferred windows early. */
  static final int QUEUE_CAPACITY_WINDOWS = 16;

  private final Path work = WorkDirs.create("OverloadTest");

  @Test
  void threeTimesTheCapacityIsAbsorbedWithoutFencingOrRebalanceAndExactlyOnce(KafkaBroker broker) throws Exception {
    int calls = Knobs.intKnob("overloadCalls", 14);
    int callMs = Knobs.intKnob("overloadMs", 20_000);
    int delayMs = Knobs.intKnob("delayMsPerWindow", 250);
    int heapMb = 256;
    int streamsN = 2 * calls;
    String prefix = "overload-" + UUID.randomUUID().toString().substring(0, 8);
    AppTopics topics = AppTopics.of(prefix);
    broker.createTopics(ScenarioSettings.topics(topics, 3, (short) 1));
    Map<String, String> app = ScenarioSettings.app(broker.bootstrapServers(), prefix + "-app", topics);
    app.put("callvec.batch.queue.capacity", Integer.toString(QUEUE_CAPACITY_WINDOWS));
    app.put("callvec.batch.workers", "1");
    app.put("state.dir", work.resolve("state").toString());
    TopologySettings settings = ScenarioSettings.topology(app);
    List<Recording> streams = CallFixtures.twoChannelCalls(prefix, calls, callMs, 100);
    Map<String, float[]> expected = CallFixtures.expectedSegments(streams, settings);
    double audioS = streams.stream().mapToDouble(r -> (double) r.audio().length / r.sampleRateHz()).sum();
    Chunker.Options play = Chunker.Options.realTime().withShuffle(5, 0.02, 7);

    try (AppInstance i = AppInstance.start("overload", work.resolve("overload.log"), heapMb, app,
        List.of(SlowModelMain.class.getName(), Integer.toString(delayMs)))) {
      i.awaitReady(Duration.ofSeconds(90));
      int logAtReady = i.log().length();
      long heapIdle = i.heapAfterGcBytes();

      long t0 = System.nanoTime();
      double maxDeferred = 0;
      double maxQueue = 0;
      long sentRecords;
      try (ChunkFeeder feeder = ChunkFeeder.start(broker.clientConfig(), topics.input(), streams, play)) {
        long deadline = t0 + Duration.ofMillis(callMs + 120_000L).toNanos();
        while (feeder.sent() < feeder.totalRecords() && System.nanoTime() < deadline) {
          i.assertAlive();
          maxDeferred = Math.max(maxDeferred, i.metric("callvec_windows_deferred").orElse(0));
          maxQueue = Math.max(maxQueue, i.metric("callvec_batcher_queue_depth_windows").orElse(0));
          Thread.sleep(500);
        }
        feeder.awaitDone(Duration.ofSeconds(60));
        sentRecords = feeder.totalRecords();
      }
      long loadStop = System.nanoTime();
      double loadS = (loadStop - t0) / 1e9;
      double embeddedAtStop = i.metric("callvec_batcher_audio_seconds_total").orElse(0);
      double deferredAtStop = i.metric("callvec_windows_deferred").orElse(0);
      maxDeferred = Math.max(maxDeferred, deferredAtStop);
      long heapAtStop = i.heapAfterGcBytes();
      double capacity = embeddedAtStop / loadS;
      double offered = audioS / loadS;

      // Catch-up: until the instance has emitted every expected segment and call embedding.
      int expectedCalls = streams.size();
      long catchUpDeadline = System.nanoTime() + Duration.ofMillis(4L * callMs + 180_000L).toNanos();
      double segments = 0;
      double callsOut = 0;
      long nextLog = 0;
      while (true) {
        i.assertAlive();
        segments = i.metric("callvec_segments_total").orElse(0);
        callsOut = i.metric("callvec_calls_total").orElse(0);
        if (segments >= expected.size() && callsOut >= expectedCalls) {
          break;
        }
        if (System.nanoTime() > catchUpDeadline) {
          throw new AssertionError("no catch-up: " + segments + " of " + expected.size() + " segments and " + callsOut + " of " + expectedCalls
              + " call embeddings emitted\n" + i.logTail(40));
        }
        if (System.nanoTime() > nextLog) {
          log.info("catching up: {} of {} segments, {} windows deferred", (long) segments, expected.size(),
              (long) i.metric("callvec_windows_deferred").orElse(0));
          nextLog = System.nanoTime() + 10_000_000_000L;
        }
        Thread.sleep(200);
      }
      double catchUpS = (System.nanoTime() - loadStop) / 1e9;

      // The reader stops a quiet time after the last call embedding; at full size the segments and
      // dead letters take longer to read than that (thousands of records on a loaded machine), so the
      // quiet time grows with them (a run with a fixed 3 s read 3,000 of 10,000 records).
      Duration quiet = Duration.ofSeconds(3 + (expected.size() + sentRecords / 50) / 100);
      CommittedOutput out = CommittedOutput.read(broker.clientConfig(), topics, expectedCalls, Duration.ofSeconds(180).plus(quiet), quiet,
          i::assertAlive);
      ExactlyOnceCheck.Verdict v = ExactlyOnceCheck.check(out, streams, play, expected, settings);
      String after = i.log().substring(logAtReady);
      int rebalances = count(after, "-> REBALANCING");
      int fenced = count(after.toLowerCase(Locale.ROOT), "fenced");
      int migrated = count(after, "TaskMigratedException");
      int errors = count(after, " ERROR ");
      log.info(String.format(Locale.ROOT, "RESULT scenario=overload streams=%d load_s=%.1f offered_audio_s_per_s=%.1f capacity_audio_s_per_s=%.2f "
              + "overload_ratio=%.2f delay_ms_per_window=%d queue_capacity=%d max_deferred_windows=%.0f deferred_at_stop=%.0f max_queue_depth=%.0f "
              + "catch_up_s=%.1f heap_idle_mib=%.1f heap_at_stop_mib=%.1f rebalances=%d fenced=%d task_migrated=%d errors=%d "
              + "segments=%d/%d lost=%d duplicated=%d wrong=%d clean=%s",
          streamsN, loadS, offered, capacity, offered / capacity, delayMs, QUEUE_CAPACITY_WINDOWS, maxDeferred, deferredAtStop, maxQueue, catchUpS,
          heapIdle / 1048576.0, heapAtStop / 1048576.0, rebalances, fenced, migrated, errors, v.deliveredSegments(), v.expectedSegments(),
          v.lostSegments() + v.lostCalls(), v.duplicatedSegments() + v.duplicatedCalls(), v.wrongVectors() + v.wrongCalls() + v.unexpectedSegments(),
          v.clean()));

      v.assertClean();
      assertTrue(offered >= 3 * capacity, String.format(Locale.ROOT, "offered %.1f audio-s/s, not 3× the capacity the instance showed (%.2f)",
          offered, capacity));
      assertTrue(maxDeferred > 0, "windows were deferred (the batcher's queue refused them), max " + maxDeferred);
      assertEquals(0, rebalances, "no rebalance after the instance was ready\n" + i.logTail(40));
      assertEquals(0, fenced, "no fencing\n" + i.logTail(40));
      assertEquals(0, migrated, "no task migration\n" + i.logTail(40));
      assertEquals(0, errors, "no error logged\n" + i.logTail(40));
      assertTrue(heapAtStop - heapIdle < (long) HEAP_GROWTH_LIMIT_MIB << 20, String.format(Locale.ROOT,
          "heap after GC at the largest backlog %.1f MiB, idle %.1f MiB: more than %d MiB growth", heapAtStop / 1048576.0, heapIdle / 1048576.0,
          HEAP_GROWTH_LIMIT_MIB));
      assertEquals(0, i.metric("callvec_windows_deferred").orElse(-1), "no window left deferred after the catch-up");
    }
  }

  private static int count(String text, String what) {
    Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }
}
