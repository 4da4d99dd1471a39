package io.callvec.topology.internals;

import io.callvec.model.batch.SubmitBacklog;
import io.callvec.topology.TopologyMetrics;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.errors.StreamsException;

/**
 * A task's windows on their way to the shared batcher and back. The stream thread never waits for
 * room in the batcher's queue: a window the full queue refuses stays durable in the pending store
 * (it was written there first) and only its key is remembered here; {@link #drainBacklog()}, called
 * from the completion punctuator, submits remembered windows oldest first while there is room. So
 * the longest the stream thread waits on the batcher is the engine's lock for bookkeeping, never
 * an inference, and overload shows as pending windows and consumer lag, not as a stalled
 * transaction ({@code callvec.windows.deferred}, {@code callvec.backpressure.waits}).
 *
 * <p>Finished inferences come back on batcher threads into a queue that {@link #poll()} drains on
 * the stream thread. {@link #open} starts a fresh queue per task initialisation, so results of a
 * closed run are never forwarded; {@link #close()} withdraws the task's windows still queued in the
 * batcher (a revoked task's windows are not inferred twice: the next owner resubmits them from the
 * pending store).
 */
final class WindowDispatch {
  /** A finished inference: the vector, or the error (a cancellation for a withdrawn window). */
  record Completion(Bytes pendingKey, float[] vector, Throwable error) {}

  private final InferenceClient inference;
  private final TopologyMetrics metrics;
  private ConcurrentLinkedQueue<Completion> completions = new ConcurrentLinkedQueue<>();
  private SubmitBacklog<Bytes> backlog;
  /** Deferred windows counted into the gauge by this task. */
  private long deferredCounted;

  WindowDispatch(InferenceClient inference, TopologyMetrics metrics) {
    this.inference = inference;
    this.metrics = metrics;
  }

  /**
   * Starts a run of the task: a fresh completion queue, and a backlog whose windows carry {@code
   * owner} (the task id) and whose deferred audio {@code loader} reads back from the stores.
   */
  void open(String owner, Function<Bytes, float[]> loader) {
    ConcurrentLinkedQueue<Completion> queue = new ConcurrentLinkedQueue<>();
    this.completions = queue;
    this.backlog = new SubmitBacklog<>(inference, owner, loader,
        (key, future) -> future.whenComplete((vector, error) -> queue.add(new Completion(key, vector, error))));
  }

  /**
   * Offers a window (already durable in the pending store under {@code key}); never waits for room.
   *
   * @throws StreamsException if the batcher is shut down or has no worker left
   */
  void submit(Bytes key, String windowId, float[] audio) {
    try {
      if (!backlog.submit(key, windowId, audio)) {
        metrics.backpressure();
      }
    } catch (RuntimeException e) {
      throw new StreamsException("cannot submit window " + windowId + " for inference", e);
    }
    updateGauge();
  }

  /** Submits deferred windows while the batcher has room; returns how many it took. */
  int drainBacklog() {
    int n;
    try {
      n = backlog.drain();
    } catch (RuntimeException e) {
      throw new StreamsException("cannot submit deferred windows for inference", e);
    }
    updateGauge();
    return n;
  }

  /** The next finished inference, or null. */
  Completion poll() {
    return completions.poll();
  }

  /** Windows of this task waiting for room in the batcher's queue. */
  int deferred() {
    return backlog == null ? 0 : backlog.size();
  }

  /** Withdraws the task's queued windows from the batcher and forgets deferred ones; they stay pending. */
  void close() {
    if (backlog != null) {
      backlog.cancelAll();
    }
    completions = new ConcurrentLinkedQueue<>();
    updateGauge();
  }

  private void updateGauge() {
    long now = deferred();
    metrics.deferredWindows(now - deferredCounted);
    deferredCounted = now;
  }

  /** A completed future's failure without its CompletionException wrapper. */
  static Throwable unwrap(Throwable error) {
    return error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
  }

  /** Whether a completion is a window withdrawn by {@link #close()} (or by the batcher's shutdown). */
  static boolean isCancellation(Throwable error) {
    return unwrap(error) instanceof java.util.concurrent.CancellationException;
  }

}
