package io.callvec.model.batch;

import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Completes the futures of finished windows, on the worker or on the configured completion executor
 * (inline when it rejects). Counts them first, so that whoever sees a completed future also sees it
 * counted; a future already completed (failed by a shutdown, cancelled) is neither counted nor
 * changed.
 */
final class Completer {
  private final Executor executor; // null: the calling worker
  private final BatcherMeters meters;

  Completer(Executor executor, BatcherMeters meters) {
    this.executor = executor;
    this.meters = meters;
  }

  void succeed(List<QueuedWindow> items, float[][] vectors) {
    run(
        () -> {
          int pending = 0;
          long samples = 0;
          for (QueuedWindow w : items) {
            if (!w.future.isDone()) {
              pending++;
              samples += w.window.length;
            }
          }
          meters.embedded(pending, samples);
          for (int i = 0; i < items.size(); i++) {
            items.get(i).future.complete(vectors[i]);
          }
        });
  }

  /** Fails the windows permanently (reason {@code inference}: the model failed them). */
  void failInference(List<QueuedWindow> items, Throwable failure) {
    run(
        () -> {
          meters.failedInference(QueuedWindow.pending(items));
          for (QueuedWindow w : items) {
            w.future.completeExceptionally(failure);
          }
        });
  }

  /** Fails one poison window. */
  void failPoison(QueuedWindow item, PoisonWindowException failure) {
    run(
        () -> {
          meters.poison(item.future.isDone() ? 0 : 1);
          item.future.completeExceptionally(failure);
        });
  }

  private void run(Runnable complete) {
    if (executor == null) {
      complete.run();
      return;
    }
    try {
      executor.execute(complete);
    } catch (RejectedExecutionException e) {
      complete.run();
    }
  }
}
