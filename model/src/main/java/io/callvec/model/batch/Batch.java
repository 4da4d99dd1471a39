package io.callvec.model.batch;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Windows taken together from one lane; dispatchedNanos is a {@link Ticker} reading. */
final class Batch {
  final List<QueuedWindow> items;
  final long dispatchedNanos;

  /**
   * Windows of this batch already taken out of the in-flight gauge (just before their futures were
   * completed); touched by the batch's worker thread only.
   */
  int released;

  Batch(List<QueuedWindow> items, long dispatchedNanos) {
    this.items = Collections.unmodifiableList(items);
    this.dispatchedNanos = dispatchedNanos;
  }

  static List<float[]> windowsOf(List<QueuedWindow> items) {
    List<float[]> w = new ArrayList<>(items.size());
    for (QueuedWindow q : items) {
      w.add(q.window);
    }
    return Collections.unmodifiableList(w);
  }
}
