package io.callvec.model.batch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Ticker} that moves only when a test advances it, and counts its readings so that a test
 * can wait until the engine has looked at the clock again (instead of sleeping).
 */
final class ManualTicker implements Ticker {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final AtomicLong reads = new AtomicLong();

  @Override
  public long nanoTime() {
    reads.incrementAndGet();
    return nanos.get();
  }

  void advance(long byNanos) {
    nanos.addAndGet(byNanos);
  }

  void advance(Duration by) {
    advance(by.toNanos());
  }

  /** Readings so far. */
  long reads() {
    return reads.get();
  }

  /** Waits (polling, 10 s deadline) until the ticker has been read {@code more} times after now. */
  void awaitMoreReads(int more) throws InterruptedException {
    long target = reads.get() + more;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (reads.get() < target && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertTrue(reads.get() >= target, "the engine did not read its ticker " + more + " more times");
  }
}
