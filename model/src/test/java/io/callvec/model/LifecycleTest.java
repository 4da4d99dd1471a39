package io.callvec.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Close exactly once, refuse use after close, identical results from concurrent threads. */
class LifecycleTest {
  private static final ModelOptions CPU =
      ModelOptions.builder().provider(ExecutionProvider.cpu()).intraOpThreads(1).build();

  @Test
  void closeIsIdempotentAndLaterCallsThrow() throws Exception {
    EmbeddingModel m = EmbeddingModel.load(Fixtures.model(Fixtures.NO_MASK), CPU);
    float[] w = Fixtures.signal(1, 8000);
    m.embed(w);
    m.close();
    m.close();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.embed(w));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
    assertThrows(IllegalStateException.class, m::ortSession);
    assertThrows(IllegalStateException.class, () -> m.frameFeatures(List.of(w)));
  }

  @Test
  void concurrentCallsGiveTheSameResultsAsSequentialOnes() throws Exception {
    for (String variant : new String[] {Fixtures.NO_MASK, Fixtures.MASK}) {
      try (EmbeddingModel m = EmbeddingModel.load(Fixtures.model(variant), CPU)) {
        int batches = 12;
        List<List<float[]>> inputs = new ArrayList<>();
        List<float[][]> expected = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
          List<float[]> batch = new ArrayList<>();
          for (int i = 0; i <= b % 4; i++) {
            batch.add(Fixtures.signal(b * 10L + i, i == 2 ? 9_999 : 16_000));
          }
          inputs.add(batch);
          expected.add(m.embedBatch(batch));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
          CountDownLatch start = new CountDownLatch(1);
          List<Future<float[][]>> futures = new ArrayList<>();
          for (int rep = 0; rep < 3; rep++) {
            for (int b = 0; b < batches; b++) {
              List<float[]> batch = inputs.get(b);
              futures.add(pool.submit(() -> {
                start.await();
                return m.embedBatch(batch);
              }));
            }
          }
          start.countDown();
          for (int k = 0; k < futures.size(); k++) {
            float[][] got = futures.get(k).get(60, TimeUnit.SECONDS);
            float[][] want = expected.get(k % batches);
            for (int i = 0; i < want.length; i++) {
              assertArrayEquals(want[i], got[i], variant + " batch " + k + " window " + i);
            }
          }
        } finally {
          pool.shutdownNow();
        }
      }
    }
  }

  @Test
  void closeWaitsForRunningCallsAndNothingRunsAfterIt() throws Exception {
    EmbeddingModel m = EmbeddingModel.load(Fixtures.model(Fixtures.NO_MASK), CPU);
    List<float[]> batch = List.of(Fixtures.signal(1, 16_000), Fixtures.signal(2, 16_000));
    float[][] want = m.embedBatch(batch);
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 3; t++) {
        fs.add(pool.submit(() -> {
          for (int i = 0; i < 1_000_000; i++) { // until refused after close
            try {
              float[][] got = m.embedBatch(batch);
              assertArrayEquals(want[0], got[0]);
              ok.incrementAndGet();
            } catch (IllegalStateException e) {
              refused.incrementAndGet();
              return null;
            }
          }
          return null;
        }));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (ok.get() < 5) {
        assertTrue(System.nanoTime() < deadline, "workers made no progress");
        Thread.sleep(1);
      }
      m.close();
      for (Future<?> f : fs) {
        f.get(60, TimeUnit.SECONDS); // a crash in native code or a wrong result fails here
      }
    } finally {
      pool.shutdownNow();
    }
    assertTrue(ok.get() >= 5);
    assertTrue(refused.get() >= 1, "calls after close must be refused");
  }
}
