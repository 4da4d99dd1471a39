package io.callvec.model.batch;

/**
 * A monotonic nanosecond time source for the batcher's max-delay decisions and its timing metrics.
 *
 * <p>Production code uses {@link #SYSTEM} ({@link System#nanoTime()}). Tests may pass a manual
 * ticker to make delay-triggered dispatch deterministic: workers re-read the ticker at least every
 * max delay of real time, so advancing a manual ticker is noticed within one max delay. The submit
 * timeout (backpressure) and shutdown timeouts are always real time.
 */
@FunctionalInterface
public interface Ticker {

  /** The system's monotonic clock. */
  Ticker SYSTEM = System::nanoTime;

  /**
   * Current time in nanoseconds from an arbitrary origin; only differences between two readings are
   * meaningful (as with {@link System#nanoTime()}).
   */
  long nanoTime();
}
