package io.callvec.model.batch;

import static io.callvec.model.batch.ScriptedEmbedder.window;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Assertions and waits shared by the batcher tests. Every wait is bounded by {@link #WAIT_S} and
 * polls; none decides a result by sleeping a fixed time.
 */
final class EngineChecks {
  /** How long any single wait of a batcher test may take, in seconds. */
  static final long WAIT_S = 10;

  private EngineChecks() {}

  /** The cause a future failed with, within {@link #WAIT_S}. */
  static Throwable failureOf(CompletableFuture<float[]> f) {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> f.get(WAIT_S, TimeUnit.SECONDS));
    return e.getCause();
  }

  /** The future completes within {@link #WAIT_S} with the reference vector of {@code window}. */
  static void assertEmbedded(float[] window, CompletableFuture<float[]> f) throws Exception {
    assertArrayEquals(ScriptedEmbedder.vectorOf(window), f.get(WAIT_S, TimeUnit.SECONDS));
  }

  /** {@link #assertEmbedded} for each window and the future at the same index. */
  static void assertAllEmbedded(List<float[]> windows, List<CompletableFuture<float[]>> futures)
      throws Exception {
    assertEquals(windows.size(), futures.size(), "one future per window");
    for (int i = 0; i < windows.size(); i++) {
      assertEmbedded(windows.get(i), futures.get(i));
    }
  }

  /** Submits the windows in order; returns their futures in the same order. */
  static List<CompletableFuture<float[]>> submitAll(BatchingEngine engine, List<float[]> windows) {
    List<CompletableFuture<float[]>> futures = new ArrayList<>();
    for (float[] w : windows) {
      futures.add(engine.submit(w));
    }
    return futures;
  }

  /** Waits for every future to complete normally, each within {@link #WAIT_S}. */
  static void awaitAll(List<CompletableFuture<float[]>> futures) throws Exception {
    for (CompletableFuture<float[]> f : futures) {
      f.get(WAIT_S, TimeUnit.SECONDS);
    }
  }

  /**
   * Polls {@code condition} every 2 ms until it holds or {@link #WAIT_S} passes, then asserts it.
   */
  static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(2);
    }
    assertTrue(condition.getAsBoolean(), what + " within " + WAIT_S + " s");
  }

  /** The count of the counter {@code name} tagged with {@code reason}. */
  static double reasonCount(MeterRegistry registry, String name, String reason) {
    return registry.get(name).tag(BatcherMetricNames.TAG_REASON, reason).counter().count();
  }

  /** The queue still holds 2 windows, and {@code registry} counted one queue-full refusal. */
  static void assertOneQueueFullRefusal(BatchingEngine engine, MeterRegistry registry) {
    assertEquals(2, engine.queuedWindows(), "a refused window must not be queued");
    assertEquals(
        1.0,
        reasonCount(registry, BatcherMetricNames.REJECTED, BatcherMetricNames.REASON_QUEUE_FULL));
  }

  /** Batches of exactly 2: a 600 s max delay leaves only the size trigger within a test. */
  static BatchingOptions.Builder pairsOnly(String model) {
    return BatchingOptions.builder()
        .modelName(model)
        .maxBatchWindows(2)
        .maxDelay(Duration.ofSeconds(600));
  }

  /** Batches of 1, greedy dispatch (no max delay) and room for 2 queued windows. */
  static BatchingOptions.Builder queueOfTwo(String model) {
    return BatchingOptions.builder()
        .modelName(model)
        .maxBatchWindows(1)
        .maxDelay(Duration.ZERO)
        .queueCapacityWindows(2);
  }

  /**
   * With {@link #queueOfTwo} options: submits window 1 (it runs, held at the embedder's closed
   * gate), then windows 2 and 3, which fill the queue. Returns the three futures in submit order.
   */
  static List<CompletableFuture<float[]>> fillQueueOfTwo(
      BatchingEngine engine, ScriptedEmbedder embedder) throws InterruptedException {
    List<CompletableFuture<float[]>> futures = new ArrayList<>();
    futures.add(engine.submit(window(400, 1)));
    embedder.awaitEntered(1);
    futures.add(engine.submit(window(400, 2)));
    futures.add(engine.submit(window(400, 3)));
    assertEquals(2, engine.queuedWindows());
    assertEquals(1, engine.inFlightWindows());
    return futures;
  }
}
