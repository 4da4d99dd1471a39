package io.callvec.model.batch;

import java.time.Duration;

/**
 * Backpressure: {@link BatchingEngine#submit(float[])} waited the whole submit timeout for room in
 * the queue and found none. The caller should slow down (or fail its task so that it is retried
 * later); nothing of the refused window is kept by the engine.
 */
public class QueueFullException extends BatcherException {
  private final int queueCapacityWindows;
  private final Duration waited;

  public QueueFullException(String model, int queueCapacityWindows, Duration waited) {
    super(
        "batcher queue of model '"
            + model
            + "' stayed full ("
            + queueCapacityWindows
            + " windows queued, the capacity) for the whole submit timeout of "
            + waited.toMillis()
            + " ms: inference is slower than the windows arrive");
    this.queueCapacityWindows = queueCapacityWindows;
    this.waited = waited;
  }

  /** The queue bound that was reached, in windows. */
  public int queueCapacityWindows() {
    return queueCapacityWindows;
  }

  /** How long the submitter was blocked before this exception. */
  public Duration waited() {
    return waited;
  }
}
