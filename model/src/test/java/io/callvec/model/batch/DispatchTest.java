package io.callvec.model.batch;

import static io.callvec.model.batch.EngineChecks.WAIT_S;
import static io.callvec.model.batch.EngineChecks.assertAllEmbedded;
import static io.callvec.model.batch.EngineChecks.assertEmbedded;
import static io.callvec.model.batch.EngineChecks.submitAll;
import static io.callvec.model.batch.ScriptedEmbedder.window;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DispatchTest {
  private static BatchingOptions.Builder options() {
    return BatchingOptions.builder().modelName("test").retryPolicy(RetryPolicy.none());
  }

  /** Lanes of 2 windows that become ready after 10 ms of {@code ticker} time. */
  private static BatchingEngine pairLanes(ScriptedEmbedder embedder, ManualTicker ticker) {
    return new BatchingEngine(
        embedder,
        options().maxBatchWindows(2).maxDelay(Duration.ofMillis(10)).ticker(ticker).build());
  }

  /**
   * Occupies the only worker with a lone 500-sample window (ready after 10 ms of ticker time), held
   * at the embedder's closed gate. Returns its future.
   */
  private static CompletableFuture<float[]> occupyWorker(
      BatchingEngine engine, ScriptedEmbedder embedder, ManualTicker ticker)
      throws InterruptedException {
    CompletableFuture<float[]> blocker = engine.submit(window(500, 0));
    ticker.advance(Duration.ofMillis(10));
    embedder.awaitEntered(1);
    return blocker;
  }

  @Test
  void fullBatchIsDispatchedWithoutWaitingForTheDelay() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder();
    BatchingEngine engine =
        new BatchingEngine(
            embedder, options().maxBatchWindows(4).maxDelay(Duration.ofSeconds(600)).build());
    List<float[]> windows = ScriptedEmbedder.windows(4, 1600, 0);
    List<CompletableFuture<float[]>> futures = submitAll(engine, windows);
    // A 600 s delay: only the size trigger can complete these within the wait.
    CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]))
        .get(WAIT_S, TimeUnit.SECONDS);
    assertEquals(1, embedder.batches().size());
    assertSameWindows(windows, embedder.batches().get(0));
    assertAllEmbedded(windows, futures);

    // A fifth, lone window is not dispatched: the lane is neither full nor old enough. Proof: a
    // younger lane that fills up is dispatched while the lone window waits (ready lanes go oldest
    // first, so the lone one would have gone first had it been ready).
    float[] lone = window(1600, 99);
    CompletableFuture<float[]> loneFuture = engine.submit(lone);
    List<float[]> younger = ScriptedEmbedder.windows(4, 800, 200);
    List<CompletableFuture<float[]>> youngerFutures = submitAll(engine, younger);
    CompletableFuture.allOf(youngerFutures.toArray(new CompletableFuture<?>[0]))
        .get(WAIT_S, TimeUnit.SECONDS);
    assertEquals(2, embedder.calls());
    assertSameWindows(younger, embedder.batches().get(1));
    assertFalse(loneFuture.isDone());
    assertEquals(1, engine.queuedWindows());

    // Shutdown drains it without waiting for the delay.
    assertTrue(engine.shutdown(Duration.ofSeconds(WAIT_S)));
    assertArrayEquals(ScriptedEmbedder.vectorOf(lone), loneFuture.getNow(null));
    assertEquals(3, embedder.calls());
  }

  @Test
  void loneWindowIsDispatchedWhenItHasWaitedMaxDelayAndNotBefore() throws Exception {
    ManualTicker ticker = new ManualTicker();
    ScriptedEmbedder embedder = new ScriptedEmbedder();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            options()
                .maxBatchWindows(4)
                .maxDelay(Duration.ofMillis(50))
                .ticker(ticker)
                .meterRegistry(registry)
                .build())) {
      float[] w = window(800, 1);
      CompletableFuture<float[]> f = engine.submit(w);
      // Real time passes, the engine's clock does not: workers re-check it every 50 ms. After three
      // more readings the worker has decided at least twice with this clock; had it dispatched,
      // the embedder would have been entered before the third reading (the inference timer's).
      ticker.awaitMoreReads(3);
      assertEquals(0, embedder.calls());
      ticker.advance(Duration.ofMillis(49));
      ticker.awaitMoreReads(3);
      assertEquals(0, embedder.calls(), "dispatched after 49 ms of a 50 ms max delay");
      assertFalse(f.isDone());
      ticker.advance(Duration.ofMillis(1));
      assertEmbedded(w, f);
      assertEquals(1, embedder.calls());
      assertEquals(1, embedder.batches().get(0).size());
      assertEquals(
          50.0,
          registry
              .get(BatcherMetricNames.QUEUE_WAIT)
              .tag("model", "test")
              .timer()
              .totalTime(TimeUnit.MILLISECONDS),
          1e-9);
    }
  }

  @Test
  void loneWindowWaitsAtLeastMaxDelayInRealTime() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, options().maxBatchWindows(8).maxDelay(Duration.ofMillis(120)).build())) {
      long t0 = System.nanoTime();
      CompletableFuture<float[]> f = engine.submit(window(400, 3));
      f.get(WAIT_S, TimeUnit.SECONDS);
      long waitedNanos = embedder.callStartNanos().get(0) - t0;
      assertTrue(
          waitedNanos >= TimeUnit.MILLISECONDS.toNanos(120),
          "dispatched after " + waitedNanos / 1e6 + " ms, before the 120 ms max delay");
      assertTrue(
          waitedNanos < TimeUnit.SECONDS.toNanos(WAIT_S),
          "dispatched after " + waitedNanos / 1e6 + " ms");
    }
  }

  @Test
  void zeroMaxDelayDispatchesALoneWindowAtOnce() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder();
    ManualTicker ticker = new ManualTicker(); // never advanced: only greediness can dispatch
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            options().maxBatchWindows(8).maxDelay(Duration.ZERO).ticker(ticker).build())) {
      float[] w = window(400, 4);
      assertEmbedded(w, engine.submit(w));
      assertEquals(1, embedder.batches().get(0).size());
    }
  }

  @Test
  void oneBatchMixesWindowsOfSeveralSubmittingThreads() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder();
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            options().maxBatchWindows(threads).maxDelay(Duration.ofSeconds(600)).build())) {
      CountDownLatch start = new CountDownLatch(1);
      List<float[]> windows = new ArrayList<>();
      List<Future<CompletableFuture<float[]>>> submitted = new ArrayList<>();
      Set<String> submitterThreads = Collections.synchronizedSet(new java.util.HashSet<>());
      for (int t = 0; t < threads; t++) {
        float[] w = window(1600, 100 + t);
        windows.add(w);
        submitted.add(
            pool.submit(
                () -> {
                  start.await();
                  submitterThreads.add(Thread.currentThread().getName());
                  return engine.submit(w);
                }));
      }
      start.countDown();
      for (int t = 0; t < threads; t++) {
        float[] v = submitted.get(t).get(WAIT_S, TimeUnit.SECONDS).get(WAIT_S, TimeUnit.SECONDS);
        assertArrayEquals(ScriptedEmbedder.vectorOf(windows.get(t)), v);
      }
      assertEquals(threads, submitterThreads.size());
      // With a 600 s delay only a full batch could run: all four threads' windows in one batch.
      assertEquals(1, embedder.batches().size());
      assertSameWindowSet(windows, embedder.batches().get(0));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void windowsOfDifferentLengthsNeverShareABatch() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder(false).closeGate();
    int[] lengths = {1600, 2400, 3200};
    Map<Integer, Integer> perLength = new HashMap<>();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            options()
                .maxBatchWindows(4)
                .maxDelay(Duration.ofMillis(5))
                .queueCapacityWindows(200)
                .build())) {
      // Occupy the worker so that everything below is queued before any dispatch.
      CompletableFuture<float[]> blocker = engine.submit(window(800, 0));
      embedder.awaitEntered(1);
      Random rnd = new Random(7);
      List<float[]> windows = new ArrayList<>();
      List<CompletableFuture<float[]>> futures = new ArrayList<>();
      for (int i = 0; i < 90; i++) {
        int len = lengths[rnd.nextInt(lengths.length)];
        perLength.merge(len, 1, Integer::sum);
        float[] w = window(len, 1000 + i);
        windows.add(w);
        futures.add(engine.submit(w));
      }
      embedder.openGate();
      blocker.get(WAIT_S, TimeUnit.SECONDS);
      // Had two lengths shared a batch, the fixed-length embedder would have failed it.
      assertAllEmbedded(windows, futures);
      int expectedBatches = 1;
      for (int n : perLength.values()) {
        expectedBatches += (n + 3) / 4;
      }
      List<List<float[]>> batches = embedder.batches();
      assertEquals(expectedBatches, batches.size());
      for (List<float[]> batch : batches) {
        for (float[] w : batch) {
          assertEquals(batch.get(0).length, w.length, "a batch mixed window lengths");
        }
      }
      assertEquals(3, perLength.size());
    }
  }

  @Test
  void mixedLengthEmbedderGetsDifferentLengthsInOneBatch() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder(true);
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, options().maxBatchWindows(3).maxDelay(Duration.ofSeconds(600)).build())) {
      List<float[]> windows = List.of(window(1000, 1), window(2000, 2), window(3000, 3));
      assertAllEmbedded(windows, submitAll(engine, windows));
      assertEquals(1, embedder.batches().size());
      assertSameWindows(windows, embedder.batches().get(0));
    }
  }

  @Test
  void readyLanesGoOldestFirst() throws Exception {
    ManualTicker ticker = new ManualTicker();
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    try (BatchingEngine engine = pairLanes(embedder, ticker)) {
      CompletableFuture<float[]> blocker = occupyWorker(engine, embedder, ticker);
      float[] old = window(1000, 1); // lane 1000: one window, becomes ready by delay
      engine.submit(old);
      ticker.advance(Duration.ofMillis(1));
      float[] b1 = window(2000, 2); // lane 2000: full, ready by size, younger
      float[] b2 = window(2000, 3);
      engine.submit(b1);
      engine.submit(b2);
      ticker.advance(Duration.ofMillis(15)); // the old lone window has now waited 16 ms
      embedder.openGate();
      blocker.get(WAIT_S, TimeUnit.SECONDS);
      awaitCalls(embedder, 3);
      List<List<float[]>> batches = embedder.batches();
      assertSameWindows(List.of(old), batches.get(1));
      assertSameWindows(List.of(b1, b2), batches.get(2));
    }
  }

  @Test
  void aFullLaneOvertakesAnOlderLaneThatIsNotReadyYet() throws Exception {
    ManualTicker ticker = new ManualTicker();
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    try (BatchingEngine engine = pairLanes(embedder, ticker)) {
      CompletableFuture<float[]> blocker = occupyWorker(engine, embedder, ticker);
      float[] old = window(1000, 1);
      CompletableFuture<float[]> oldFuture = engine.submit(old);
      float[] b1 = window(2000, 2);
      float[] b2 = window(2000, 3);
      CompletableFuture<float[]> bFuture = engine.submit(b1);
      engine.submit(b2);
      embedder.openGate();
      blocker.get(WAIT_S, TimeUnit.SECONDS);
      bFuture.get(WAIT_S, TimeUnit.SECONDS);
      assertSameWindows(List.of(b1, b2), embedder.batches().get(1));
      assertFalse(oldFuture.isDone(), "the lone window has waited 0 of its 10 ms");
      ticker.advance(Duration.ofMillis(10));
      oldFuture.get(WAIT_S, TimeUnit.SECONDS);
      assertSameWindows(List.of(old), embedder.batches().get(2));
    }
  }

  @Test
  void resultsAreIdenticalToUnbatchedCalls() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    ScriptedEmbedder reference = new ScriptedEmbedder();
    int threads = 4;
    int perThread = 60;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            options()
                .maxBatchWindows(8)
                .maxDelay(Duration.ofMillis(2))
                .queueCapacityWindows(threads * perThread)
                .build())) {
      CompletableFuture<float[]> blocker = engine.submit(window(100, 0));
      embedder.awaitEntered(1);
      List<Future<List<Object[]>>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        results.add(
            pool.submit(
                () -> {
                  Random rnd = new Random(thread);
                  List<Object[]> pairs = new ArrayList<>();
                  for (int i = 0; i < perThread; i++) {
                    float[] w = window(rnd.nextBoolean() ? 8000 : 16000, thread * 1000L + i);
                    pairs.add(new Object[] {w, engine.submit(w)});
                  }
                  return pairs;
                }));
      }
      List<Object[]> all = new ArrayList<>();
      for (Future<List<Object[]>> r : results) {
        all.addAll(r.get(WAIT_S, TimeUnit.SECONDS));
      }
      embedder.openGate();
      blocker.get(WAIT_S, TimeUnit.SECONDS);
      for (Object[] pair : all) {
        float[] w = (float[]) pair[0];
        @SuppressWarnings("unchecked")
        CompletableFuture<float[]> f = (CompletableFuture<float[]>) pair[1];
        float[] unbatched = reference.embedBatch(List.of(w))[0];
        assertArrayEquals(unbatched, f.get(WAIT_S, TimeUnit.SECONDS));
      }
      int windowsSeen = 0;
      int largest = 0;
      for (List<float[]> b : embedder.batches()) {
        windowsSeen += b.size();
        largest = Math.max(largest, b.size());
      }
      assertEquals(threads * perThread + 1, windowsSeen);
      assertEquals(8, largest, "windows queued behind a busy worker must form full batches");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void severalWorkersShareOneEmbedderConcurrently() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder, options().maxBatchWindows(1).maxDelay(Duration.ZERO).workers(3).build())) {
      assertEquals(3, engine.workerCount());
      List<CompletableFuture<float[]>> futures =
          submitAll(engine, ScriptedEmbedder.windows(3, 400, 0));
      embedder.awaitEntered(3);
      assertEquals(3, embedder.maxConcurrent());
      assertEquals(3, engine.inFlightWindows());
      embedder.openGate();
      for (CompletableFuture<float[]> f : futures) {
        f.get(WAIT_S, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void oneWorkerPerEmbedderByDefault() throws Exception {
    ScriptedEmbedder gpu0 = new ScriptedEmbedder().closeGate();
    ScriptedEmbedder gpu1 = new ScriptedEmbedder().closeGate();
    try (BatchingEngine engine =
        new BatchingEngine(
            List.of(gpu0, gpu1), options().maxBatchWindows(1).maxDelay(Duration.ZERO).build())) {
      assertEquals(2, engine.workerCount());
      CompletableFuture<float[]> a = engine.submit(window(400, 1));
      CompletableFuture<float[]> b = engine.submit(window(400, 2));
      gpu0.awaitEntered(1);
      gpu1.awaitEntered(1);
      gpu0.openGate();
      gpu1.openGate();
      a.get(WAIT_S, TimeUnit.SECONDS);
      b.get(WAIT_S, TimeUnit.SECONDS);
      assertEquals(1, gpu0.calls());
      assertEquals(1, gpu1.calls());
    }
  }

  @Test
  void completionExecutorCompletesTheFutures() throws Exception {
    ExecutorService completer =
        Executors.newSingleThreadExecutor(r -> new Thread(r, "test-completer"));
    // The batch is held until the dependent stage is attached, so the stage runs where the future
    // is completed, not on this thread (which it would if the future were already complete).
    CountDownLatch attached = new CountDownLatch(1);
    ScriptedEmbedder gated =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  try {
                    attached.await(WAIT_S, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  return null;
                });
    try (BatchingEngine engine =
        new BatchingEngine(
            gated,
            options()
                .maxBatchWindows(1)
                .maxDelay(Duration.ZERO)
                .completionExecutor(completer)
                .build())) {
      CompletableFuture<String> thread =
          engine.submit(window(400, 1)).thenApply(v -> Thread.currentThread().getName());
      attached.countDown();
      assertEquals("test-completer", thread.get(WAIT_S, TimeUnit.SECONDS));
    } finally {
      completer.shutdownNow();
    }
  }

  @Test
  void submitRejectsEmptyAndNullWindows() {
    try (BatchingEngine engine = new BatchingEngine(new ScriptedEmbedder(), options().build())) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> engine.submit(new float[0]));
      assertTrue(e.getMessage().contains("found 0"), e.getMessage());
      assertThrows(NullPointerException.class, () -> engine.submit(null));
      assertEquals(0, engine.queuedWindows());
    }
  }

  @Test
  void constructorRejectsInconsistentEmbedders() {
    BatchingOptions o = options().build();
    assertThrows(IllegalArgumentException.class, () -> new BatchingEngine(List.of(), o));
    IllegalArgumentException mismatch =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new BatchingEngine(List.of(new ScriptedEmbedder(), new ScriptedEmbedder(true)), o));
    assertTrue(mismatch.getMessage().contains("acceptsMixedLengths"), mismatch.getMessage());
    IllegalArgumentException tooFewWorkers =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new BatchingEngine(
                    List.of(new ScriptedEmbedder(), new ScriptedEmbedder()),
                    options().workers(1).build()));
    assertTrue(tooFewWorkers.getMessage().contains("workers (1)"), tooFewWorkers.getMessage());
  }

  static void assertSameWindows(List<float[]> expected, List<float[]> actual) {
    assertEquals(expected.size(), actual.size(), "batch size");
    for (int i = 0; i < actual.size(); i++) {
      assertSame(expected.get(i), actual.get(i), "submit order kept within a batch");
    }
  }

  /** Same windows (by identity), any order: submitters race. */
  static void assertSameWindowSet(List<float[]> expected, List<float[]> actual) {
    assertEquals(expected.size(), actual.size(), "batch size");
    Set<float[]> e = Collections.newSetFromMap(new IdentityHashMap<>());
    e.addAll(expected);
    Set<float[]> a = Collections.newSetFromMap(new IdentityHashMap<>());
    a.addAll(actual);
    assertEquals(e, a);
  }

  static void awaitCalls(ScriptedEmbedder embedder, int calls) throws InterruptedException {
    EngineChecks.awaitTrue(() -> embedder.calls() >= calls, calls + " embedBatch calls");
    assertEquals(calls, embedder.calls());
  }
}
