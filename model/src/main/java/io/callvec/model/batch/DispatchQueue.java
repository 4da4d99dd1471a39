package io.callvec.model.batch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;

/**
 * The engine's bounded queue, its dispatch policy (lanes, size and delay triggers, oldest ready
 * lane first; see {@link BatchingEngine}) and its lifecycle state. One lock guards all of it; it is
 * held only for bookkeeping (at most O(queued windows), for {@link #cancel}), never while an
 * embedder runs or a future is completed.
 */
final class DispatchQueue {
  static final long MAX_WAIT_NANOS = Long.MAX_VALUE / 4;

  enum State {
    RUNNING,
    DRAINING,
    ABORTED,
    TERMINATED
  }

  /** Why {@link #offer} did not queue a window. */
  enum Refusal {
    NONE,
    FULL,
    CLOSED,
    NO_WORKERS
  }

  private final String model;
  private final boolean mixedLengths;
  private final int maxBatch;
  private final int capacity;
  private final long maxDelayNanos;
  private final Ticker ticker;
  private final BatcherMeters meters;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition workAvailable = lock.newCondition();
  private final Condition spaceAvailable = lock.newCondition();

  /** Lane key (window length in samples, or 0 for mixed lengths) to its FIFO queue. */
  private final Map<Integer, ArrayDeque<QueuedWindow>> lanes = new LinkedHashMap<>();

  private final Set<Batch> inFlight = Collections.newSetFromMap(new IdentityHashMap<>());
  private int queued;
  private State state = State.RUNNING;
  private int workersAlive;

  DispatchQueue(
      String model,
      boolean mixedLengths,
      int maxBatch,
      int capacity,
      long maxDelayNanos,
      int workers,
      Ticker ticker,
      BatcherMeters meters) {
    this.model = model;
    this.mixedLengths = mixedLengths;
    this.maxBatch = maxBatch;
    this.capacity = capacity;
    this.maxDelayNanos = maxDelayNanos;
    this.workersAlive = workers;
    this.ticker = ticker;
    this.meters = meters;
  }

  int capacity() {
    return capacity;
  }

  /**
   * Queues {@code w}, waiting up to {@code waitNanos} (real time) for room; 0 never waits.
   *
   * @return {@link Refusal#NONE} when queued, else why not (FULL only after the wait)
   */
  Refusal offer(QueuedWindow w, long waitNanos) throws InterruptedException {
    int laneKey = mixedLengths ? 0 : w.window.length;
    long remaining = waitNanos;
    lock.lock();
    try {
      while (state == State.RUNNING && workersAlive > 0 && queued >= capacity) {
        if (remaining <= 0) {
          return Refusal.FULL;
        }
        remaining = spaceAvailable.awaitNanos(remaining);
      }
      if (state != State.RUNNING) {
        return Refusal.CLOSED;
      }
      if (workersAlive == 0) {
        return Refusal.NO_WORKERS;
      }
      ArrayDeque<QueuedWindow> lane = lanes.computeIfAbsent(laneKey, k -> new ArrayDeque<>());
      int before = queued;
      w.enqueuedNanos = ticker.nanoTime();
      lane.addLast(w);
      queued++;
      meters.queuedWindows.set(queued);
      if (before == 0 || lane.size() >= maxBatch) {
        workAvailable.signalAll();
      }
      return Refusal.NONE;
    } finally {
      lock.unlock();
    }
  }

  /** Blocks until a lane is ready and takes a batch from it; null when the worker must exit. */
  Batch take() {
    lock.lock();
    try {
      while (true) {
        if (state == State.ABORTED || state == State.TERMINATED) {
          return null;
        }
        if (queued == 0) {
          if (state == State.DRAINING) {
            return null;
          }
          awaitWork(MAX_WAIT_NANOS);
          continue;
        }
        long now = ticker.nanoTime();
        boolean draining = state == State.DRAINING;
        Map.Entry<Integer, ArrayDeque<QueuedWindow>> best = null;
        long bestHead = 0;
        long wait = MAX_WAIT_NANOS;
        for (Map.Entry<Integer, ArrayDeque<QueuedWindow>> e : lanes.entrySet()) {
          ArrayDeque<QueuedWindow> lane = e.getValue();
          long head = lane.peekFirst().enqueuedNanos;
          long waited = now - head;
          if (draining || lane.size() >= maxBatch || waited >= maxDelayNanos) {
            if (best == null || head - bestHead < 0) {
              best = e;
              bestHead = head;
            }
          } else {
            wait = Math.min(wait, maxDelayNanos - waited);
          }
        }
        if (best != null) {
          return takeFrom(best.getKey(), best.getValue(), now);
        }
        awaitWork(wait);
      }
    } finally {
      lock.unlock();
    }
  }

  private Batch takeFrom(int laneKey, ArrayDeque<QueuedWindow> lane, long now) {
    int n = Math.min(maxBatch, lane.size());
    List<QueuedWindow> items = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      items.add(lane.pollFirst());
    }
    if (lane.isEmpty()) {
      lanes.remove(laneKey);
    }
    queued -= n;
    meters.queuedWindows.set(queued);
    meters.inFlightWindows.addAndGet(n);
    Batch batch = new Batch(items, now);
    inFlight.add(batch);
    spaceAvailable.signalAll();
    if (queued > 0) {
      workAvailable.signal(); // another idle worker may take what is left
    }
    return batch;
  }

  /** Workers are never interrupted by the engine; stray interrupts are ignored. */
  private void awaitWork(long nanos) {
    try {
      workAvailable.awaitNanos(nanos);
    } catch (InterruptedException e) {
      // ignored: see above
    }
  }

  /**
   * The batch's worker is done with it; windows not yet released from the in-flight gauge are
   * released now. Called by that worker only.
   */
  void finished(Batch batch) {
    lock.lock();
    try {
      inFlight.remove(batch);
    } finally {
      lock.unlock();
    }
    meters.inFlightWindows.addAndGet(-(batch.items.size() - batch.released));
    batch.released = batch.items.size();
  }

  /**
   * Removes the queued windows tagged with {@code owner}; returns them, in submit order per lane.
   */
  List<QueuedWindow> cancel(String owner) {
    Objects.requireNonNull(owner, "owner");
    List<QueuedWindow> removed = new ArrayList<>();
    lock.lock();
    try {
      Iterator<ArrayDeque<QueuedWindow>> lanesIt = lanes.values().iterator();
      while (lanesIt.hasNext()) {
        ArrayDeque<QueuedWindow> lane = lanesIt.next();
        lane.removeIf(
            w -> {
              if (owner.equals(w.tag.owner())) {
                removed.add(w);
                return true;
              }
              return false;
            });
        if (lane.isEmpty()) {
          lanesIt.remove();
        }
      }
      if (!removed.isEmpty()) {
        queued -= removed.size();
        meters.queuedWindows.set(queued);
        spaceAvailable.signalAll();
      }
    } finally {
      lock.unlock();
    }
    return removed;
  }

  /**
   * A worker has died; returns the queued windows to fail if it was the last one (they would never
   * run), else nothing.
   */
  List<QueuedWindow> workerDied() {
    lock.lock();
    try {
      workersAlive--;
      spaceAvailable.signalAll(); // blocked submitters re-check and see NO_WORKERS
      return workersAlive == 0 ? removeAllQueued() : List.of();
    } finally {
      lock.unlock();
    }
  }

  /** Starts the drain: no more windows accepted; workers dispatch everything without delay. */
  void beginDrain() {
    lock.lock();
    try {
      if (state == State.RUNNING) {
        state = State.DRAINING;
      }
      workAvailable.signalAll();
      spaceAvailable.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Workers stop taking batches; returns the queued windows and the running batches. */
  List<QueuedWindow> abort(List<Batch> runningOut) {
    lock.lock();
    try {
      state = State.ABORTED;
      runningOut.addAll(inFlight);
      workAvailable.signalAll();
      spaceAvailable.signalAll();
      return removeAllQueued();
    } finally {
      lock.unlock();
    }
  }

  void terminate() {
    lock.lock();
    try {
      state = State.TERMINATED;
      workAvailable.signalAll();
      spaceAvailable.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private List<QueuedWindow> removeAllQueued() {
    List<QueuedWindow> all = new ArrayList<>(queued);
    for (ArrayDeque<QueuedWindow> lane : lanes.values()) {
      all.addAll(lane);
    }
    lanes.clear();
    queued = 0;
    meters.queuedWindows.set(0);
    return all;
  }

  int queued() {
    return underLock(() -> queued);
  }

  /** Windows that can be queued now without waiting; 0 once shut down or without workers. */
  int remainingCapacity() {
    return underLock(
        () -> state == State.RUNNING && workersAlive > 0 ? Math.max(0, capacity - queued) : 0);
  }

  /** Reads a count under the lock. */
  private int underLock(IntSupplier read) {
    lock.lock();
    try {
      return read.getAsInt();
    } finally {
      lock.unlock();
    }
  }

  State state() {
    lock.lock();
    try {
      return state;
    } finally {
      lock.unlock();
    }
  }

  String model() {
    return model;
  }
}
