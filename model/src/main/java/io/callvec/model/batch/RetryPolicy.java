package io.callvec.model.batch;

import java.time.Duration;
import java.util.Objects;

/**
 * How often, and after which waits, a batch is run again. As {@link BatchingOptions#retryPolicy()}
 * it repeats one {@code embedBatch} call that failed with a <em>transient</em> {@link
 * io.callvec.model.InferenceException} ({@code isTransient() == true}); non-transient failures,
 * {@link RuntimeException}s thrown by the embedder and malformed results are not repeated by it but
 * go straight to the engine's failure isolation (split, probe). As {@link
 * BatchingOptions#outageRetryPolicy()} it re-runs a batch while the model fails a known-good probe
 * too (see "Failures" in {@link BatchingEngine}).
 *
 * <p>Attempt {@code k} (k &ge; 2) is started after a backoff of {@code initialBackoff *
 * multiplier^(k-2)}, capped at {@code maxBackoff}. The worker that ran the batch waits out the
 * backoff itself (the device is what failed, so the other queued work waits too); a shutdown that
 * gives up on in-flight work cuts the wait short.
 *
 * <p>Immutable; the canonical constructor validates like {@link #of}.
 *
 * @param maxAttempts total runs of one batch, the first included (1 = no retry)
 * @param initialBackoff wait before the second attempt
 * @param multiplier growth factor of the wait per further attempt (&ge; 1.0)
 * @param maxBackoff cap of any single wait
 */
public record RetryPolicy(
    int maxAttempts, Duration initialBackoff, double multiplier, Duration maxBackoff) {
  private static final RetryPolicy NONE = new RetryPolicy(1, Duration.ZERO, 1.0, Duration.ZERO);
  private static final RetryPolicy DEFAULTS =
      new RetryPolicy(3, Duration.ofMillis(20), 2.0, Duration.ofSeconds(1));

  /**
   * @throws IllegalArgumentException if a value is outside the ranges of {@link #of}
   */
  public RetryPolicy {
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    if (maxAttempts < 1 || maxAttempts > 100) {
      throw new IllegalArgumentException(
          "maxAttempts must be in [1, 100] (1 = no retry), found " + maxAttempts);
    }
    if (initialBackoff.isNegative()) {
      throw new IllegalArgumentException("initialBackoff must be >= 0, found " + initialBackoff);
    }
    if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
      throw new IllegalArgumentException(
          "multiplier must be a finite number >= 1.0, found " + multiplier);
    }
    if (maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "maxBackoff (" + maxBackoff + ") must be >= initialBackoff (" + initialBackoff + ")");
    }
  }

  /**
   * A policy.
   *
   * @param maxAttempts total runs of one batch, first included: 1 means no retry; 1 to 100
   * @param initialBackoff wait before the second attempt, &ge; 0
   * @param multiplier growth of the wait per further attempt, &ge; 1.0
   * @param maxBackoff cap of any single wait, &ge; initialBackoff
   * @throws IllegalArgumentException if a value is outside the ranges above
   */
  public static RetryPolicy of(
      int maxAttempts, Duration initialBackoff, double multiplier, Duration maxBackoff) {
    return new RetryPolicy(maxAttempts, initialBackoff, multiplier, maxBackoff);
  }

  /** One attempt only: a transient failure fails the batch like any other. */
  public static RetryPolicy none() {
    return NONE;
  }

  /** The default: 3 attempts in all, waits of 20 ms then 40 ms (doubling, capped at 1 s). */
  public static RetryPolicy defaults() {
    return DEFAULTS;
  }

  /**
   * The wait before attempt number {@code attempt}.
   *
   * @param attempt 2 to {@link #maxAttempts()}
   * @throws IllegalArgumentException if {@code attempt} is outside that range
   */
  public Duration backoffBefore(int attempt) {
    if (attempt < 2 || attempt > maxAttempts) {
      throw new IllegalArgumentException(
          "attempt must be in [2, " + maxAttempts + "] for a backoff, found " + attempt);
    }
    double nanos = initialBackoff.toNanos() * Math.pow(multiplier, attempt - 2);
    long cap = maxBackoff.toNanos();
    return Duration.ofNanos(nanos >= cap ? cap : (long) nanos);
  }
}
