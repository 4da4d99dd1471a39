package io.callvec.model.batch;

import static io.callvec.model.batch.EngineChecks.WAIT_S;
import static io.callvec.model.batch.EngineChecks.failureOf;
import static io.callvec.model.batch.ScriptedEmbedder.window;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.model.InferenceException;
import io.callvec.model.WindowEmbedder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ShutdownTest {
  private static BatchingOptions.Builder options() {
    return EngineChecks.pairsOnly("stop").retryPolicy(RetryPolicy.none());
  }

  @Test
  void shutdownDrainsRunningAndQueuedWorkAndRefusesNewWindows() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    BatchingEngine engine = new BatchingEngine(embedder, options().meterRegistry(registry).build());
    List<float[]> windows = ScriptedEmbedder.windows(5, 400, 0);
    List<CompletableFuture<float[]>> futures =
        new ArrayList<>(EngineChecks.submitAll(engine, windows.subList(0, 2)));
    embedder.awaitEntered(1); // first pair running, held at the gate
    futures.addAll(EngineChecks.submitAll(engine, windows.subList(2, 5)));
    assertEquals(3, engine.queuedWindows()); // a pair and a lone window a 600 s delay would hold
    CompletableFuture<Boolean> drained =
        CompletableFuture.supplyAsync(() -> engine.shutdown(Duration.ofSeconds(60)));
    EngineChecks.awaitTrue(engine::isShutdown, "the engine is shut down");
    EngineClosedException refused =
        assertThrows(EngineClosedException.class, () -> engine.submit(window(400, 9)));
    assertTrue(refused.getMessage().contains("shut down"), refused.getMessage());
    assertFalse(drained.isDone());
    embedder.openGate();
    assertTrue(drained.get(WAIT_S, TimeUnit.SECONDS));
    assertTrue(engine.isTerminated());
    for (int i = 0; i < 5; i++) {
      assertArrayEquals(ScriptedEmbedder.vectorOf(windows.get(i)), futures.get(i).getNow(null));
    }
    List<List<float[]>> batches = embedder.batches();
    assertEquals(3, batches.size());
    DispatchTest.assertSameWindows(windows.subList(0, 2), batches.get(0));
    DispatchTest.assertSameWindows(windows.subList(2, 4), batches.get(1));
    DispatchTest.assertSameWindows(windows.subList(4, 5), batches.get(2));
    assertFalse(embedder.isClosed(), "the engine does not own the embedder by default");
    assertEquals(
        1.0,
        EngineChecks.reasonCount(
            registry, BatcherMetricNames.REJECTED, BatcherMetricNames.REASON_CLOSED));
    assertEquals(5.0, registry.get(BatcherMetricNames.WINDOWS).counter().count());
    assertTrue(
        registry.find(BatcherMetricNames.QUEUE_DEPTH).gauges().isEmpty(),
        "gauges must be removed at shutdown");
    // Idempotent.
    assertTrue(engine.shutdown(Duration.ZERO));
    engine.close();
  }

  @Test
  void drainTimeoutFailsQueuedAndRunningWindowsWithEngineClosed() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    BatchingEngine engine =
        new BatchingEngine(
            embedder,
            options()
                .meterRegistry(registry)
                .ownsEmbedder(true)
                .workerJoinTimeout(Duration.ofMillis(100))
                .build());
    List<CompletableFuture<float[]>> futures = new ArrayList<>();
    try {
      for (int i = 0; i < 5; i++) {
        futures.add(engine.submit(window(400, i)));
        if (i == 1) {
          embedder.awaitEntered(1);
        }
      }
      long t0 = System.nanoTime();
      boolean drained = engine.shutdown(Duration.ofMillis(200));
      long tookNanos = System.nanoTime() - t0;
      assertFalse(drained);
      assertTrue(
          tookNanos >= TimeUnit.MILLISECONDS.toNanos(300), "took " + tookNanos / 1e6 + " ms");
      assertTrue(tookNanos < TimeUnit.SECONDS.toNanos(WAIT_S), "took " + tookNanos / 1e6 + " ms");
      for (int i = 0; i < 5; i++) {
        EngineClosedException e =
            assertInstanceOf(EngineClosedException.class, failureOf(futures.get(i)));
        String expected = i < 2 ? "still running" : "before this window was dispatched";
        assertTrue(e.getMessage().contains(expected), i + ": " + e.getMessage());
      }
      assertEquals(1, embedder.calls(), "queued windows must not run after the drain timeout");
      assertFalse(embedder.isClosed(), "an owned embedder still in use must not be closed");
      assertEquals(
          5.0,
          EngineChecks.reasonCount(
              registry, BatcherMetricNames.WINDOWS_FAILED, BatcherMetricNames.REASON_SHUTDOWN));
      assertEquals(0, engine.queuedWindows());
    } finally {
      embedder.openGate();
    }
    // The stuck worker's late result changes nothing, and it exits without another call.
    EngineChecks.awaitTrue(
        () -> engine.health().workersAlive() == 0, "the released worker must exit");
    assertEquals(1, embedder.calls());
    for (CompletableFuture<float[]> f : futures) {
      assertInstanceOf(EngineClosedException.class, failureOf(f));
    }
  }

  @Test
  void zeroDrainTimeoutFailsQueuedWorkAtOnce() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    BatchingEngine engine =
        new BatchingEngine(
            embedder, options().workerJoinTimeout(Duration.ofSeconds(WAIT_S)).build());
    CompletableFuture<float[]> running = engine.submit(window(400, 1));
    engine.submit(window(400, 2));
    embedder.awaitEntered(1);
    CompletableFuture<float[]> queued = engine.submit(window(400, 3));
    CompletableFuture<Boolean> result =
        CompletableFuture.supplyAsync(() -> engine.shutdown(Duration.ZERO));
    // Failed at once, while the running batch is still held at the gate.
    assertInstanceOf(EngineClosedException.class, failureOf(queued));
    assertInstanceOf(EngineClosedException.class, failureOf(running));
    embedder.openGate();
    assertFalse(result.get(WAIT_S, TimeUnit.SECONDS));
    assertTrue(engine.isTerminated());
  }

  @Test
  void ownedEmbedderIsClosedAfterTheWorkersStop() throws Exception {
    ScriptedEmbedder owned = new ScriptedEmbedder();
    BatchingEngine engine =
        new BatchingEngine(owned, options().maxDelay(Duration.ZERO).ownsEmbedder(true).build());
    engine.submit(window(400, 1)).get(WAIT_S, TimeUnit.SECONDS);
    assertFalse(owned.isClosed());
    engine.close();
    assertTrue(owned.isClosed());

    ScriptedEmbedder notOwned = new ScriptedEmbedder();
    new BatchingEngine(notOwned, options().build()).close();
    assertFalse(notOwned.isClosed());
  }

  @Test
  void owningAnEmbedderThatCannotBeClosedIsRefused() {
    WindowEmbedder plain =
        new WindowEmbedder() {
          @Override
          public float[][] embedBatch(List<float[]> windows) {
            return new float[windows.size()][1];
          }

          @Override
          public boolean acceptsMixedLengths() {
            return false;
          }

          @Override
          public int dimension() {
            return 1;
          }
        };
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new BatchingEngine(plain, options().ownsEmbedder(true).build()));
    assertTrue(e.getMessage().contains("not AutoCloseable"), e.getMessage());
  }

  @Test
  void shutdownCutsARetryBackoffShort() throws Exception {
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                ScriptedEmbedder.failingEveryCall(
                    () -> new InferenceException("device busy", true)));
    BatchingEngine engine =
        new BatchingEngine(
            embedder,
            options()
                .retryPolicy(RetryPolicy.of(5, Duration.ofMinutes(5), 1.0, Duration.ofMinutes(5)))
                .build());
    CompletableFuture<float[]> f = engine.submit(window(400, 1));
    engine.submit(window(400, 2));
    embedder.awaitEntered(1);
    long t0 = System.nanoTime();
    assertFalse(engine.shutdown(Duration.ofMillis(100)));
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(WAIT_S));
    assertInstanceOf(EngineClosedException.class, failureOf(f));
    assertEquals(1, embedder.calls());
    assertTrue(engine.isTerminated());
  }

  @Test
  void shutdownFromACompletionStageOnAWorkerIsRefused() throws Exception {
    try (BatchingEngine engine = new BatchingEngine(new ScriptedEmbedder(), options().build())) {
      // The stage is attached before the batch can run (it needs a second window), so the worker
      // that completes the future runs it.
      CompletableFuture<String> outcome =
          engine
              .submit(window(400, 1))
              .thenApply(
                  v -> {
                    try {
                      engine.shutdown(Duration.ZERO);
                      return "shut down from " + Thread.currentThread().getName();
                    } catch (IllegalStateException e) {
                      return "refused on " + Thread.currentThread().getName();
                    }
                  });
      engine.submit(window(400, 2));
      assertEquals("refused on callvec-batcher-stop-0", outcome.get(WAIT_S, TimeUnit.SECONDS));
      assertFalse(engine.isShutdown());
    }
  }
}
