package io.callvec.model.batch;

import static io.callvec.model.batch.EngineChecks.WAIT_S;
import static io.callvec.model.batch.EngineChecks.assertEmbedded;
import static io.callvec.model.batch.EngineChecks.failureOf;
import static io.callvec.model.batch.ScriptedEmbedder.window;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.model.InferenceException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class FailureTest {
  private static final float POISON = 0.987654f;

  /** Batches of exactly 2 (a 600 s delay: only the size trigger), fast retries. */
  private static BatchingOptions.Builder pairs(MeterRegistry registry, RetryPolicy retry) {
    return EngineChecks.pairsOnly("fail")
        .retryPolicy(retry)
        .outageRetryPolicy(RetryPolicy.none())
        .meterRegistry(registry);
  }

  /** {@link #pairs} with no transient retries and {@code outage} as the outage retry policy. */
  private static BatchingOptions onlyOutageRetries(MeterRegistry registry, RetryPolicy outage) {
    return pairs(registry, RetryPolicy.none()).outageRetryPolicy(outage).build();
  }

  /** Fails every batch that holds a poisoned window with an exception from {@code failure}. */
  private static ScriptedEmbedder failingOnPoison(Supplier<InferenceException> failure) {
    return new ScriptedEmbedder()
        .script(
            (windows, call, self) -> {
              if (ScriptedEmbedder.holdsMarked(windows, POISON)) {
                throw failure.get();
              }
              return null;
            });
  }

  /** Fails calls 1 to {@code lastFailingCall} with "{@code message} (call n)". */
  private static ScriptedEmbedder failingFirstCalls(
      int lastFailingCall, String message, boolean transientFailure) {
    return new ScriptedEmbedder()
        .script(
            ScriptedEmbedder.failingUpToCall(
                lastFailingCall,
                call ->
                    new InferenceException(message + " (call " + call + ")", transientFailure)));
  }

  private static double reason(MeterRegistry r, String reason) {
    return EngineChecks.reasonCount(r, BatcherMetricNames.WINDOWS_FAILED, reason);
  }

  /** Submits two windows (seeds 1 and 2), asserts both are embedded and returns them in order. */
  private static List<float[]> assertPairEmbedded(BatchingEngine engine) throws Exception {
    float[] a = window(400, 1);
    float[] b = window(400, 2);
    CompletableFuture<float[]> fa = engine.submit(a);
    CompletableFuture<float[]> fb = engine.submit(b);
    assertEmbedded(a, fa);
    assertEmbedded(b, fb);
    return List.of(a, b);
  }

  private static int batchesHolding(ScriptedEmbedder embedder, float[] window) {
    int n = 0;
    for (List<float[]> batch : embedder.batches()) {
      for (float[] w : batch) {
        n += w == window ? 1 : 0;
      }
    }
    return n;
  }

  private static float[] poisoned(long seed) {
    float[] w = window(400, seed);
    w[0] = POISON;
    return w;
  }

  private static double count(MeterRegistry r, String name) {
    return r.get(name).counter().count();
  }

  @Test
  void aPoisonWindowFailsAloneAndItsCompanionsAreEmbedded() throws Exception {
    InferenceException rejected = new InferenceException("model rejected poisoned window", false);
    ScriptedEmbedder embedder = failingOnPoison(() -> rejected);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            pairs(registry, RetryPolicy.of(3, Duration.ZERO, 1.0, Duration.ZERO))
                .maxBatchWindows(4)
                .build())) {
      float[] a = window(400, 1);
      float[] poison = poisoned(2);
      float[] c = window(400, 3);
      float[] d = window(400, 4);
      WindowTag poisonTag = WindowTag.of("task-0_1", "call-7/ch0/segment-3");
      CompletableFuture<float[]> fa = engine.submit(a, WindowTag.of("task-0_1", "a"));
      CompletableFuture<float[]> fPoison = engine.submit(poison, poisonTag);
      CompletableFuture<float[]> fc = engine.submit(c, WindowTag.of("task-0_2", "c"));
      CompletableFuture<float[]> fd = engine.submit(d);

      assertEmbedded(a, fa);
      assertEmbedded(c, fc);
      assertEmbedded(d, fd);
      PoisonWindowException p = assertInstanceOf(PoisonWindowException.class, failureOf(fPoison));
      assertSame(rejected, p.getCause(), "the embedder's failure of the window alone");
      assertEquals(poisonTag, p.tag());
      assertEquals(400, p.lengthSamples());
      assertFalse(p.isTransient());
      assertTrue(p.getMessage().contains("call-7/ch0/segment-3"), p.getMessage());
      // [a p c d] fails, [a p] fails, [p] fails: the poison window ends alone, once.
      assertEquals(3, batchesHolding(embedder, poison));
      for (List<float[]> batch : embedder.batches()) {
        assertTrue(batch.size() <= 4);
      }
      assertEquals(0.0, count(registry, BatcherMetricNames.RETRIES), "non-transient: no retry");

      // The engine stays usable.
      float[] e = window(400, 5);
      CompletableFuture<float[]> fe = engine.submit(e);
      engine.submit(window(400, 6));
      engine.submit(window(400, 7));
      engine.submit(window(400, 8));
      assertEmbedded(e, fe);

      assertEquals(1.0, count(registry, BatcherMetricNames.POISON));
      assertEquals(1.0, reason(registry, BatcherMetricNames.REASON_POISON));
      assertEquals(0.0, reason(registry, BatcherMetricNames.REASON_INFERENCE));
      assertEquals(0.0, count(registry, BatcherMetricNames.OUTAGES));
      assertEquals(2.0, count(registry, BatcherMetricNames.SPLITS)); // 4 -> 2 + 2, 2 -> 1 + 1
      assertEquals(3.0, count(registry, BatcherMetricNames.BATCH_FAILURES));
      assertEquals(7.0, count(registry, BatcherMetricNames.WINDOWS));
      assertTrue(engine.health().isReady());
    }
  }

  @Test
  void aLoneWindowThatFailsIsPoisonOnlyIfTheModelEmbedsTheProbe() throws Exception {
    ScriptedEmbedder embedder = failingOnPoison(() -> new InferenceException("too short", false));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            pairs(registry, RetryPolicy.none())
                .maxBatchWindows(1)
                .maxDelay(Duration.ZERO)
                .canaryWindowSamples(800)
                .build())) {
      float[] poison = poisoned(1);
      PoisonWindowException p =
          assertInstanceOf(PoisonWindowException.class, failureOf(engine.submit(poison)));
      assertEquals(WindowTag.NONE, p.tag());
      List<List<float[]>> batches = embedder.batches();
      assertEquals(2, batches.size());
      assertEquals(800, batches.get(1).get(0).length, "before any success: silence as the probe");
      assertEquals(1.0, count(registry, BatcherMetricNames.PROBES));

      // After a success the probe is a copy of that first embedded window.
      float[] good = window(400, 2);
      engine.submit(good).get(WAIT_S, TimeUnit.SECONDS);
      assertInstanceOf(PoisonWindowException.class, failureOf(engine.submit(poisoned(3))));
      float[] probe = embedder.batches().get(4).get(0);
      assertArrayEquals(good, probe);
      assertFalse(probe == good, "the engine probes with its own copy");
    }
  }

  @Test
  void aModelThatFailsEverythingIsAnOutageRetriedWithBackoffThenFailsPermanently()
      throws Exception {
    InferenceException deviceLost = new InferenceException("device lost", false);
    java.util.concurrent.atomic.AtomicBoolean down =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  if (down.get()) {
                    throw deviceLost;
                  }
                  return null;
                });
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            onlyOutageRetries(
                registry, RetryPolicy.of(3, Duration.ofMillis(40), 2.0, Duration.ofMillis(80))))) {
      CompletableFuture<float[]> fa = engine.submit(window(400, 1));
      CompletableFuture<float[]> fb = engine.submit(window(400, 2));
      Throwable failure = failureOf(fa);
      assertSame(deviceLost, failure, "an outage fails with the embedder's own exception");
      assertSame(deviceLost, failureOf(fb));
      // 3 runs of the batch, each followed by a failed probe; never split.
      assertEquals(6, embedder.calls());
      List<List<float[]>> batches = embedder.batches();
      for (int i = 0; i < 6; i += 2) {
        assertEquals(2, batches.get(i).size());
        assertEquals(1, batches.get(i + 1).size());
      }
      List<Long> starts = embedder.callStartNanos();
      long firstBackoff = starts.get(2) - starts.get(1);
      long secondBackoff = starts.get(4) - starts.get(3);
      assertTrue(firstBackoff >= TimeUnit.MILLISECONDS.toNanos(40), firstBackoff / 1e6 + " ms");
      assertTrue(secondBackoff >= TimeUnit.MILLISECONDS.toNanos(80), secondBackoff / 1e6 + " ms");
      assertEquals(3.0, count(registry, BatcherMetricNames.OUTAGES));
      assertEquals(0.0, count(registry, BatcherMetricNames.POISON));
      assertEquals(0.0, count(registry, BatcherMetricNames.SPLITS));
      assertEquals(2.0, reason(registry, BatcherMetricNames.REASON_INFERENCE));
      EngineHealth h = engine.health();
      assertTrue(h.modelOutage());
      assertTrue(h.isLive());
      assertFalse(h.isReady());
      assertTrue(h.sinceLastSuccess().isEmpty());

      // The model comes back: the outage ends with the first success.
      down.set(false);
      float[] c = window(400, 3);
      CompletableFuture<float[]> fc = engine.submit(c);
      engine.submit(window(400, 4));
      assertEmbedded(c, fc);
      assertTrue(engine.health().isReady());
      assertTrue(engine.health().sinceLastSuccess().isPresent());
    }
  }

  @Test
  void anOutageThatEndsWithinTheRetriesLosesNoWindow() throws Exception {
    ScriptedEmbedder embedder = failingFirstCalls(3, "driver reset", false);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            onlyOutageRetries(
                registry, RetryPolicy.of(5, Duration.ofMillis(1), 1.0, Duration.ofMillis(1))))) {
      assertPairEmbedded(engine);
      // batch, probe (outage), batch, probe ok -> split: a, b
      assertEquals(6, embedder.calls());
      assertEquals(1.0, count(registry, BatcherMetricNames.OUTAGES));
      assertEquals(0.0, count(registry, BatcherMetricNames.POISON));
      assertEquals(2.0, count(registry, BatcherMetricNames.WINDOWS));
    }
  }

  @Test
  void transientFailuresAreRetriedPerPolicyUntilSuccess() throws Exception {
    ScriptedEmbedder embedder = failingFirstCalls(2, "CUDA out of memory", true);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            pairs(registry, RetryPolicy.of(3, Duration.ofMillis(1), 2.0, Duration.ofMillis(5)))
                .build())) {
      List<float[]> pair = assertPairEmbedded(engine);
      assertEquals(3, embedder.calls());
      for (List<float[]> batch : embedder.batches()) {
        DispatchTest.assertSameWindows(pair, batch); // the same batch, run again
      }
      assertEquals(2.0, count(registry, BatcherMetricNames.RETRIES));
      assertEquals(0.0, count(registry, BatcherMetricNames.BATCH_FAILURES));
      assertEquals(3, registry.get(BatcherMetricNames.INFERENCE).timer().count());
      assertEquals(1, registry.get(BatcherMetricNames.BATCH_SIZE).summary().count());
    }
  }

  @Test
  void transientFailuresGiveUpAfterMaxAttempts() throws Exception {
    InferenceException oom = new InferenceException("CUDA out of memory", true);
    ScriptedEmbedder embedder =
        new ScriptedEmbedder().script(ScriptedEmbedder.failingEveryCall(() -> oom));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            pairs(registry, RetryPolicy.of(4, Duration.ofMillis(1), 1.0, Duration.ofMillis(1)))
                .build())) {
      CompletableFuture<float[]> fa = engine.submit(window(400, 1));
      CompletableFuture<float[]> fb = engine.submit(window(400, 2));
      assertSame(oom, failureOf(fa));
      assertSame(oom, failureOf(fb));
      assertEquals(8, embedder.calls(), "4 attempts of the batch, then 4 of the probe");
      assertEquals(6.0, count(registry, BatcherMetricNames.RETRIES));
      assertEquals(1.0, count(registry, BatcherMetricNames.BATCH_FAILURES));
      assertEquals(1.0, count(registry, BatcherMetricNames.OUTAGES));
    }
  }

  @Test
  void noRetryPolicyFailsATransientErrorAtOnce() throws Exception {
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(ScriptedEmbedder.failingEveryCall(() -> new InferenceException("busy", true)));
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, pairs(new SimpleMeterRegistry(), RetryPolicy.none()).build())) {
      CompletableFuture<float[]> fa = engine.submit(window(400, 1));
      engine.submit(window(400, 2));
      assertTrue(((InferenceException) failureOf(fa)).isTransient());
      assertEquals(2, embedder.calls(), "the batch once, the probe once");
    }
  }

  @Test
  void runtimeExceptionFromTheEmbedderIsAFailureNotRetriedAsTransient() throws Exception {
    IllegalStateException bug = new IllegalStateException("cannot handle this input");
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  if (ScriptedEmbedder.holdsMarked(windows, POISON)) {
                    throw bug;
                  }
                  return null;
                });
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, pairs(new SimpleMeterRegistry(), RetryPolicy.defaults()).build())) {
      float[] a = window(400, 1);
      CompletableFuture<float[]> fa = engine.submit(a);
      CompletableFuture<float[]> fb = engine.submit(poisoned(2));
      assertEmbedded(a, fa);
      PoisonWindowException p = assertInstanceOf(PoisonWindowException.class, failureOf(fb));
      InferenceException e = assertInstanceOf(InferenceException.class, p.getCause());
      assertSame(bug, e.getCause());
      assertFalse(e.isTransient());
      assertTrue(e.getMessage().contains("IllegalStateException"), e.getMessage());
      // [a p] fails, probe, [a] ok, [p] fails, probe: a RuntimeException is never retried.
      assertEquals(5, embedder.calls());
    }
  }

  @Test
  void wrongNumberOfVectorsIsAFailureWithAClearMessage() throws Exception {
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) ->
                    windows.get(windows.size() - 1)[0] == POISON ? new float[0][] : null);
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, pairs(new SimpleMeterRegistry(), RetryPolicy.defaults()).build())) {
      CompletableFuture<float[]> fa = engine.submit(window(400, 1));
      CompletableFuture<float[]> fb = engine.submit(poisoned(2));
      fa.get(WAIT_S, TimeUnit.SECONDS);
      PoisonWindowException p = assertInstanceOf(PoisonWindowException.class, failureOf(fb));
      InferenceException e = assertInstanceOf(InferenceException.class, p.getCause());
      assertTrue(
          e.getMessage().contains("returned 0 vectors for a batch of 1 windows; expected 1"),
          e.getMessage());
      assertFalse(e.isTransient());
    }
  }

  @Test
  void wrongVectorLengthIsAFailureWithAClearMessage() throws Exception {
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  float[][] out = self.compute(windows);
                  for (int i = 0; i < out.length; i++) {
                    if (windows.get(i)[0] == POISON) {
                      out[i] = new float[3];
                    }
                  }
                  return out;
                });
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, pairs(new SimpleMeterRegistry(), RetryPolicy.defaults()).build())) {
      CompletableFuture<float[]> fa = engine.submit(window(400, 1));
      CompletableFuture<float[]> fb = engine.submit(poisoned(2));
      fa.get(WAIT_S, TimeUnit.SECONDS);
      PoisonWindowException p = assertInstanceOf(PoisonWindowException.class, failureOf(fb));
      assertTrue(
          p.getCause()
              .getMessage()
              .contains("a vector of 3 floats for window 0 of a batch of 1; expected 5"),
          p.getCause().getMessage());
    }
  }

  @Test
  void retryPolicyBackoffGrowsAndIsCapped() {
    RetryPolicy p = RetryPolicy.of(5, Duration.ofMillis(20), 2.0, Duration.ofMillis(50));
    assertEquals(Duration.ofMillis(20), p.backoffBefore(2));
    assertEquals(Duration.ofMillis(40), p.backoffBefore(3));
    assertEquals(Duration.ofMillis(50), p.backoffBefore(4));
    assertEquals(Duration.ofMillis(50), p.backoffBefore(5));
    assertThrows(IllegalArgumentException.class, () -> p.backoffBefore(1));
    assertThrows(IllegalArgumentException.class, () -> p.backoffBefore(6));
    assertEquals(3, RetryPolicy.defaults().maxAttempts());
    assertEquals(Duration.ofMillis(20), RetryPolicy.defaults().backoffBefore(2));
    assertEquals(1, RetryPolicy.none().maxAttempts());
    assertThrows(
        IllegalArgumentException.class, () -> RetryPolicy.of(0, Duration.ZERO, 1.0, Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class,
        () -> RetryPolicy.of(2, Duration.ofMillis(-1), 1.0, Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class, () -> RetryPolicy.of(2, Duration.ZERO, 0.5, Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class,
        () -> RetryPolicy.of(2, Duration.ofMillis(10), 1.0, Duration.ofMillis(5)));
  }

  @Test
  void onlyPoisonWindowsFailUnderConcurrentLoad() throws Exception {
    ScriptedEmbedder embedder = failingOnPoison(() -> new InferenceException("poison", false));
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            BatchingOptions.builder()
                .modelName("fail")
                .maxBatchWindows(4)
                .maxDelay(Duration.ofMillis(1))
                .workers(2)
                .retryPolicy(RetryPolicy.none())
                .build())) {
      List<float[]> windows = new ArrayList<>();
      List<CompletableFuture<float[]>> futures = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        float[] w = i % 17 == 0 ? poisoned(i) : window(400, i);
        windows.add(w);
        futures.add(engine.submit(w, WindowTag.of("owner", "w" + i)));
      }
      int failed = 0;
      for (int i = 0; i < windows.size(); i++) {
        CompletableFuture<float[]> f = futures.get(i);
        if (i % 17 == 0) {
          failed++;
          PoisonWindowException p = assertInstanceOf(PoisonWindowException.class, failureOf(f));
          assertEquals("w" + i, p.tag().windowId());
        } else {
          assertEmbedded(windows.get(i), f);
        }
      }
      // Exactly the poisoned windows failed, whatever batches they shared.
      assertEquals(12, failed);
    }
  }
}
