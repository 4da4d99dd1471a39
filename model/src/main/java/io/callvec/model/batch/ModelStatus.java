package io.callvec.model.batch;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one embedder has shown lately: a count of its successful {@code embedBatch} calls (the
 * evidence that it serves input), when it last succeeded, whether it is in an outage, and a
 * known-good window to probe it with. Thread-safe; shared by the workers of that embedder.
 */
final class ModelStatus {
  private final AtomicLong successes = new AtomicLong();
  private final Ticker ticker;
  private final long startNanos;
  private final int defaultCanarySamples;
  private volatile long lastSuccessNanos;
  private volatile boolean everSucceeded;
  private volatile boolean outage;
  private volatile float[] canary;

  ModelStatus(Ticker ticker, int defaultCanarySamples) {
    this.ticker = ticker;
    this.startNanos = ticker.nanoTime();
    this.defaultCanarySamples = defaultCanarySamples;
  }

  /** Successful calls so far; a later, larger value proves the embedder served input meanwhile. */
  long successes() {
    return successes.get();
  }

  /**
   * Records a success. The first success keeps a copy of one of its windows as the canary (the
   * caller may reuse its arrays once its future completes, so the engine cannot keep a reference).
   */
  void succeeded(List<float[]> windows) {
    if (canary == null && !windows.isEmpty()) {
      canary = windows.get(0).clone();
    }
    lastSuccessNanos = ticker.nanoTime();
    everSucceeded = true;
    outage = false;
    successes.incrementAndGet();
  }

  /**
   * A window this embedder is expected to embed: a copy of the first window it embedded, or, before
   * any success, {@code defaultCanarySamples} samples of silence.
   */
  float[] canary() {
    float[] c = canary;
    return c != null ? c : new float[defaultCanarySamples];
  }

  void outage() {
    outage = true;
  }

  boolean inOutage() {
    return outage;
  }

  /** Ticker reading of the last success, or of the start if none. */
  long lastProgressNanos() {
    return everSucceeded ? lastSuccessNanos : startNanos;
  }

  boolean everSucceeded() {
    return everSucceeded;
  }
}
