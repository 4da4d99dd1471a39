package io.callvec.model.batch;

import static io.callvec.model.batch.EngineChecks.WAIT_S;
import static io.callvec.model.batch.EngineChecks.assertEmbedded;
import static io.callvec.model.batch.EngineChecks.fillQueueOfTwo;
import static io.callvec.model.batch.ScriptedEmbedder.window;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class BackpressureTest {
  /** Capacity 2, batches of 1, greedy: one window runs (held at the gate), two fill the queue. */
  private static BatchingOptions.Builder tinyQueue() {
    return EngineChecks.queueOfTwo("bp").retryPolicy(RetryPolicy.none());
  }

  @Test
  void submitBlocksForTheTimeoutThenFailsWithQueueFull() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            tinyQueue().submitTimeout(Duration.ofMillis(300)).meterRegistry(registry).build())) {
      List<CompletableFuture<float[]>> accepted = fillQueueOfTwo(engine, embedder);
      long t0 = System.nanoTime();
      QueueFullException e =
          assertThrows(QueueFullException.class, () -> engine.submit(window(400, 4)));
      long blockedNanos = System.nanoTime() - t0;
      assertTrue(
          blockedNanos >= TimeUnit.MILLISECONDS.toNanos(300),
          "gave up after " + blockedNanos / 1e6 + " ms of a 300 ms submit timeout");
      assertTrue(blockedNanos < TimeUnit.SECONDS.toNanos(WAIT_S));
      assertEquals(2, e.queueCapacityWindows());
      assertEquals(Duration.ofMillis(300), e.waited());
      assertTrue(e.getMessage().contains("2 windows queued"), e.getMessage());
      EngineChecks.assertOneQueueFullRefusal(engine, registry);
      embedder.openGate();
      EngineChecks.awaitAll(accepted);
      assertEquals(3, embedder.calls());
    }
  }

  @Test
  void zeroSubmitTimeoutFailsAtOnce() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    try (BatchingEngine engine =
        new BatchingEngine(embedder, tinyQueue().submitTimeout(Duration.ZERO).build())) {
      fillQueueOfTwo(engine, embedder);
      assertThrows(QueueFullException.class, () -> engine.submit(window(400, 4)));
      embedder.openGate();
    }
  }

  @Test
  void blockedSubmitProceedsWhenRoomFreesUp() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (BatchingEngine engine =
        new BatchingEngine(embedder, tinyQueue().submitTimeout(Duration.ofSeconds(60)).build())) {
      List<CompletableFuture<float[]>> accepted = fillQueueOfTwo(engine, embedder);
      float[] late = window(400, 4);
      AtomicReference<Thread> submitter = new AtomicReference<>();
      Future<CompletableFuture<float[]>> blocked =
          pool.submit(
              () -> {
                submitter.set(Thread.currentThread());
                return engine.submit(late);
              });
      awaitParked(submitter);
      assertFalse(blocked.isDone(), "submit returned although the queue is full");
      assertEquals(2, engine.queuedWindows());
      embedder.openGate();
      assertEmbedded(late, blocked.get(WAIT_S, TimeUnit.SECONDS));
      EngineChecks.awaitAll(accepted);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void shutdownWakesABlockedSubmitterWithEngineClosed() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    BatchingEngine engine =
        new BatchingEngine(embedder, tinyQueue().submitTimeout(Duration.ofSeconds(60)).build());
    try {
      fillQueueOfTwo(engine, embedder);
      AtomicReference<Thread> submitter = new AtomicReference<>();
      Future<CompletableFuture<float[]>> blocked =
          pool.submit(
              () -> {
                submitter.set(Thread.currentThread());
                return engine.submit(window(400, 4));
              });
      awaitParked(submitter);
      CompletableFuture<Boolean> drained =
          CompletableFuture.supplyAsync(() -> engine.shutdown(Duration.ofSeconds(WAIT_S)));
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> blocked.get(WAIT_S, TimeUnit.SECONDS));
      assertInstanceOf(EngineClosedException.class, e.getCause());
      embedder.openGate();
      assertTrue(drained.get(WAIT_S, TimeUnit.SECONDS));
    } finally {
      embedder.openGate();
      pool.shutdownNow();
      engine.shutdown(Duration.ZERO);
    }
  }

  @Test
  void interruptedSubmitterGetsSubmitInterruptedAndKeepsItsFlag() throws Exception {
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    try (BatchingEngine engine =
        new BatchingEngine(embedder, tinyQueue().submitTimeout(Duration.ofSeconds(60)).build())) {
      fillQueueOfTwo(engine, embedder);
      AtomicReference<Throwable> thrown = new AtomicReference<>();
      AtomicBoolean flagAfter = new AtomicBoolean();
      AtomicReference<Thread> submitter = new AtomicReference<>();
      Thread t =
          new Thread(
              () -> {
                submitter.set(Thread.currentThread());
                try {
                  engine.submit(window(400, 4));
                } catch (RuntimeException e) {
                  thrown.set(e);
                  flagAfter.set(Thread.currentThread().isInterrupted());
                }
              });
      t.start();
      awaitParked(submitter);
      t.interrupt();
      t.join(TimeUnit.SECONDS.toMillis(WAIT_S));
      assertInstanceOf(SubmitInterruptedException.class, thrown.get());
      assertTrue(flagAfter.get(), "interrupt flag must be restored");
      assertEquals(2, engine.queuedWindows());
      embedder.openGate();
    }
  }

  @Test
  void floodOfSubmittersNeverGrowsTheQueueBeyondItsCapacity() throws Exception {
    int capacity = 8;
    int threads = 4;
    int perThread = 100;
    AtomicInteger maxQueuedSeenByEmbedder = new AtomicInteger();
    AtomicReference<BatchingEngine> engineRef = new AtomicReference<>();
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .script(
                (windows, call, self) -> {
                  maxQueuedSeenByEmbedder.accumulateAndGet(
                      engineRef.get().queuedWindows(), Math::max);
                  try {
                    Thread.sleep(1); // slower than the submitters: the queue fills up
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  return null;
                });
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            BatchingOptions.builder()
                .modelName("flood")
                .maxBatchWindows(4)
                .maxDelay(Duration.ofMillis(1))
                .queueCapacityWindows(capacity)
                .submitTimeout(Duration.ofSeconds(60))
                .build())) {
      engineRef.set(engine);
      List<Future<List<CompletableFuture<float[]>>>> submitted = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        submitted.add(
            pool.submit(
                () -> {
                  List<CompletableFuture<float[]>> fs = new ArrayList<>();
                  for (int i = 0; i < perThread; i++) {
                    fs.add(engine.submit(window(320, thread * 1000L + i)));
                  }
                  return fs;
                }));
      }
      int completed = 0;
      for (Future<List<CompletableFuture<float[]>>> s : submitted) {
        for (CompletableFuture<float[]> f : s.get(60, TimeUnit.SECONDS)) {
          f.get(WAIT_S, TimeUnit.SECONDS);
          completed++;
        }
      }
      assertEquals(threads * perThread, completed);
      assertTrue(
          maxQueuedSeenByEmbedder.get() <= capacity,
          "queue grew to " + maxQueuedSeenByEmbedder.get());
      assertTrue(
          maxQueuedSeenByEmbedder.get() >= capacity - 4,
          "the flood never filled the queue ("
              + maxQueuedSeenByEmbedder.get()
              + "): backpressure not exercised");
    } finally {
      pool.shutdownNow();
    }
  }

  /** Waits until the thread is blocked inside submit (parked on the queue's condition). */
  private static void awaitParked(AtomicReference<Thread> ref) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
    while (System.nanoTime() < deadline) {
      Thread t = ref.get();
      if (t != null) {
        Thread.State s = t.getState();
        if (s == Thread.State.TIMED_WAITING || s == Thread.State.WAITING) {
          return;
        }
      }
      Thread.sleep(5);
    }
    throw new AssertionError("submitter never blocked");
  }
}
