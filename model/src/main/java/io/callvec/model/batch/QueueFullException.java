package io.callvec.model.batch;

import java.time.Duration;

/**
 * Backpressure: {@link BatchingEngine#submit(float[])} waited the whole submit timeout (or {@link
 * BatchingEngine#submit(float[], WindowTag, java.time.Duration)} its own bound) for room in the
 * queue and found none. The caller should keep the window and submit it later (see {@link
 * BatchingEngine#trySubmit} and {@link SubmitBacklog}); nothing of the refused window is kept by
 * the engine.
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
