package io.callvec.model.batch;

import static io.callvec.model.batch.EngineChecks.WAIT_S;
import static io.callvec.model.batch.EngineChecks.assertEmbedded;
import static io.callvec.model.batch.EngineChecks.fillQueueOfTwo;
import static io.callvec.model.batch.ScriptedEmbedder.window;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Non-blocking and bounded submission, and the capacity signal, for the stream thread. */
class SubmissionTest {
  /**
   * Capacity 2, batches of 1, greedy, and a submit timeout far longer than the test: any submit
   * that waited for room would fail the test by its timeout.
   */
  private static BatchingOptions.Builder tinyQueue() {
    return EngineChecks.queueOfTwo("try")
        .submitTimeout(Duration.ofMinutes(10))
        .retryPolicy(RetryPolicy.none());
  }

  private static void awaitCapacity(BatchingEngine engine, int windows)
      throws InterruptedException {
    EngineChecks.awaitTrue(
        () -> engine.remainingCapacity() >= windows, "room for " + windows + " windows");
    assertEquals(windows, engine.remainingCapacity());
  }

  @Test
  void trySubmitNeverWaitsRefusesWhenFullAndCapacityTellsWhenToComeBack() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (BatchingEngine engine =
        new BatchingEngine(embedder, tinyQueue().meterRegistry(registry).build())) {
      assertEquals(2, engine.remainingCapacity());
      List<float[]> windows = new ArrayList<>();
      List<CompletableFuture<float[]>> futures = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        windows.add(window(400, i));
        Admission a = engine.trySubmit(windows.get(i), WindowTag.of("0_1", "w" + i));
        assertTrue(a.isAccepted(), "window " + i);
        futures.add(a.future());
        if (i == 0) {
          embedder.awaitEntered(1); // running, held at the gate: the next two fill the queue
        }
      }
      assertEquals(0, engine.remainingCapacity());

      Admission refused =
          assertTimeoutPreemptively(
              Duration.ofSeconds(WAIT_S),
              () -> engine.trySubmit(window(400, 9), WindowTag.of("0_1", "w9")));
      assertFalse(refused.isAccepted());
      assertThrows(IllegalStateException.class, refused::future);
      EngineChecks.assertOneQueueFullRefusal(engine, registry);

      embedder.openGate();
      EngineChecks.assertAllEmbedded(windows, futures);
      awaitCapacity(engine, 2);
      float[] later = window(400, 9);
      Admission again = engine.trySubmit(later, WindowTag.of("0_1", "w9"));
      assertTrue(again.isAccepted());
      assertEmbedded(later, again.future());
    }
  }

  @Test
  void aBoundedSubmitWaitsAtMostItsOwnBound() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    try (BatchingEngine engine = new BatchingEngine(embedder, tinyQueue().build())) {
      fillQueueOfTwo(engine, embedder);
      long t0 = System.nanoTime();
      QueueFullException e =
          assertTimeoutPreemptively(
              Duration.ofSeconds(WAIT_S),
              () ->
                  assertThrows(
                      QueueFullException.class,
                      () -> engine.submit(window(400, 4), WindowTag.NONE, Duration.ofMillis(200))));
      long waitedNanos = System.nanoTime() - t0;
      assertTrue(
          waitedNanos >= TimeUnit.MILLISECONDS.toNanos(200), "gave up after " + waitedNanos / 1e6);
      assertEquals(Duration.ofMillis(200), e.waited());
      assertEquals(2, engine.queuedWindows());
      assertThrows(
          IllegalArgumentException.class,
          () -> engine.submit(window(400, 5), WindowTag.NONE, Duration.ofMillis(-1)));
      embedder.openGate();
    }
  }

  @Test
  void aBoundedSubmitTakesRoomThatAppearsDuringItsWait() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    try (BatchingEngine engine = new BatchingEngine(embedder, tinyQueue().build())) {
      fillQueueOfTwo(engine, embedder);
      float[] w = window(400, 4);
      CompletableFuture<CompletableFuture<float[]>> waiting =
          CompletableFuture.supplyAsync(
              () -> engine.submit(w, WindowTag.NONE, Duration.ofSeconds(WAIT_S)));
      embedder.openGate();
      assertEmbedded(w, waiting.get(WAIT_S, TimeUnit.SECONDS));
    }
  }

  @Test
  void trySubmitAfterShutdownThrowsEngineClosed() {
    BatchingEngine engine = new BatchingEngine(new ScriptedEmbedder(), tinyQueue().build());
    engine.close();
    assertThrows(
        EngineClosedException.class, () -> engine.trySubmit(window(400, 1), WindowTag.NONE));
    assertEquals(0, engine.remainingCapacity());
  }
}
