package io.callvec.model.batch;

import java.util.concurrent.CompletableFuture;

/**
 * Result of {@link BatchingEngine#trySubmit(float[], WindowTag)}: the window was queued (its future
 * is available) or refused because the queue was full. A refused window is not kept by the engine;
 * the caller keeps it (e.g. durable in a state store) and submits it again when {@link
 * BatchingEngine#remainingCapacity()} is positive.
 */
public final class Admission {
  private static final Admission QUEUE_FULL = new Admission(null);

  private final CompletableFuture<float[]> future;

  private Admission(CompletableFuture<float[]> future) {
    this.future = future;
  }

  /** An accepted window's admission (for adapters of a {@link WindowSubmitter}). */
  public static Admission accepted(CompletableFuture<float[]> future) {
    return new Admission(future);
  }

  /** A refused window's admission (queue full). */
  public static Admission queueFull() {
    return QUEUE_FULL;
  }

  /** True when the window was queued. */
  public boolean isAccepted() {
    return future != null;
  }

  /**
   * The queued window's future, as {@link BatchingEngine#submit(float[])} returns it.
   *
   * @throws IllegalStateException if the window was refused
   */
  public CompletableFuture<float[]> future() {
    if (future == null) {
      throw new IllegalStateException("the window was refused (queue full); it has no future");
    }
    return future;
  }

  @Override
  public String toString() {
    return future == null ? "Admission[refused: queue full]" : "Admission[accepted]";
  }
}
