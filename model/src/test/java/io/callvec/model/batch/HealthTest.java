package io.callvec.model.batch;

import static io.callvec.model.batch.EngineChecks.WAIT_S;
import static io.callvec.model.batch.EngineChecks.failureOf;
import static io.callvec.model.batch.ScriptedEmbedder.window;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HealthTest {
  private static final float KILLER = 0.123456f;

  /** Batches of 1, dispatched at once. */
  private static BatchingOptions.Builder loneWindows() {
    return BatchingOptions.builder().modelName("health").maxBatchWindows(1).maxDelay(Duration.ZERO);
  }

  private static void awaitWorkersAlive(BatchingEngine engine, int alive)
      throws InterruptedException {
    EngineChecks.awaitTrue(
        () -> engine.health().workersAlive() == alive, alive + " worker(s) alive");
  }

  @Test
  void anErrorKillsTheWorkerWhichFailsItsBatchAndWithNoWorkerLeftEveryQueuedWindow()
      throws Exception {
    OutOfMemoryError oom = new OutOfMemoryError("native arena exhausted");
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .closeGate()
            .script(
                (windows, call, self) -> {
                  throw oom;
                });
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    BatchingEngine engine =
        new BatchingEngine(
            embedder, EngineChecks.pairsOnly("health").meterRegistry(registry).build());
    assertTrue(engine.isHealthy());
    List<CompletableFuture<float[]>> running = new ArrayList<>();
    running.add(engine.submit(window(400, 1)));
    running.add(engine.submit(window(400, 2)));
    embedder.awaitEntered(1);
    List<CompletableFuture<float[]>> queued = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      queued.add(engine.submit(window(400, 10 + i)));
    }
    embedder.openGate();

    for (CompletableFuture<float[]> f : running) {
      WorkerDiedException e = assertInstanceOf(WorkerDiedException.class, failureOf(f));
      assertSame(oom, e.getCause());
      assertTrue(e.getMessage().contains("callvec-batcher-health-0"), e.getMessage());
    }
    for (CompletableFuture<float[]> f : queued) {
      assertInstanceOf(WorkerDiedException.class, failureOf(f));
    }
    awaitWorkersAlive(engine, 0);
    EngineHealth h = engine.health();
    assertFalse(h.isLive());
    assertFalse(h.isReady());
    assertFalse(engine.isHealthy());
    assertEquals(0, h.queuedWindows());
    assertEquals(0, h.inFlightWindows());
    assertEquals(0, engine.remainingCapacity());
    assertThrows(WorkerDiedException.class, () -> engine.submit(window(400, 20)));
    assertThrows(
        WorkerDiedException.class, () -> engine.trySubmit(window(400, 21), WindowTag.NONE));
    assertEquals(1, embedder.calls(), "an Error is not retried, split or probed");
    assertEquals(1.0, registry.get(BatcherMetricNames.WORKER_DEATHS).counter().count());
    assertEquals(0.0, registry.get(BatcherMetricNames.WORKERS_ALIVE).gauge().value());
    assertEquals(
        5.0,
        EngineChecks.reasonCount(
            registry, BatcherMetricNames.WINDOWS_FAILED, BatcherMetricNames.REASON_WORKER_DIED));
    assertFalse(engine.shutdown(Duration.ofSeconds(WAIT_S)), "windows were lost to a dead worker");
  }

  @Test
  void aDeadWorkerFailsOnlyItsOwnBatchWhileTheOthersKeepServing() throws Exception {
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  if (ScriptedEmbedder.holdsMarked(windows, KILLER)) {
                    throw new AssertionError("corrupted native state");
                  }
                  return null;
                });
    try (BatchingEngine engine = new BatchingEngine(embedder, loneWindows().workers(2).build())) {
      float[] killer = window(400, 1);
      killer[0] = KILLER;
      assertInstanceOf(WorkerDiedException.class, failureOf(engine.submit(killer)));
      awaitWorkersAlive(engine, 1);
      List<float[]> windows = ScriptedEmbedder.windows(6, 400, 10);
      EngineChecks.assertAllEmbedded(windows, EngineChecks.submitAll(engine, windows));
      EngineHealth h = engine.health();
      assertEquals(2, h.workers());
      assertEquals(1, h.workersAlive());
      assertFalse(h.isLive(), "a dead worker is never replaced: restart the process");
    }
  }

  @Test
  void healthReportsTheAgeOfTheLastSuccessAndStalls() throws Exception {
    ManualTicker ticker = new ManualTicker();
    ScriptedEmbedder embedder = new ScriptedEmbedder();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, loneWindows().queueCapacityWindows(4).ticker(ticker).build())) {
      EngineHealth fresh = engine.health();
      assertTrue(fresh.isReady());
      assertTrue(fresh.sinceLastSuccess().isEmpty());
      assertEquals(4, fresh.queueCapacityWindows());
      ticker.advance(Duration.ofSeconds(3));
      assertEquals(Duration.ofSeconds(3), engine.health().sinceProgress());
      assertFalse(engine.health().isStalled(Duration.ofSeconds(1)), "idle is not stalled");

      engine.submit(window(400, 1)).get(WAIT_S, TimeUnit.SECONDS);
      ticker.advance(Duration.ofSeconds(5));
      assertEquals(Optional.of(Duration.ofSeconds(5)), engine.health().sinceLastSuccess());

      embedder.closeGate();
      engine.submit(window(400, 2));
      embedder.awaitEntered(2);
      engine.submit(window(400, 3));
      EngineHealth busy = engine.health();
      assertEquals(1, busy.queuedWindows());
      assertEquals(1, busy.inFlightWindows());
      assertEquals(3, engine.remainingCapacity());
      ticker.advance(Duration.ofSeconds(2));
      assertTrue(engine.health().isStalled(Duration.ofSeconds(6)));
      assertFalse(engine.health().isStalled(Duration.ofSeconds(8)));
      embedder.openGate();
    }
  }
}
