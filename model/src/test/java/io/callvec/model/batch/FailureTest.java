package io.callvec.model.batch;

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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class FailureTest {
  private static final long WAIT_S = 10;
  private static final float POISON = 0.987654f;

  /** Batches of exactly 2 (a 600 s delay: only the size trigger), fast retries. */
  private static BatchingOptions.Builder pairs(MeterRegistry registry, RetryPolicy retry) {
    return BatchingOptions.builder()
        .modelName("fail")
        .maxBatchWindows(2)
        .maxDelay(Duration.ofSeconds(600))
        .retryPolicy(retry)
        .meterRegistry(registry);
  }

  private static float[] poisoned(long seed) {
    float[] w = window(400, seed);
    w[0] = POISON;
    return w;
  }

  private static Throwable failureOf(CompletableFuture<float[]> f) {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> f.get(WAIT_S, TimeUnit.SECONDS));
    return e.getCause();
  }

  private static double count(MeterRegistry r, String name) {
    return r.get(name).counter().count();
  }

  @Test
  void aFailingBatchFailsExactlyItsWindowsAndTheEngineStaysUsable() throws Exception {
    AtomicReference<InferenceException> thrown = new AtomicReference<>();
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  for (float[] w : windows) {
                    if (w[0] == POISON) {
                      InferenceException e =
                          new InferenceException("model rejected poisoned window", false);
                      thrown.set(e);
                      throw e;
                    }
                  }
                  return null;
                });
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            pairs(registry, RetryPolicy.of(3, Duration.ZERO, 1.0, Duration.ZERO)).build())) {
      float[] a = window(400, 1);
      float[] poison = poisoned(2);
      float[] c = window(400, 3);
      float[] d = window(400, 4);
      CompletableFuture<float[]> fa = engine.submit(a);
      CompletableFuture<float[]> fPoison = engine.submit(poison);
      CompletableFuture<float[]> fc = engine.submit(c);
      CompletableFuture<float[]> fd = engine.submit(d);

      Throwable failure = failureOf(fa);
      assertSame(thrown.get(), failure, "the embedder's own exception, unwrapped");
      assertSame(failure, failureOf(fPoison));
      assertFalse(((InferenceException) failure).isTransient());
      assertArrayEquals(ScriptedEmbedder.vectorOf(c), fc.get(WAIT_S, TimeUnit.SECONDS));
      assertArrayEquals(ScriptedEmbedder.vectorOf(d), fd.get(WAIT_S, TimeUnit.SECONDS));
      assertEquals(2, embedder.calls(), "a non-transient failure must not be retried");

      float[] e = window(400, 5);
      float[] f = window(400, 6);
      CompletableFuture<float[]> fe = engine.submit(e);
      CompletableFuture<float[]> ff = engine.submit(f);
      assertArrayEquals(ScriptedEmbedder.vectorOf(e), fe.get(WAIT_S, TimeUnit.SECONDS));
      assertArrayEquals(ScriptedEmbedder.vectorOf(f), ff.get(WAIT_S, TimeUnit.SECONDS));

      assertEquals(1.0, count(registry, BatcherMetricNames.BATCH_FAILURES));
      assertEquals(
          2.0,
          registry
              .get(BatcherMetricNames.WINDOWS_FAILED)
              .tag(BatcherMetricNames.TAG_REASON, BatcherMetricNames.REASON_INFERENCE)
              .counter()
              .count());
      assertEquals(4.0, count(registry, BatcherMetricNames.WINDOWS));
      assertEquals(0.0, count(registry, BatcherMetricNames.RETRIES));
    }
  }

  @Test
  void transientFailuresAreRetriedPerPolicyUntilSuccess() throws Exception {
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  if (call <= 2) {
                    throw new InferenceException("CUDA out of memory (attempt " + call + ")", true);
                  }
                  return null;
                });
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            pairs(registry, RetryPolicy.of(3, Duration.ofMillis(1), 2.0, Duration.ofMillis(5)))
                .build())) {
      float[] a = window(400, 1);
      float[] b = window(400, 2);
      CompletableFuture<float[]> fa = engine.submit(a);
      CompletableFuture<float[]> fb = engine.submit(b);
      assertArrayEquals(ScriptedEmbedder.vectorOf(a), fa.get(WAIT_S, TimeUnit.SECONDS));
      assertArrayEquals(ScriptedEmbedder.vectorOf(b), fb.get(WAIT_S, TimeUnit.SECONDS));
      assertEquals(3, embedder.calls());
      for (List<float[]> batch : embedder.batches()) {
        DispatchTest.assertSameWindows(List.of(a, b), batch); // the same batch, run again
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
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  throw oom;
                });
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
      assertEquals(4, embedder.calls());
      assertEquals(3.0, count(registry, BatcherMetricNames.RETRIES));
      assertEquals(1.0, count(registry, BatcherMetricNames.BATCH_FAILURES));
    }
  }

  @Test
  void noRetryPolicyFailsATransientErrorAtOnce() throws Exception {
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  throw new InferenceException("busy", true);
                });
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, pairs(new SimpleMeterRegistry(), RetryPolicy.none()).build())) {
      CompletableFuture<float[]> fa = engine.submit(window(400, 1));
      engine.submit(window(400, 2));
      assertTrue(((InferenceException) failureOf(fa)).isTransient());
      assertEquals(1, embedder.calls());
    }
  }

  @Test
  void runtimeExceptionFromTheEmbedderFailsTheBatchOnly() throws Exception {
    IllegalStateException bug = new IllegalStateException("session closed");
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  if (call == 1) {
                    throw bug;
                  }
                  return null;
                });
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, pairs(new SimpleMeterRegistry(), RetryPolicy.defaults()).build())) {
      CompletableFuture<float[]> fa = engine.submit(window(400, 1));
      CompletableFuture<float[]> fb = engine.submit(window(400, 2));
      InferenceException e = assertInstanceOf(InferenceException.class, failureOf(fa));
      assertSame(bug, e.getCause());
      assertFalse(e.isTransient());
      assertTrue(e.getMessage().contains("IllegalStateException"), e.getMessage());
      assertSame(e, failureOf(fb));
      assertEquals(1, embedder.calls(), "a RuntimeException is not retried");
      float[] c = window(400, 3);
      CompletableFuture<float[]> fc = engine.submit(c);
      engine.submit(window(400, 4));
      assertArrayEquals(ScriptedEmbedder.vectorOf(c), fc.get(WAIT_S, TimeUnit.SECONDS));
    }
  }

  @Test
  void anErrorFromTheEmbedderFailsTheBatchAndKeepsTheWorker() throws Exception {
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  if (call == 1) {
                    throw new StackOverflowError("deep");
                  }
                  return null;
                });
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, pairs(new SimpleMeterRegistry(), RetryPolicy.defaults()).build())) {
      CompletableFuture<float[]> fa = engine.submit(window(400, 1));
      engine.submit(window(400, 2));
      assertInstanceOf(StackOverflowError.class, failureOf(fa).getCause());
      float[] c = window(400, 3);
      CompletableFuture<float[]> fc = engine.submit(c);
      engine.submit(window(400, 4));
      assertArrayEquals(ScriptedEmbedder.vectorOf(c), fc.get(WAIT_S, TimeUnit.SECONDS));
    }
  }

  @Test
  void wrongNumberOfVectorsFailsTheBatchWithAClearMessage() throws Exception {
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) ->
                    call == 1 ? new float[][] {self.compute(windows)[0]} : null);
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, pairs(new SimpleMeterRegistry(), RetryPolicy.defaults()).build())) {
      CompletableFuture<float[]> fa = engine.submit(window(400, 1));
      engine.submit(window(400, 2));
      InferenceException e = assertInstanceOf(InferenceException.class, failureOf(fa));
      assertTrue(
          e.getMessage().contains("returned 1 vectors for a batch of 2 windows; expected 2"),
          e.getMessage());
      assertFalse(e.isTransient());
      assertEquals(1, embedder.calls());
    }
  }

  @Test
  void wrongVectorLengthFailsTheBatchWithAClearMessage() throws Exception {
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  float[][] out = self.compute(windows);
                  out[1] = new float[3];
                  return out;
                });
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, pairs(new SimpleMeterRegistry(), RetryPolicy.defaults()).build())) {
      CompletableFuture<float[]> fa = engine.submit(window(400, 1));
      CompletableFuture<float[]> fb = engine.submit(window(400, 2));
      InferenceException e = assertInstanceOf(InferenceException.class, failureOf(fa));
      assertTrue(
          e.getMessage().contains("a vector of 3 floats for window 1 of a batch of 2; expected 5"),
          e.getMessage());
      assertSame(e, failureOf(fb));
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
  void independentBatchesFailIndependentlyUnderConcurrentLoad() throws Exception {
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  for (float[] w : windows) {
                    if (w[0] == POISON) {
                      throw new InferenceException("poison", false);
                    }
                  }
                  return null;
                });
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
        futures.add(engine.submit(w));
      }
      int failed = 0;
      for (int i = 0; i < windows.size(); i++) {
        CompletableFuture<float[]> f = futures.get(i);
        try {
          assertArrayEquals(
              ScriptedEmbedder.vectorOf(windows.get(i)), f.get(WAIT_S, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
          failed++;
          assertInstanceOf(InferenceException.class, e.getCause());
        }
      }
      // Exactly the windows that shared a batch with a poisoned one failed.
      int expectedFailed = 0;
      for (List<float[]> batch : embedder.batches()) {
        boolean poisonedBatch = false;
        for (float[] w : batch) {
          poisonedBatch |= w[0] == POISON;
        }
        if (poisonedBatch) {
          expectedFailed += batch.size();
        }
      }
      assertEquals(expectedFailed, failed);
      assertTrue(failed >= 12 && failed < 200, "failed " + failed);
    }
  }
}
