package io.callvec.model.batch;

import io.callvec.model.InferenceException;
import io.callvec.model.WindowEmbedder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
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
 * full (backpressure), for at most {@code submitTimeout}. A thread that must not wait that long (a
 * Kafka Streams thread inside a transaction) uses {@link #trySubmit(float[], WindowTag)}, which
 * never waits for room, or {@link #submit(float[], WindowTag, Duration)} with its own bound, keeps
 * the refused windows itself and submits them again once {@link #remainingCapacity()} is positive.
 * The engine keeps a reference to the window array until the future is complete: the caller must
 * not modify the array before then. Futures complete in any order (lanes, workers and split batches
 * finish independently), not in submit order.
 *
 * <p><b>Owners.</b> A window submitted with a {@link WindowTag} owner (e.g. a Streams task id) can
 * be withdrawn while still queued by {@link #cancel(String)}: its future ends cancelled and it is
 * never inferred. Windows already in a running batch are not affected.
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
 * {@code submitTimeout}, then throws {@link QueueFullException}; {@link #trySubmit} never waits for
 * room, and {@link #submit(float[], WindowTag, Duration)} waits at most its own bound. Beyond those
 * waits, every submit variant waits only for the engine's lock, which is held for bookkeeping alone
 * (at most O(queued windows), in {@link #cancel}), never while a model runs or a future completes.
 * Memory stays bounded at about (queue capacity + workers &times; max batch) &times; window length
 * &times; 4 bytes, plus one probe window per embedder.
 *
 * <h2>Failures</h2>
 *
 * A window the model cannot embed does not take its batch companions down with it, and a model that
 * embeds nothing is told apart from a bad window:
 *
 * <ul>
 *   <li>Each {@code embedBatch} call that fails {@link InferenceException#isTransient()
 *       transiently} is repeated per {@link BatchingOptions#retryPolicy()}. A {@link
 *       RuntimeException} thrown by the embedder and a malformed result (wrong number of vectors,
 *       wrong vector length) are non-transient {@code InferenceException}s naming the problem.
 *   <li>When the call still fails, the engine checks whether the model serves other input: it has
 *       succeeded since, or it embeds a known-good probe window (a copy of the first window it
 *       embedded; before that, {@link BatchingOptions#canaryWindowSamples()} of silence).
 *   <li>If so, the batch is split in halves, recursively, so that only failing windows keep
 *       failing: a window that fails alone fails with a {@link PoisonWindowException} (its {@link
 *       WindowTag}, the cause); the caller dead-letters it and goes on. Isolating one poison window
 *       in a batch of n costs about 3 log2(n) + 2 extra calls on that worker.
 *   <li>If not, the model is in an <em>outage</em>: the batch is run again after the backoffs of
 *       {@link BatchingOptions#outageRetryPolicy()}, then its windows fail with the embedder's
 *       {@code InferenceException}: a permanent failure (the caller should stop).
 *   <li>An {@link Error} thrown by the embedder kills its worker: see Health.
 * </ul>
 *
 * <h2>Health</h2>
 *
 * A worker that dies (an {@code Error} from the embedder, or a fault in the engine) fails the
 * not-yet-completed windows of its batch with {@link WorkerDiedException}; when no worker is left,
 * every queued window fails the same way and every submit throws it. Dead workers are not replaced.
 * {@link #health()} reports workers alive, queue depth, the age of the last success and whether the
 * model is in an outage, for liveness and readiness probes.
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
 * Its three gauges are removed from the registry at the end; counters and timers stay (a later
 * engine with the same model name continues them).
 *
 * <h2>Metrics</h2>
 *
 * See {@link BatcherMetricNames} for the {@code callvec.batcher.*} meters.
 */
public final class BatchingEngine implements WindowSubmitter, AutoCloseable {
  /** Sample rate of every window, Hz. */
  public static final int SAMPLE_RATE_HZ = 16_000;

  private static final Logger log = LoggerFactory.getLogger(BatchingEngine.class);

  private final List<WindowEmbedder> embedders;
  private final BatchingOptions options;
  private final String model;
  private final int dimension;
  private final Ticker ticker;
  private final BatcherMeters meters;
  private final DispatchQueue queue;

  /** One per distinct embedder (by identity), in the order of first appearance. */
  private final List<ModelStatus> statuses;

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
    boolean mixedLengths = first.acceptsMixedLengths();
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
    this.ticker = options.ticker();
    this.meters =
        new BatcherMeters(options.meterRegistry(), model, options.maxBatchWindows(), workerCount);
    this.queue =
        new DispatchQueue(
            model,
            mixedLengths,
            options.maxBatchWindows(),
            options.queueCapacityWindows(),
            options.maxDelay().toNanos(),
            workerCount,
            ticker,
            meters);
    Completer completer = new Completer(options.completionExecutor().orElse(null), meters);
    Map<WindowEmbedder, ModelStatus> byEmbedder = new IdentityHashMap<>();
    List<ModelStatus> distinct = new ArrayList<>();
    List<Thread> threads = new ArrayList<>(workerCount);
    for (int i = 0; i < workerCount; i++) {
      WindowEmbedder embedder = this.embedders.get(i % this.embedders.size());
      ModelStatus status =
          byEmbedder.computeIfAbsent(
              embedder,
              e -> {
                ModelStatus s = new ModelStatus(ticker, options.canaryWindowSamples());
                distinct.add(s);
                return s;
              });
      BatchRunner runner =
          new BatchRunner(
              model, embedder, dimension, options, status, meters, completer, abortSignal);
      Thread t =
          new Thread(new Worker(queue, runner, meters), "callvec-batcher-" + model + "-" + i);
      t.setDaemon(true);
      threads.add(t);
    }
    this.statuses = List.copyOf(distinct);
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
   * Queues one window for embedding, untagged; see {@link #submit(float[], WindowTag, Duration)}
   * (waits up to {@link BatchingOptions#submitTimeout()} for room).
   */
  public CompletableFuture<float[]> submit(float[] window) {
    return submit(window, WindowTag.NONE, options.submitTimeout());
  }

  /**
   * Queues one tagged window, waiting up to {@link BatchingOptions#submitTimeout()} for room; see
   * {@link #submit(float[], WindowTag, Duration)}.
   */
  public CompletableFuture<float[]> submit(float[] window, WindowTag tag) {
    return submit(window, tag, options.submitTimeout());
  }

  /**
   * Queues one window for embedding, waiting at most {@code maxWait} (real time) for room while the
   * queue is full. Apart from that wait, the call waits only for the engine's lock (see "Bounds"
   * above).
   *
   * @param window mono audio at {@value #SAMPLE_RATE_HZ} Hz, at least one sample; not copied: do
   *     not modify it until the future completes
   * @param tag owner (for {@link #cancel(String)}) and label (for failures)
   * @param maxWait longest wait for room; {@link Duration#ZERO}: none
   * @return a future completed with the window's vector ({@link #dimension()} floats), or
   *     exceptionally with a {@link PoisonWindowException} (this window fails alone), the
   *     embedder's {@link InferenceException} (model outage), a {@link WorkerDiedException}, or an
   *     {@link EngineClosedException} if a shutdown gave up on it; cancelled by {@link
   *     #cancel(String)}
   * @throws QueueFullException if the queue stayed full for {@code maxWait}
   * @throws EngineClosedException if shutdown has begun (also when it begins while this call waits)
   * @throws WorkerDiedException if no worker is alive
   * @throws SubmitInterruptedException if the thread was interrupted while waiting for room
   * @throws IllegalArgumentException if the window is empty or maxWait negative
   */
  public CompletableFuture<float[]> submit(float[] window, WindowTag tag, Duration maxWait) {
    Objects.requireNonNull(maxWait, "maxWait");
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("maxWait must be >= 0, found " + maxWait);
    }
    QueuedWindow w = newWindow(window, tag);
    if (!offer(w, saturatedNanos(maxWait))) {
      meters.rejectedQueueFull();
      throw new QueueFullException(model, queue.capacity(), maxWait);
    }
    return w.future;
  }

  /**
   * Queues one window if there is room now; never waits for room (only for the engine's lock, see
   * "Bounds" above). A refused window is not kept: the caller keeps it and submits it again later,
   * e.g. when {@link #remainingCapacity()} is positive. Refusals are counted as {@code
   * rejected{reason=queue_full}}.
   *
   * @return an accepted admission with the window's future (as {@link #submit(float[])}), or a
   *     refused one when the queue is full
   * @throws EngineClosedException if shutdown has begun
   * @throws WorkerDiedException if no worker is alive
   * @throws IllegalArgumentException if the window is empty
   */
  @Override
  public Admission trySubmit(float[] window, WindowTag tag) {
    QueuedWindow w = newWindow(window, tag);
    if (!offer(w, 0)) {
      meters.rejectedQueueFull();
      return Admission.queueFull();
    }
    return Admission.accepted(w.future);
  }

  /**
   * Withdraws the queued windows of {@code owner} (those not yet in a running batch): they are
   * never inferred and their futures end cancelled ({@link CompletableFuture#isCancelled()});
   * dependent stages run on this thread. Windows already running complete as usual.
   *
   * @return how many windows were withdrawn
   */
  @Override
  public int cancel(String owner) {
    List<QueuedWindow> removed = queue.cancel(owner);
    meters.cancelled(QueuedWindow.pending(removed));
    for (QueuedWindow w : removed) {
      w.future.cancel(false);
    }
    if (!removed.isEmpty()) {
      log.info(
          "batcher of model '{}': cancelled {} queued window(s) of owner {}",
          model,
          removed.size(),
          owner);
    }
    return removed.size();
  }

  private QueuedWindow newWindow(float[] window, WindowTag tag) {
    Objects.requireNonNull(window, "window");
    Objects.requireNonNull(tag, "tag");
    if (window.length == 0) {
      throw new IllegalArgumentException(
          "window must hold at least one sample, found 0 (" + tag + ")");
    }
    return new QueuedWindow(window, tag);
  }

  /** True when queued; false when the queue stayed full; throws for the other refusals. */
  private boolean offer(QueuedWindow w, long waitNanos) {
    DispatchQueue.Refusal refusal;
    try {
      refusal = queue.offer(w, waitNanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      meters.rejectedInterrupted();
      throw new SubmitInterruptedException(
          "interrupted while waiting for room in the full batcher queue of model '" + model + "'",
          e);
    }
    switch (refusal) {
      case NONE:
        return true;
      case FULL:
        return false;
      case CLOSED:
        meters.rejectedClosed();
        throw new EngineClosedException(
            "batcher of model '" + model + "' is shut down and accepts no more windows");
      case NO_WORKERS:
      default:
        meters.rejectedClosed();
        throw new WorkerDiedException(
            "batcher of model '" + model + "' has no worker left (all died); see its error log",
            null);
    }
  }

  /** Length of every vector, in floats (the embedders' dimension). */
  public int dimension() {
    return dimension;
  }

  /** The options this engine runs with. */
  public BatchingOptions options() {
    return options;
  }

  /** Number of worker threads started. */
  public int workerCount() {
    return workers.size();
  }

  /** Windows queued now, not yet dispatched. */
  public int queuedWindows() {
    return queue.queued();
  }

  /**
   * Windows that {@link #trySubmit} would accept now without refusal: queue capacity minus queued
   * windows; 0 once shut down or without workers. A capacity signal for a submitter that keeps
   * refused windows itself (another thread may take the room first).
   */
  @Override
  public int remainingCapacity() {
    return queue.remainingCapacity();
  }

  /** Windows in batches running now. */
  public int inFlightWindows() {
    return meters.inFlightWindows.get();
  }

  /** A snapshot of the engine's health (see {@link EngineHealth}). */
  public EngineHealth health() {
    int alive = 0;
    for (Thread w : workers) {
      alive += w.isAlive() ? 1 : 0;
    }
    long now = ticker.nanoTime();
    boolean outage = false;
    boolean anySuccess = false;
    long lastSuccess = 0;
    long lastProgress = 0;
    for (int i = 0; i < statuses.size(); i++) {
      ModelStatus s = statuses.get(i);
      outage |= s.inOutage();
      long progress = s.lastProgressNanos();
      if (i == 0 || progress - lastProgress > 0) {
        lastProgress = progress;
      }
      if (s.everSucceeded() && (!anySuccess || progress - lastSuccess > 0)) {
        lastSuccess = progress;
        anySuccess = true;
      }
    }
    DispatchQueue.State state = queue.state();
    return new EngineHealth(
        model,
        workers.size(),
        alive,
        queue.queued(),
        inFlightWindows(),
        queue.capacity(),
        anySuccess
            ? Optional.of(Duration.ofNanos(Math.max(0, now - lastSuccess)))
            : Optional.empty(),
        Duration.ofNanos(Math.max(0, now - lastProgress)),
        outage,
        state != DispatchQueue.State.RUNNING);
  }

  /** {@code health().isLive()}: not shut down and every worker alive. */
  public boolean isHealthy() {
    return health().isLive();
  }

  /** True once a shutdown has begun (submit then throws {@link EngineClosedException}). */
  public boolean isShutdown() {
    return queue.state() != DispatchQueue.State.RUNNING;
  }

  /** True once a shutdown has ended. */
  public boolean isTerminated() {
    return queue.state() == DispatchQueue.State.TERMINATED;
  }

  /**
   * Stops accepting windows, drains queued and running work for up to {@code drainTimeout}, then
   * fails what is left with {@link EngineClosedException} and waits up to {@code workerJoinTimeout}
   * for the workers. Closes the embedders if the engine owns them and every worker stopped.
   * Idempotent: later calls return the first call's result at once (concurrent calls wait for it).
   *
   * @param drainTimeout time for the work to finish; {@link Duration#ZERO} fails queued and running
   *     windows at once
   * @return true when every accepted window was completed by its batch (none failed by the shutdown
   *     or by a dead worker) and every worker stopped
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
      queue.beginDrain();
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
      queue.terminate();
      meters.removeGauges();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      boolean workersDied = meters.workersAlive.get() < workers.size();
      shutdownResult = failedByShutdown == 0 && stopped && !workersDied;
      log.info(
          "batcher of model '{}' shut down: {} window(s) failed by the shutdown, workers {}{}",
          model,
          failedByShutdown,
          stopped ? "stopped" : "still running",
          workersDied ? " (some had died)" : "");
      return shutdownResult;
    }
  }

  /** {@link #shutdown(Duration)} with {@link BatchingOptions#drainTimeout()}. */
  @Override
  public void close() {
    shutdown(options.drainTimeout());
  }

  // ---------------------------------------------------------------------------------------------
  // Shutdown helpers

  /** Fails every queued and running window; returns how many futures this failed. */
  private int abortOutstanding(Duration drainTimeout) {
    List<Batch> running = new ArrayList<>();
    List<QueuedWindow> notDispatched = queue.abort(running);
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
    int pending = QueuedWindow.pending(notDispatched);
    for (Batch b : running) {
      pending += QueuedWindow.pending(b.items);
    }
    meters.failedByShutdown(pending); // before completing, like the Completer
    int failed = 0;
    for (QueuedWindow w : notDispatched) {
      if (w.future.completeExceptionally(queuedFailure)) {
        failed++;
      }
    }
    for (Batch b : running) {
      for (QueuedWindow w : b.items) {
        if (w.future.completeExceptionally(runningFailure)) {
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
      return Math.min(d.toNanos(), DispatchQueue.MAX_WAIT_NANOS);
    } catch (ArithmeticException overflow) {
      return DispatchQueue.MAX_WAIT_NANOS;
    }
  }
}
