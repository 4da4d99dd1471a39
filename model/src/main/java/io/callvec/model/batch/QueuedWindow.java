package io.callvec.model.batch;

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
}
