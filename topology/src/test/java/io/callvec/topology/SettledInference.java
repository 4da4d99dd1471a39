package io.callvec.topology;

import io.callvec.model.ModelInfo;
import io.callvec.model.batch.Admission;
import io.callvec.model.batch.WindowTag;
import io.callvec.topology.internals.InferenceClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The real batcher behind a gate that makes a {@code TopologyTestDriver} test deterministic: the
 * processor sees a window's result only when the test calls {@link #settle}, which waits (with a
 * deadline) until the batcher has finished every window submitted so far and then completes their
 * futures on the calling thread, in submission order. So what the driver forwards after each step
 * does not depend on how the batcher's threads were scheduled: which results are ready, and in
 * which order they come, is decided by the test's steps alone.
 *
 * <p>Room in the queue is counted here too ({@link #remainingCapacity()}: the capacity minus the
 * windows not yet settled), so that whether a window is deferred does not depend on how fast the
 * batcher's worker took windows out of its queue. Vectors are the batcher's own; only their
 * timing is fixed.
 *
 * <p>Not thread-safe: used from the driver's thread (which is the stream thread), as the processor
 * uses its {@link InferenceClient}.
 */
final class SettledInference implements InferenceClient {
  private record Held(CompletableFuture<float[]> engine, CompletableFuture<float[]> visible) {}

  private final InferenceClient delegate;
  private final int capacityWindows;
  /** Windows submitted since the last {@link #settle}, in submission order. */
  private final List<Held> held = new ArrayList<>();

  /**
   * @param delegate the real client (over a {@code BatchingEngine})
   * @param capacityWindows windows that may be unsettled at once (at most the engine's queue capacity, so that it never refuses one)
   */
  SettledInference(InferenceClient delegate, int capacityWindows) {
    if (capacityWindows < 1) {
      throw new IllegalArgumentException("capacity must be >= 1 window, was " + capacityWindows);
    }
    this.delegate = delegate;
    this.capacityWindows = capacityWindows;
  }

  @Override
  public Admission trySubmit(float[] window, WindowTag tag) {
    if (held.size() >= capacityWindows) {
      return Admission.queueFull();
    }
    Admission a = delegate.trySubmit(window, tag);
    if (!a.isAccepted()) {
      throw new IllegalStateException("the engine refused window " + tag + " with " + held.size() + " of " + capacityWindows
          + " unsettled: the gate's capacity must not exceed the engine's queue capacity");
    }
    CompletableFuture<float[]> visible = new CompletableFuture<>();
    held.add(new Held(a.future(), visible));
    return Admission.accepted(visible);
  }

  @Override
  public int remainingCapacity() {
    return capacityWindows - held.size();
  }

  @Override
  public int cancel(String owner) {
    return delegate.cancel(owner); // the engine's futures end cancelled; settle() passes that on
  }

  @Override
  public ModelInfo modelInfo() {
    return delegate.modelInfo();
  }

  /** Windows submitted and not yet settled. */
  int unsettled() {
    return held.size();
  }

  /**
   * Waits until the batcher has finished every window submitted so far (vector, failure or
   * cancellation), then completes their futures here, in submission order; the processor's
   * callbacks run on this thread before it returns.
   *
   * @return the windows settled
   * @throws AssertionError if the batcher has not finished them within {@code timeout} (a hung batcher)
   */
  int settle(Duration timeout) throws InterruptedException {
    if (held.isEmpty()) {
      return 0;
    }
    CompletableFuture<?>[] all = held.stream().map(Held::engine).toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(all).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      // some window failed: passed on below, each to its own future
    } catch (TimeoutException e) {
      long done = held.stream().filter(h -> h.engine().isDone()).count();
      throw new AssertionError("the batcher finished " + done + " of " + held.size() + " windows within " + timeout, e);
    }
    List<Held> batch = new ArrayList<>(held);
    held.clear();
    for (Held h : batch) {
      h.engine().whenComplete((vector, error) -> {
        if (error == null) {
          h.visible().complete(vector);
        } else {
          h.visible().completeExceptionally(error);
        }
      });
    }
    return batch.size();
  }
}
