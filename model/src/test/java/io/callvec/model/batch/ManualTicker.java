package io.callvec.model.batch;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A {@link Ticker} that moves only when a test advances it. */
final class ManualTicker implements Ticker {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

  @Override
  public long nanoTime() {
    return nanos.get();
  }

  void advance(long byNanos) {
    nanos.addAndGet(byNanos);
  }

  void advance(Duration by) {
    advance(by.toNanos());
  }
}
