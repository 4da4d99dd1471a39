package io.callvec.model.batch;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A submitted window, its tag and its future; enqueuedNanos is a {@link Ticker} reading. */
final class QueuedWindow {
  final float[] window;
  final WindowTag tag;
  final CompletableFuture<float[]> future = new CompletableFuture<>();
  long enqueuedNanos; // set by DispatchQueue under its lock

  QueuedWindow(float[] window, WindowTag tag) {
    this.window = window;
    this.tag = tag;
  }

  /** How many of {@code items} have a future not completed yet (what a failure would fail). */
  static int pending(List<QueuedWindow> items) {
    int pending = 0;
    for (QueuedWindow w : items) {
      pending += w.future.isDone() ? 0 : 1;
    }
    return pending;
  }
}
