package io.callvec.model.batch;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker thread's loop: take a batch, run it, repeat until the queue says stop. If anything
 * escapes (an {@link Error} from the embedder, a fault in the engine), the worker dies: the
 * not-yet-completed windows of its batch fail with {@link WorkerDiedException}, and when it was the
 * last worker, so do all queued windows (nothing would ever run them) and every later submit.
 */
record Worker(DispatchQueue queue, BatchRunner runner, BatcherMeters meters) implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Worker.class);

  @Override
  public void run() {
    Batch current = null;
    try {
      while ((current = queue.take()) != null) {
        for (QueuedWindow w : current.items) {
          meters.queueWait(current.dispatchedNanos - w.enqueuedNanos);
        }
        meters.dispatched(current.items.size());
        runner.run(current);
        queue.finished(current);
        current = null;
      }
    } catch (Throwable t) {
      died(t, current);
    }
  }

  private void died(Throwable cause, Batch current) {
    String name = Thread.currentThread().getName();
    log.error(
        "batcher worker {} of model '{}' died; failing its batch{}",
        name,
        queue.model(),
        current == null ? "" : " of " + current.items.size() + " windows",
        cause);
    meters.workerDied();
    WorkerDiedException failure =
        new WorkerDiedException(
            "batcher worker " + name + " of model '" + queue.model() + "' died: " + cause, cause);
    if (current != null) {
      queue.finished(current); // out of the in-flight gauge before the futures fail
      failAll(current.items, failure);
    }
    List<QueuedWindow> orphans = queue.workerDied();
    if (!orphans.isEmpty()) {
      log.error(
          "batcher of model '{}': no worker left; failing {} queued window(s)",
          queue.model(),
          orphans.size());
      failAll(orphans, failure);
    }
  }

  private void failAll(List<QueuedWindow> items, WorkerDiedException failure) {
    meters.failedWorkerDied(QueuedWindow.pending(items));
    for (QueuedWindow w : items) {
      w.future.completeExceptionally(failure);
    }
  }
}
