package io.callvec.model.batch;

import io.callvec.model.InferenceException;
import io.callvec.model.WindowEmbedder;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In-process dynamic batcher: fills model batches with windows submitted by any thread of the JVM
 * (every Kafka Streams task and stream thread), the way Triton's dynamic batcher does for a server.
 *
 * <h2>Sharing</h2>
 *
 * Create <b>one engine per model per JVM</b> and hand the same instance to every task (e.g. through
 * the processor supplier); engines do not share queues, so two engines for one device compete for
 * it with half-full batches. The engine is thread-safe. It is not a singleton: the application owns
 * it and {@link #close() closes} it after the Streams instance has stopped.
 *
 * <h2>Submitting</h2>
 *
 * {@link #submit(float[])} queues a window (mono, 16 kHz) and returns a {@link CompletableFuture}
 * of its vector. It never runs inference on the caller's thread; it blocks only while the queue is
 * full (backpressure). The engine keeps a reference to the window array until the future is
 * complete: the caller must not modify the array before then.
 *
 * <p><b>Completions.</b> By default a worker thread completes the futures of its batch as soon as
 * the batch returns, so dependent stages attached without {@code *Async} ({@code thenApply}, {@code
 * whenComplete}, ...) run on the worker, and the device idles while they run. Keep such stages
 * cheap (hand the result to a queue, count down a latch), use the {@code *Async} variants with your
 * own executor, or set {@link BatchingOptions.Builder#completionExecutor(Executor)} (then futures
 * may still be completing on that executor when {@link #shutdown(Duration)} returns).
 *
 * <h2>Dispatch policy</h2>
 *
 * Windows are queued in <em>lanes</em>, one per window length in samples (one lane in all when the
 * embedder {@link WindowEmbedder#acceptsMixedLengths() accepts mixed lengths}), so windows of
 * different lengths are never padded together by a fixed-length model. A free worker dispatches a
 * lane when
 *
 * <ol>
 *   <li>the lane holds {@code maxBatchWindows} windows (size trigger), or
 *   <li>the lane's oldest window has waited {@code maxDelay} since its submit (delay trigger), or
 *   <li>the engine is draining at shutdown,
 * </ol>
 *
 * taking up to {@code maxBatchWindows} windows from that lane in submit order. Among ready lanes
 * the one whose oldest window is oldest goes first (no lane starves: any waiting lane becomes ready
 * within {@code maxDelay}). A worker that finishes a batch applies the same rule at once. Under
 * load the oldest window queued during that batch has usually waited longer than {@code maxDelay}
 * (an inference takes far longer), so the lane goes immediately with what it holds, up to {@code
 * maxBatchWindows}: the worker is greedy exactly when windows are overdue, and batches are full
 * whenever the load fills them during one inference.
 *
 * <p>A worker that is idle does <em>not</em> dispatch a lone window at once: it waits up to {@code
 * maxDelay} for companions. This costs at most {@code maxDelay} of latency at low load and avoids a
 * trap of pure greediness: submitters that each wait for their previous result (one window per
 * call-channel in flight) resubmit just after their futures complete, and a greedy worker would
 * grab the first resubmitted window alone, run it as a batch of one while the others queue, and
 * settle into a pattern of small batches. {@code maxDelay = 0} gives the greedy policy for
 * latency-critical, lightly loaded deployments. {@code bench/run batcher} measures both.
 *
 * <h2>Bounds</h2>
 *
 * The queue holds at most {@code queueCapacityWindows} windows (windows of running batches are not
 * counted: add {@code workers * maxBatchWindows}). When it is full, {@code submit} blocks up to
 * {@code submitTimeout}, then throws {@link QueueFullException}. Memory therefore stays bounded at
 * about (queue capacity + workers &times; max batch) &times; window length &times; 4 bytes.
 *
 * <h2>Failures</h2>
 *
 * A failed batch fails exactly its own windows' futures, with the embedder's {@link
 * InferenceException} (after the configured retries when it {@link InferenceException#isTransient()
 * is transient}); a {@link RuntimeException} or {@link Error} thrown by the embedder and a
 * malformed result (wrong number of vectors, wrong vector length) fail the batch with a
 * non-transient {@code InferenceException} describing it (the thrown object as cause). The engine
 * stays usable.
 *
 * <h2>Shutdown</h2>
 *
 * {@link #shutdown(Duration)} (and {@link #close()}, which uses {@code drainTimeout}) stops
 * accepting windows at once ({@link EngineClosedException} from {@code submit}), then drains: the
 * workers dispatch everything queued without waiting for the delay, until the queue is empty and no
 * batch runs. If that takes longer than the drain timeout, every window not yet completed (queued
 * or in a running batch) fails with {@link EngineClosedException}; workers still inside {@code
 * embedBatch} are then given {@code workerJoinTimeout} to return. The engine closes its embedders
 * only when {@link BatchingOptions#ownsEmbedder()} is set, and only once all workers have stopped.
 * Its two gauges are removed from the registry at the end; counters and timers stay (a later engine
 * with the same model name continues them).
 *
 * <h2>Metrics</h2>
 *
 * See {@link BatcherMetricNames} for the {@code callvec.batcher.*} meters.
 */
public final class BatchingEngine implements AutoCloseable {
  /** Sample rate of every window, Hz. */
  public static final int SAMPLE_RATE_HZ = 16_000;

  private static final Logger log = LoggerFactory.getLogger(BatchingEngine.class);
  private static final long MAX_WAIT_NANOS = Long.MAX_VALUE / 4;

  private enum State {
    RUNNING,
    DRAINING,
    ABORTED,
    TERMINATED
  }

  /** A queued window and its future; enqueuedNanos is a {@link Ticker} reading. */
  private static final class Pending {
    final float[] window;
    final CompletableFuture<float[]> future;
    final long enqueuedNanos;

    Pending(float[] window, CompletableFuture<float[]> future, long enqueuedNanos) {
      this.window = window;
      this.future = future;
      this.enqueuedNanos = enqueuedNanos;
    }
  }

  /** Windows taken together from one lane. */
  private static final class Batch {
    final List<Pending> items;
    final List<float[]> windows;
    final long dispatchedNanos;

    Batch(List<Pending> items, long dispatchedNanos) {
      this.items = items;
      List<float[]> w = new ArrayList<>(items.size());
      for (Pending p : items) {
        w.add(p.window);
      }
      this.windows = Collections.unmodifiableList(w);
      this.dispatchedNanos = dispatchedNanos;
    }
  }

  private final List<WindowEmbedder> embedders;
  private final BatchingOptions options;
  private final String model;
  private final boolean mixedLengths;
  private final int dimension;
  private final int maxBatch;
  private final int capacity;
  private final long maxDelayNanos;
  private final Ticker ticker;
  private final BatcherMeters meters;
  private final Executor completionExecutor;

  private final ReentrantLock lock = new ReentrantLock();

  /** Signalled when a lane may have become ready, or on shutdown. */
  private final Condition workAvailable = lock.newCondition();

  /** Signalled when queued windows were removed, or on shutdown. */
  private final Condition spaceAvailable = lock.newCondition();

  /** Lane key (window length in samples, or 0 for mixed lengths) to its FIFO queue. */
  private final Map<Integer, ArrayDeque<Pending>> lanes = new LinkedHashMap<>();

  private final Set<Batch> inFlight = Collections.newSetFromMap(new IdentityHashMap<>());
  private int queued; // guarded by lock
  private State state = State.RUNNING; // guarded by lock
  private final CountDownLatch abortSignal = new CountDownLatch(1);

  private final List<Thread> workers;
  private final Object shutdownMonitor = new Object();
  private Boolean shutdownResult; // guarded by shutdownMonitor

  /**
   * An engine with {@code workers} (default 1) threads sharing {@code embedder}.
   *
   * @throws IllegalArgumentException see {@link #BatchingEngine(List, BatchingOptions)}
   */
  public BatchingEngine(WindowEmbedder embedder, BatchingOptions options) {
    this(List.of(Objects.requireNonNull(embedder, "embedder")), options);
  }

  /**
   * An engine over one embedder per device (e.g. one ONNX session per GPU): worker {@code i} runs
   * its batches on {@code embedders.get(i % embedders.size())}; by default there is one worker per
   * embedder.
   *
   * @param embedders one or more embedders that agree on {@link WindowEmbedder#dimension()} and
   *     {@link WindowEmbedder#acceptsMixedLengths()}
   * @throws IllegalArgumentException if the list is empty, the embedders disagree, a dimension is
   *     not positive, fewer workers than embedders are configured, or {@code ownsEmbedder} is set
   *     and an embedder is not {@link AutoCloseable}
   */
  public BatchingEngine(List<? extends WindowEmbedder> embedders, BatchingOptions options) {
    Objects.requireNonNull(embedders, "embedders");
    this.options = Objects.requireNonNull(options, "options");
    if (embedders.isEmpty()) {
      throw new IllegalArgumentException("at least one embedder is needed, found none");
    }
    this.embedders = List.copyOf(embedders);
    WindowEmbedder first = this.embedders.get(0);
    this.mixedLengths = first.acceptsMixedLengths();
    this.dimension = first.dimension();
    if (dimension < 1) {
      throw new IllegalArgumentException(
          "embedder dimension must be >= 1 float, found " + dimension);
    }
    for (int i = 1; i < this.embedders.size(); i++) {
      WindowEmbedder e = this.embedders.get(i);
      if (e.dimension() != dimension || e.acceptsMixedLengths() != mixedLengths) {
        throw new IllegalArgumentException(
            "embedder "
                + i
                + " has dimension "
                + e.dimension()
                + " and acceptsMixedLengths "
                + e.acceptsMixedLengths()
                + ", expected "
                + dimension
                + " and "
                + mixedLengths
                + " like embedder 0");
      }
    }
    if (options.ownsEmbedder()) {
      for (int i = 0; i < this.embedders.size(); i++) {
        if (!(this.embedders.get(i) instanceof AutoCloseable)) {
          throw new IllegalArgumentException(
              "ownsEmbedder is set but embedder "
                  + i
                  + " ("
                  + this.embedders.get(i).getClass().getName()
                  + ") is not AutoCloseable");
        }
      }
    }
    int workerCount = options.workers() == 0 ? this.embedders.size() : options.workers();
    if (workerCount < this.embedders.size()) {
      throw new IllegalArgumentException(
          "workers ("
              + workerCount
              + ") must be >= the number of embedders ("
              + this.embedders.size()
              + "), or some embedders would never run");
    }
    this.model = options.modelName();
    this.maxBatch = options.maxBatchWindows();
    this.capacity = options.queueCapacityWindows();
    this.maxDelayNanos = options.maxDelay().toNanos();
    this.ticker = options.ticker();
    this.completionExecutor = options.completionExecutor().orElse(null);
    this.meters = new BatcherMeters(options.meterRegistry(), model, maxBatch);

    List<Thread> threads = new ArrayList<>(workerCount);
    for (int i = 0; i < workerCount; i++) {
      WindowEmbedder embedder = this.embedders.get(i % this.embedders.size());
      Thread t = new Thread(() -> workerLoop(embedder), "callvec-batcher-" + model + "-" + i);
      t.setDaemon(true);
      threads.add(t);
    }
    this.workers = List.copyOf(threads);
    log.info(
        "batcher for model '{}' started: {} worker(s), {} embedder(s), {}",
        model,
        workerCount,
        this.embedders.size(),
        options);
    for (Thread t : workers) {
      t.start();
    }
  }

  /**
   * Queues one window for embedding.
   *
   * @param window mono audio at {@value #SAMPLE_RATE_HZ} Hz, at least one sample; not copied: do
   *     not modify it until the future completes
   * @return a future completed with the window's vector ({@link #dimension()} floats), or
   *     exceptionally with the {@link InferenceException} of its batch, or with an {@link
   *     EngineClosedException} if a shutdown gave up on it
   * @throws QueueFullException if the queue stayed full for the whole submit timeout
   * @throws EngineClosedException if shutdown has begun (also when it begins while this call waits)
   * @throws SubmitInterruptedException if the thread was interrupted while waiting for room
   * @throws IllegalArgumentException if the window is empty
   */
  public CompletableFuture<float[]> submit(float[] window) {
    Objects.requireNonNull(window, "window");
    if (window.length == 0) {
      throw new IllegalArgumentException("window must hold at least one sample, found 0");
    }
    int laneKey = mixedLengths ? 0 : window.length;
    CompletableFuture<float[]> future = new CompletableFuture<>();
    long timeoutNanos = saturatedNanos(options.submitTimeout());
    long remaining = timeoutNanos;
    lock.lock();
    try {
      while (state == State.RUNNING && queued >= capacity) {
        if (remaining <= 0) {
          meters.rejectedQueueFull();
          throw new QueueFullException(model, capacity, Duration.ofNanos(timeoutNanos));
        }
        remaining = spaceAvailable.awaitNanos(remaining);
      }
      if (state != State.RUNNING) {
        meters.rejectedClosed();
        throw new EngineClosedException(
            "batcher of model '" + model + "' is shut down and accepts no more windows");
      }
      ArrayDeque<Pending> lane = lanes.computeIfAbsent(laneKey, k -> new ArrayDeque<>());
      int before = queued;
      lane.addLast(new Pending(window, future, ticker.nanoTime()));
      queued++;
      meters.queuedWindows.set(queued);
      if (before == 0 || lane.size() >= maxBatch) {
        workAvailable.signalAll();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      meters.rejectedInterrupted();
      throw new SubmitInterruptedException(
          "interrupted while waiting for room in the full batcher queue of model '" + model + "'",
          e);
    } finally {
      lock.unlock();
    }
    return future;
  }

  /** Length of every vector, in floats (the embedders' dimension). */
  public int dimension() {
    return dimension;
  }

  /** The options this engine runs with. */
  public BatchingOptions options() {
    return options;
  }

  /** Number of worker threads. */
  public int workerCount() {
    return workers.size();
  }

  /** Windows queued now, not yet dispatched. */
  public int queuedWindows() {
    lock.lock();
    try {
      return queued;
    } finally {
      lock.unlock();
    }
  }

  /** Windows in batches running now. */
  public int inFlightWindows() {
    return meters.inFlightWindows.get();
  }

  /** True once a shutdown has begun (submit then throws {@link EngineClosedException}). */
  public boolean isShutdown() {
    lock.lock();
    try {
      return state != State.RUNNING;
    } finally {
      lock.unlock();
    }
  }

  /** True once a shutdown has ended. */
  public boolean isTerminated() {
    lock.lock();
    try {
      return state == State.TERMINATED;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops accepting windows, drains queued and running work for up to {@code drainTimeout}, then
   * fails what is left with {@link EngineClosedException} and waits up to {@code workerJoinTimeout}
   * for the workers. Closes the embedders if the engine owns them and every worker stopped.
   * Idempotent: later calls return the first call's result at once (concurrent calls wait for it).
   *
   * @param drainTimeout time for the work to finish; {@link Duration#ZERO} fails queued and running
   *     windows at once
   * @return true when every accepted window was completed by its batch (none failed by the
   *     shutdown) and every worker stopped
   * @throws IllegalStateException if called from a worker thread (e.g. a completion stage)
   */
  public boolean shutdown(Duration drainTimeout) {
    Objects.requireNonNull(drainTimeout, "drainTimeout");
    if (drainTimeout.isNegative()) {
      throw new IllegalArgumentException("drainTimeout must be >= 0, found " + drainTimeout);
    }
    if (workers.contains(Thread.currentThread())) {
      throw new IllegalStateException(
          "shutdown called from batcher worker "
              + Thread.currentThread().getName()
              + ": it would wait for itself; call it from another thread");
    }
    synchronized (shutdownMonitor) {
      if (shutdownResult != null) {
        return shutdownResult;
      }
      long deadline = System.nanoTime() + saturatedNanos(drainTimeout);
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
      boolean interrupted = false;
      try {
        joinWorkers(deadline);
      } catch (InterruptedException e) {
        interrupted = true;
      }
      int failedByShutdown = 0;
      if (anyWorkerAlive()) {
        failedByShutdown = abortOutstanding(drainTimeout);
        if (!interrupted) {
          try {
            joinWorkers(System.nanoTime() + saturatedNanos(options.workerJoinTimeout()));
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      }
      boolean stopped = !anyWorkerAlive();
      if (!stopped) {
        log.warn(
            "batcher of model '{}': worker(s) still inside embedBatch {} after the drain and join"
                + " timeouts; they exit when their call returns",
            model,
            options.workerJoinTimeout());
      }
      if (options.ownsEmbedder()) {
        if (stopped) {
          closeEmbedders();
        } else {
          log.warn(
              "batcher of model '{}': not closing its embedders while a worker still uses them",
              model);
        }
      }
      lock.lock();
      try {
        state = State.TERMINATED;
        workAvailable.signalAll();
      } finally {
        lock.unlock();
      }
      meters.removeGauges();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      shutdownResult = failedByShutdown == 0 && stopped;
      log.info(
          "batcher of model '{}' shut down: {} window(s) failed by the shutdown, workers {}",
          model,
          failedByShutdown,
          stopped ? "stopped" : "still running");
      return shutdownResult;
    }
  }

  /** {@link #shutdown(Duration)} with {@link BatchingOptions#drainTimeout()}. */
  @Override
  public void close() {
    shutdown(options.drainTimeout());
  }

  // ---------------------------------------------------------------------------------------------
  // Workers

  private void workerLoop(WindowEmbedder embedder) {
    try {
      while (true) {
        Batch batch = nextBatch();
        if (batch == null) {
          return;
        }
        for (Pending p : batch.items) {
          meters.queueWait(batch.dispatchedNanos - p.enqueuedNanos);
        }
        meters.dispatched(batch.items.size());
        runBatch(batch, embedder);
      }
    } catch (Throwable t) {
      // runBatch catches everything an embedder throws; this is a bug in the engine itself.
      log.error("batcher worker {} of model '{}' died", Thread.currentThread().getName(), model, t);
    }
  }

  /** Blocks until a lane is ready and takes a batch from it; null when the worker must exit. */
  private Batch nextBatch() {
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
          awaitQuietly(MAX_WAIT_NANOS);
          continue;
        }
        long now = ticker.nanoTime();
        boolean draining = state == State.DRAINING;
        Map.Entry<Integer, ArrayDeque<Pending>> best = null;
        long bestHead = 0;
        long wait = MAX_WAIT_NANOS;
        for (Map.Entry<Integer, ArrayDeque<Pending>> e : lanes.entrySet()) {
          ArrayDeque<Pending> lane = e.getValue();
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
          return take(best.getKey(), best.getValue(), now);
        }
        awaitQuietly(wait);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Caller holds the lock. */
  private Batch take(int laneKey, ArrayDeque<Pending> lane, long now) {
    int n = Math.min(maxBatch, lane.size());
    List<Pending> items = new ArrayList<>(n);
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

  /**
   * Caller holds the lock. Workers are never interrupted by the engine; stray interrupts are
   * ignored.
   */
  private void awaitQuietly(long nanos) {
    try {
      workAvailable.awaitNanos(nanos);
    } catch (InterruptedException e) {
      log.debug("batcher worker {} interrupted; ignored", Thread.currentThread().getName());
    }
  }

  private void runBatch(Batch batch, WindowEmbedder embedder) {
    List<float[]> windows = batch.windows;
    int n = windows.size();
    RetryPolicy retry = options.retryPolicy();
    InferenceException failure;
    int attempt = 0;
    while (true) {
      attempt++;
      long t0 = ticker.nanoTime();
      float[][] vectors;
      try {
        vectors = embedder.embedBatch(windows);
      } catch (InferenceException e) {
        meters.inference(ticker.nanoTime() - t0);
        failure = e;
        if (e.isTransient() && attempt < retry.maxAttempts()) {
          Duration backoff = retry.backoffBefore(attempt + 1);
          log.warn(
              "batcher of model '{}': transient failure of a batch of {} windows (attempt {} of"
                  + " {}), retrying in {} ms: {}",
              model,
              n,
              attempt,
              retry.maxAttempts(),
              backoff.toMillis(),
              e.getMessage());
          if (waitBackoff(backoff)) {
            meters.retry();
            continue;
          }
        }
        break;
      } catch (Throwable t) {
        meters.inference(ticker.nanoTime() - t0);
        failure =
            new InferenceException(
                "embedder "
                    + embedder.getClass().getName()
                    + " threw "
                    + t
                    + " on a batch of "
                    + n
                    + " windows",
                t,
                false);
        break;
      }
      meters.inference(ticker.nanoTime() - t0);
      String problem = checkResult(embedder, vectors, n);
      if (problem == null) {
        finish(batch, vectors, null);
        return;
      }
      failure = new InferenceException(problem, false);
      break;
    }
    log.warn(
        "batcher of model '{}': a batch of {} windows failed after {} attempt(s): {}",
        model,
        n,
        attempt,
        failure.toString());
    finish(batch, null, failure);
  }

  /** Waits out a retry backoff; false if a shutdown gave up on in-flight work meanwhile. */
  private boolean waitBackoff(Duration backoff) {
    try {
      return !abortSignal.await(saturatedNanos(backoff), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      return false;
    }
  }

  private String checkResult(WindowEmbedder embedder, float[][] vectors, int n) {
    String who = "embedder " + embedder.getClass().getName();
    if (vectors == null) {
      return who + " returned null for a batch of " + n + " windows; expected " + n + " vectors";
    }
    if (vectors.length != n) {
      return who
          + " returned "
          + vectors.length
          + " vectors for a batch of "
          + n
          + " windows; expected "
          + n
          + " (one per window)";
    }
    for (int i = 0; i < n; i++) {
      float[] v = vectors[i];
      int found = v == null ? -1 : v.length;
      if (found != dimension) {
        return who
            + " returned "
            + (v == null ? "null" : "a vector of " + found + " floats")
            + " for window "
            + i
            + " of a batch of "
            + n
            + "; expected "
            + dimension
            + " floats (its dimension())";
      }
    }
    return null;
  }

  /** Completes the batch's futures with {@code vectors}, or fails them with {@code failure}. */
  private void finish(Batch batch, float[][] vectors, InferenceException failure) {
    lock.lock();
    try {
      inFlight.remove(batch);
    } finally {
      lock.unlock();
    }
    meters.inFlightWindows.addAndGet(-batch.items.size());
    // Meters first, so that whoever sees a completed future also sees it counted. A future failed
    // by a shutdown between the isDone check and complete() would be counted twice (rare, and only
    // when a drain timeout expires).
    Runnable complete =
        vectors != null
            ? () -> {
              int pending = 0;
              long samples = 0;
              for (Pending p : batch.items) {
                if (!p.future.isDone()) {
                  pending++;
                  samples += p.window.length;
                }
              }
              meters.embedded(pending, samples);
              for (int i = 0; i < batch.items.size(); i++) {
                batch.items.get(i).future.complete(vectors[i]);
              }
            }
            : () -> {
              int pending = 0;
              for (Pending p : batch.items) {
                if (!p.future.isDone()) {
                  pending++;
                }
              }
              if (pending > 0) {
                meters.batchFailed(pending);
              }
              for (Pending p : batch.items) {
                p.future.completeExceptionally(failure);
              }
            };
    if (completionExecutor == null) {
      complete.run();
    } else {
      try {
        completionExecutor.execute(complete);
      } catch (RejectedExecutionException e) {
        complete.run();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Shutdown helpers

  /** Fails every queued and running window; returns how many futures this failed. */
  private int abortOutstanding(Duration drainTimeout) {
    List<Pending> notDispatched = new ArrayList<>();
    List<Batch> running;
    lock.lock();
    try {
      state = State.ABORTED;
      for (ArrayDeque<Pending> lane : lanes.values()) {
        notDispatched.addAll(lane);
      }
      lanes.clear();
      queued = 0;
      meters.queuedWindows.set(0);
      running = new ArrayList<>(inFlight);
      workAvailable.signalAll();
      spaceAvailable.signalAll();
    } finally {
      lock.unlock();
    }
    EngineClosedException queuedFailure =
        new EngineClosedException(
            "batcher of model '"
                + model
                + "' shut down before this window was dispatched: drain timeout of "
                + drainTimeout.toMillis()
                + " ms expired");
    EngineClosedException runningFailure =
        new EngineClosedException(
            "batcher of model '"
                + model
                + "' shut down while this window's batch was still running: drain timeout of "
                + drainTimeout.toMillis()
                + " ms expired");
    int pending = 0;
    for (Pending p : notDispatched) {
      pending += p.future.isDone() ? 0 : 1;
    }
    for (Batch b : running) {
      for (Pending p : b.items) {
        pending += p.future.isDone() ? 0 : 1;
      }
    }
    meters.failedByShutdown(pending); // before completing, like finish()
    int failed = 0;
    for (Pending p : notDispatched) {
      if (p.future.completeExceptionally(queuedFailure)) {
        failed++;
      }
    }
    for (Batch b : running) {
      for (Pending p : b.items) {
        if (p.future.completeExceptionally(runningFailure)) {
          failed++;
        }
      }
    }
    // Only now: a worker woken from a retry backoff must find its futures already failed.
    abortSignal.countDown();
    if (failed > 0) {
      log.warn(
          "batcher of model '{}': drain timeout of {} ms expired; failed {} window(s) ({} queued,"
              + " {} batch(es) running)",
          model,
          drainTimeout.toMillis(),
          failed,
          notDispatched.size(),
          running.size());
    }
    return failed;
  }

  private void joinWorkers(long deadlineNanos) throws InterruptedException {
    for (Thread w : workers) {
      long remaining = deadlineNanos - System.nanoTime();
      if (remaining <= 0) {
        return;
      }
      TimeUnit.NANOSECONDS.timedJoin(w, remaining);
    }
  }

  private boolean anyWorkerAlive() {
    for (Thread w : workers) {
      if (w.isAlive()) {
        return true;
      }
    }
    return false;
  }

  private void closeEmbedders() {
    Set<WindowEmbedder> closed = Collections.newSetFromMap(new IdentityHashMap<>());
    for (WindowEmbedder e : embedders) {
      if (!closed.add(e)) {
        continue;
      }
      try {
        ((AutoCloseable) e).close();
      } catch (Exception ex) {
        log.warn("batcher of model '{}': closing embedder {} failed", model, e, ex);
      }
    }
  }

  private static long saturatedNanos(Duration d) {
    try {
      return Math.min(d.toNanos(), MAX_WAIT_NANOS);
    } catch (ArithmeticException overflow) {
      return MAX_WAIT_NANOS;
    }
  }
}
