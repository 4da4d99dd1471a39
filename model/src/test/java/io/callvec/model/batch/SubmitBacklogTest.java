package io.callvec.model.batch;

import static io.callvec.model.batch.EngineChecks.WAIT_S;
import static io.callvec.model.batch.EngineChecks.assertEmbedded;
import static io.callvec.model.batch.ScriptedEmbedder.window;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SubmitBacklogTest {
  @Test
  void windowsThatFindNoRoomWaitInOrderAndGoWhenThereIsRoom() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    Map<Integer, float[]> store = new HashMap<>();
    Map<Integer, CompletableFuture<float[]>> accepted = new LinkedHashMap<>();
    List<Integer> loaded = new ArrayList<>();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            EngineChecks.queueOfTwo("backlog")
                .submitTimeout(Duration.ofMinutes(10)) // a blocking submit would fail the test
                .build())) {
      SubmitBacklog<Integer> backlog =
          new SubmitBacklog<>(
              engine,
              "0_4",
              key -> {
                loaded.add(key);
                return store.get(key);
              },
              accepted::put);
      for (int i = 0; i < 8; i++) {
        store.put(i, window(400, i));
      }
      assertTimeoutPreemptively(
          Duration.ofSeconds(WAIT_S),
          () -> {
            assertTrue(backlog.submit(0, "w0", store.get(0)));
            embedder.awaitEntered(1); // running at the gate
            assertTrue(backlog.submit(1, "w1", store.get(1)));
            assertTrue(backlog.submit(2, "w2", store.get(2)));
            for (int i = 3; i < 8; i++) {
              assertFalse(backlog.submit(i, "w" + i, store.get(i)), "no room for " + i);
            }
          });
      assertEquals(5, backlog.size());
      assertEquals(List.of(0, 1, 2), List.copyOf(accepted.keySet()));
      assertTrue(loaded.isEmpty(), "windows offered with their audio are not loaded again");

      embedder.openGate();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
      while (backlog.size() > 0 && System.nanoTime() < deadline) {
        backlog.drain(); // what the stream's punctuator does
        Thread.sleep(1);
      }
      assertEquals(0, backlog.size());
      assertEquals(List.of(3, 4, 5, 6, 7), loaded, "deferred windows are loaded oldest first");
      for (int i = 0; i < 8; i++) {
        assertEmbedded(store.get(i), accepted.get(i));
      }
      // The embedder saw them in the order they were offered.
      List<List<float[]>> batches = embedder.batches();
      for (int i = 0; i < 8; i++) {
        assertSame(store.get(i), batches.get(i).get(0));
      }
    }
  }

  @Test
  void cancelAllForgetsDeferredWindowsAndWithdrawsQueuedOnes() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    Map<Integer, CompletableFuture<float[]>> accepted = new HashMap<>();
    try (BatchingEngine engine =
        new BatchingEngine(embedder, EngineChecks.queueOfTwo("backlog").build())) {
      SubmitBacklog<Integer> mine =
          new SubmitBacklog<>(engine, "A", k -> window(400, k), accepted::put);
      mine.submit(0, "w0", window(400, 0));
      embedder.awaitEntered(1);
      mine.submit(1, "w1", window(400, 1));
      mine.submit(2, "w2", window(400, 2));
      mine.submit(3, "w3", window(400, 3));
      assertEquals(1, mine.size());
      assertEquals(2, mine.cancelAll());
      assertEquals(0, mine.size());
      assertTrue(accepted.get(1).isCancelled());
      assertTrue(accepted.get(2).isCancelled());
      embedder.openGate();
      accepted.get(0).get(WAIT_S, TimeUnit.SECONDS); // the running window completes
      assertEquals(0, mine.drain());
      assertEquals(1, embedder.calls());
    }
  }
}
