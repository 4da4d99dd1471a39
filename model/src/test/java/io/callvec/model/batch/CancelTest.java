package io.callvec.model.batch;

import static io.callvec.model.batch.EngineChecks.WAIT_S;
import static io.callvec.model.batch.EngineChecks.assertEmbedded;
import static io.callvec.model.batch.ScriptedEmbedder.window;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CancelTest {
  @Test
  void cancelWithdrawsOnlyTheOwnersQueuedWindows() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, EngineChecks.pairsOnly("cancel").meterRegistry(registry).build())) {
      // A running pair, one window of each owner, held at the gate.
      float[] a0 = window(400, 100);
      float[] b0 = window(400, 200);
      CompletableFuture<float[]> fa0 = engine.submit(a0, WindowTag.of("A", "a0"));
      CompletableFuture<float[]> fb0 = engine.submit(b0, WindowTag.of("B", "b0"));
      embedder.awaitEntered(1);
      List<float[]> aWindows = new ArrayList<>();
      List<CompletableFuture<float[]>> aFutures = new ArrayList<>();
      List<float[]> bWindows = new ArrayList<>();
      List<CompletableFuture<float[]>> bFutures = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        boolean ownerA = i % 2 == 0; // A, B, A, B, A
        float[] w = window(400, i);
        CompletableFuture<float[]> f = engine.submit(w, WindowTag.of(ownerA ? "A" : "B", "w" + i));
        (ownerA ? aWindows : bWindows).add(w);
        (ownerA ? aFutures : bFutures).add(f);
      }
      assertEquals(5, engine.queuedWindows());
      int capacity = engine.options().queueCapacityWindows();
      assertEquals(capacity - 5, engine.remainingCapacity());

      assertEquals(3, engine.cancel("A"));
      assertEquals(2, engine.queuedWindows());
      assertEquals(capacity - 2, engine.remainingCapacity(), "cancelled windows free their room");
      for (CompletableFuture<float[]> f : aFutures) {
        assertTrue(f.isCancelled());
        assertThrows(CancellationException.class, () -> f.get(WAIT_S, TimeUnit.SECONDS));
      }
      assertEquals(0, engine.cancel("A"), "nothing left to cancel");
      assertEquals(0, engine.cancel("C"));

      embedder.openGate();
      assertEmbedded(a0, fa0);
      assertEmbedded(b0, fb0);
      EngineChecks.assertAllEmbedded(bWindows, bFutures);
      List<List<float[]>> batches = embedder.batches();
      assertEquals(2, batches.size());
      DispatchTest.assertSameWindows(bWindows, batches.get(1));
      for (List<float[]> batch : batches) {
        for (float[] w : batch) {
          for (float[] cancelled : aWindows) {
            assertNotSame(cancelled, w, "a cancelled window reached the embedder");
          }
        }
      }
      assertEquals(3.0, registry.get(BatcherMetricNames.CANCELLED).counter().count());
      assertEquals(4.0, registry.get(BatcherMetricNames.WINDOWS).counter().count());
      assertThrows(NullPointerException.class, () -> engine.cancel(null));
    }
  }
}
