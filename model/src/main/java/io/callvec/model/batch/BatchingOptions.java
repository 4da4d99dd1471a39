package io.callvec.model.batch;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * Immutable configuration of a {@link BatchingEngine}. Build with {@link #builder()}; every setting
 * has a documented default, so {@code BatchingOptions.builder().modelName("w2v2").build()} is a
 * complete configuration.
 *
 * <table>
 *   <caption>Settings and defaults</caption>
 *   <tr><th>setting</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code modelName}</td><td>"default"</td><td>value of the {@code model} tag of every
 *       metric; unique per live engine in one registry</td></tr>
 *   <tr><td>{@code maxBatchWindows}</td><td>8</td><td>most windows in one batch (the model's batch
 *       dimension)</td></tr>
 *   <tr><td>{@code maxDelay}</td><td>10 ms</td><td>longest a queued window waits for companions
 *       while a worker is free; {@link Duration#ZERO} = greedy</td></tr>
 *   <tr><td>{@code queueCapacityWindows}</td><td>16 &times; maxBatchWindows</td><td>bound of the
 *       queue, in windows (in-flight batches not counted)</td></tr>
 *   <tr><td>{@code workers}</td><td>0 = one per embedder</td><td>threads calling {@code
 *       embedBatch}; workers sharing an embedder share its session and device</td></tr>
 *   <tr><td>{@code submitTimeout}</td><td>10 s</td><td>longest {@code submit} blocks on a full
 *       queue before {@link QueueFullException}; ZERO = fail at once</td></tr>
 *   <tr><td>{@code drainTimeout}</td><td>30 s</td><td>what {@link BatchingEngine#close()} gives
 *       queued and in-flight work to finish</td></tr>
 *   <tr><td>{@code workerJoinTimeout}</td><td>10 s</td><td>after a drain timeout, how long the
 *       shutdown still waits for workers stuck in {@code embedBatch}</td></tr>
 *   <tr><td>{@code retryPolicy}</td><td>{@link RetryPolicy#defaults()}</td><td>retries of
 *       transient inference failures</td></tr>
 *   <tr><td>{@code outageRetryPolicy}</td><td>{@link #DEFAULT_OUTAGE_RETRY}</td><td>re-runs of a
 *       batch while the model fails a known-good probe too</td></tr>
 *   <tr><td>{@code canaryWindowSamples}</td><td>16,000</td><td>length of the silent probe window
 *       used before anything was embedded</td></tr>
 *   <tr><td>{@code meterRegistry}</td><td>a private {@link SimpleMeterRegistry}</td><td>where the
 *       {@code callvec.batcher.*} meters go</td></tr>
 *   <tr><td>{@code ticker}</td><td>{@link Ticker#SYSTEM}</td><td>time source of delays and timing
 *       metrics (tests)</td></tr>
 *   <tr><td>{@code completionExecutor}</td><td>none: the worker completes futures</td><td>where
 *       futures are completed</td></tr>
 *   <tr><td>{@code ownsEmbedder}</td><td>false</td>
 *       <td>whether shutdown closes the embedder(s)</td></tr>
 * </table>
 */
public final class BatchingOptions {
  /** Default of {@link Builder#maxBatchWindows(int)}. */
  public static final int DEFAULT_MAX_BATCH_WINDOWS = 8;

  /** Default of {@link Builder#maxDelay(Duration)}. */
  public static final Duration DEFAULT_MAX_DELAY = Duration.ofMillis(10);

  /** The default queue capacity is this many full batches. */
  public static final int DEFAULT_QUEUE_CAPACITY_BATCHES = 16;

  /** Default of {@link Builder#submitTimeout(Duration)}. */
  public static final Duration DEFAULT_SUBMIT_TIMEOUT = Duration.ofSeconds(10);

  /** Default of {@link Builder#drainTimeout(Duration)}. */
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

  /** Default of {@link Builder#workerJoinTimeout(Duration)}. */
  public static final Duration DEFAULT_WORKER_JOIN_TIMEOUT = Duration.ofSeconds(10);

  /**
   * Default of {@link Builder#outageRetryPolicy(RetryPolicy)}: 4 runs in all, waits of 0.5 s, 1 s
   * and 2 s (3.5 s of waiting per batch).
   */
  public static final RetryPolicy DEFAULT_OUTAGE_RETRY =
      RetryPolicy.of(4, Duration.ofMillis(500), 2.0, Duration.ofSeconds(5));

  /** Default of {@link Builder#canaryWindowSamples(int)}: 1 s at 16 kHz. */
  public static final int DEFAULT_CANARY_WINDOW_SAMPLES = 16_000;

  /** Upper bound of {@link Builder#maxBatchWindows(int)}. */
  public static final int MAX_BATCH_WINDOWS_LIMIT = 4096;

  private final String modelName;
  private final int maxBatchWindows;
  private final Duration maxDelay;
  private final int queueCapacityWindows;
  private final int workers;
  private final Duration submitTimeout;
  private final Duration drainTimeout;
  private final Duration workerJoinTimeout;
  private final RetryPolicy retryPolicy;
  private final RetryPolicy outageRetryPolicy;
  private final int canaryWindowSamples;
  private final MeterRegistry meterRegistry;
  private final Ticker ticker;
  private final Executor completionExecutor;
  private final boolean ownsEmbedder;

  private BatchingOptions(Builder b) {
    this.modelName = b.modelName;
    this.maxBatchWindows = b.maxBatchWindows;
    this.maxDelay = b.maxDelay;
    this.queueCapacityWindows =
        b.queueCapacityWindows > 0
            ? b.queueCapacityWindows
            : DEFAULT_QUEUE_CAPACITY_BATCHES * b.maxBatchWindows;
    this.workers = b.workers;
    this.submitTimeout = b.submitTimeout;
    this.drainTimeout = b.drainTimeout;
    this.workerJoinTimeout = b.workerJoinTimeout;
    this.retryPolicy = b.retryPolicy;
    this.outageRetryPolicy = b.outageRetryPolicy;
    this.canaryWindowSamples = b.canaryWindowSamples;
    this.meterRegistry = b.meterRegistry != null ? b.meterRegistry : new SimpleMeterRegistry();
    this.ticker = b.ticker;
    this.completionExecutor = b.completionExecutor;
    this.ownsEmbedder = b.ownsEmbedder;
    if (queueCapacityWindows < maxBatchWindows) {
      throw new IllegalArgumentException(
          "queueCapacityWindows ("
              + queueCapacityWindows
              + ") must be >= maxBatchWindows ("
              + maxBatchWindows
              + "), or no batch could ever fill");
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder preset with these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.modelName = modelName;
    b.maxBatchWindows = maxBatchWindows;
    b.maxDelay = maxDelay;
    b.queueCapacityWindows = queueCapacityWindows;
    b.workers = workers;
    b.submitTimeout = submitTimeout;
    b.drainTimeout = drainTimeout;
    b.workerJoinTimeout = workerJoinTimeout;
    b.retryPolicy = retryPolicy;
    b.outageRetryPolicy = outageRetryPolicy;
    b.canaryWindowSamples = canaryWindowSamples;
    b.meterRegistry = meterRegistry;
    b.ticker = ticker;
    b.completionExecutor = completionExecutor;
    b.ownsEmbedder = ownsEmbedder;
    return b;
  }

  /** Value of the {@code model} tag on every metric. */
  public String modelName() {
    return modelName;
  }

  /** Most windows in one batch. */
  public int maxBatchWindows() {
    return maxBatchWindows;
  }

  /** Longest a queued window waits for companions while a worker is free (ZERO = greedy). */
  public Duration maxDelay() {
    return maxDelay;
  }

  /** Bound of the queue in windows (windows of batches already running are not counted). */
  public int queueCapacityWindows() {
    return queueCapacityWindows;
  }

  /**
   * Number of worker threads; 0 means one per embedder given to the engine. Workers sharing one
   * embedder share its session and device (see {@link Builder#workers(int)}).
   */
  public int workers() {
    return workers;
  }

  /** Longest {@link BatchingEngine#submit(float[])} blocks on a full queue (real time). */
  public Duration submitTimeout() {
    return submitTimeout;
  }

  /** Time {@link BatchingEngine#close()} gives queued and in-flight work to finish (real time). */
  public Duration drainTimeout() {
    return drainTimeout;
  }

  /** After a drain timeout, how long shutdown still waits for workers inside {@code embedBatch}. */
  public Duration workerJoinTimeout() {
    return workerJoinTimeout;
  }

  /** Retries of one embedBatch call that fails transiently. */
  public RetryPolicy retryPolicy() {
    return retryPolicy;
  }

  /** Re-runs of a batch that fails while a known-good probe window fails too (model outage). */
  public RetryPolicy outageRetryPolicy() {
    return outageRetryPolicy;
  }

  /** Length of the silent probe window used before the engine has embedded anything, samples. */
  public int canaryWindowSamples() {
    return canaryWindowSamples;
  }

  public MeterRegistry meterRegistry() {
    return meterRegistry;
  }

  public Ticker ticker() {
    return ticker;
  }

  /** Where futures are completed; empty: on the worker thread that ran the batch. */
  public Optional<Executor> completionExecutor() {
    return Optional.ofNullable(completionExecutor);
  }

  /** Whether shutdown closes the embedder(s) (those that are {@link AutoCloseable}). */
  public boolean ownsEmbedder() {
    return ownsEmbedder;
  }

  @Override
  public String toString() {
    return "BatchingOptions[model="
        + modelName
        + ", maxBatchWindows="
        + maxBatchWindows
        + ", maxDelay="
        + maxDelay
        + ", queueCapacityWindows="
        + queueCapacityWindows
        + ", workers="
        + workers
        + ", submitTimeout="
        + submitTimeout
        + ", drainTimeout="
        + drainTimeout
        + ", workerJoinTimeout="
        + workerJoinTimeout
        + ", retry="
        + retryPolicy
        + ", outageRetry="
        + outageRetryPolicy
        + ", canaryWindowSamples="
        + canaryWindowSamples
        + ", ownsEmbedder="
        + ownsEmbedder
        + "]";
  }

  /** Builder of {@link BatchingOptions}; every setter validates its argument at once. */
  public static final class Builder {
    private String modelName = "default";
    private int maxBatchWindows = DEFAULT_MAX_BATCH_WINDOWS;
    private Duration maxDelay = DEFAULT_MAX_DELAY;
    private int queueCapacityWindows = 0;
    private int workers = 0;
    private Duration submitTimeout = DEFAULT_SUBMIT_TIMEOUT;
    private Duration drainTimeout = DEFAULT_DRAIN_TIMEOUT;
    private Duration workerJoinTimeout = DEFAULT_WORKER_JOIN_TIMEOUT;
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private RetryPolicy outageRetryPolicy = DEFAULT_OUTAGE_RETRY;
    private int canaryWindowSamples = DEFAULT_CANARY_WINDOW_SAMPLES;
    private MeterRegistry meterRegistry;
    private Ticker ticker = Ticker.SYSTEM;
    private Executor completionExecutor;
    private boolean ownsEmbedder;

    private Builder() {}

    /**
     * Value of the {@code model} tag of every {@code callvec.batcher.*} meter (default "default").
     * Two live engines in one registry must use different names, or they share meters.
     */
    public Builder modelName(String modelName) {
      Objects.requireNonNull(modelName, "modelName");
      if (modelName.isBlank()) {
        throw new IllegalArgumentException("modelName must not be blank");
      }
      this.modelName = modelName;
      return this;
    }

    /**
     * Most windows per batch, 1 to {@value BatchingOptions#MAX_BATCH_WINDOWS_LIMIT} (default
     * {@value BatchingOptions#DEFAULT_MAX_BATCH_WINDOWS}).
     *
     * <p>Counted in windows, not samples: the windows of one batch all have the same length (one
     * lane per length), so samples = windows &times; length anyway, and the window count is the
     * model's batch dimension, the unit in which GPU memory, TensorRT optimisation profiles and
     * fill are expressed. With an embedder that accepts mixed lengths, a padded batch costs windows
     * &times; the longest window.
     */
    public Builder maxBatchWindows(int maxBatchWindows) {
      if (maxBatchWindows < 1 || maxBatchWindows > MAX_BATCH_WINDOWS_LIMIT) {
        throw new IllegalArgumentException(
            "maxBatchWindows must be in [1, "
                + MAX_BATCH_WINDOWS_LIMIT
                + "], found "
                + maxBatchWindows);
      }
      this.maxBatchWindows = maxBatchWindows;
      return this;
    }

    /**
     * Longest a window waits in the queue for companions while a worker is free (default 10 ms): a
     * lane is dispatched as soon as it holds {@code maxBatchWindows} windows or its oldest window
     * has waited this long. {@link Duration#ZERO} makes the engine greedy: a free worker takes
     * whatever is queued at once. At most 1 hour.
     */
    public Builder maxDelay(Duration maxDelay) {
      Objects.requireNonNull(maxDelay, "maxDelay");
      if (maxDelay.isNegative() || maxDelay.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("maxDelay must be in [0, 1 h], found " + maxDelay);
      }
      this.maxDelay = maxDelay;
      return this;
    }

    /**
     * Bound of the queue, in windows, &ge; maxBatchWindows (default 16 &times; maxBatchWindows).
     * Windows inside running batches are not counted, so the engine holds at most {@code
     * queueCapacityWindows + workers * maxBatchWindows} windows: with 5 s windows (80,000 samples,
     * 320,000 bytes) and the default 128 that is about 41 MB queued.
     */
    public Builder queueCapacityWindows(int queueCapacityWindows) {
      if (queueCapacityWindows < 1) {
        throw new IllegalArgumentException(
            "queueCapacityWindows must be >= 1, found " + queueCapacityWindows);
      }
      this.queueCapacityWindows = queueCapacityWindows;
      return this;
    }

    /**
     * Worker threads, each running one batch at a time (default 0: one per embedder given to the
     * engine). Worker {@code i} calls embedder {@code i % embedders}. Workers do not choose
     * devices: they run on whatever device their embedder's session was created for. With a single
     * embedder (what the application passes today: one ONNX session on one device), all workers
     * share that session and device and run batches on it concurrently; that helps on CPU, and on
     * one GPU only to overlap one batch's host-side work with another's inference. To use several
     * GPUs, create one embedder per device and pass the list to {@link
     * BatchingEngine#BatchingEngine(java.util.List, BatchingOptions)}. 0 to 256.
     */
    public Builder workers(int workers) {
      if (workers < 0 || workers > 256) {
        throw new IllegalArgumentException(
            "workers must be in [0, 256] (0 = one per embedder), found " + workers);
      }
      this.workers = workers;
      return this;
    }

    /**
     * Longest {@link BatchingEngine#submit(float[])} blocks while the queue is full before it
     * throws {@link QueueFullException} (default 10 s; ZERO: throw at once). Real time.
     */
    public Builder submitTimeout(Duration submitTimeout) {
      this.submitTimeout = nonNegative(submitTimeout, "submitTimeout");
      return this;
    }

    /** Time {@link BatchingEngine#close()} gives queued and in-flight work (default 30 s). */
    public Builder drainTimeout(Duration drainTimeout) {
      this.drainTimeout = nonNegative(drainTimeout, "drainTimeout");
      return this;
    }

    /**
     * After a drain timeout has failed the outstanding windows, how long shutdown still waits for
     * workers that are inside {@code embedBatch} (default 10 s). Embedders are only closed (when
     * owned) once every worker has stopped.
     */
    public Builder workerJoinTimeout(Duration workerJoinTimeout) {
      this.workerJoinTimeout = nonNegative(workerJoinTimeout, "workerJoinTimeout");
      return this;
    }

    /**
     * Retries of one embedBatch call that fails transiently (default {@link
     * RetryPolicy#defaults()}).
     */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
      return this;
    }

    /**
     * Re-runs, with backoff, of a batch that failed while a known-good probe window failed too,
     * i.e. during a model outage (default {@link BatchingOptions#DEFAULT_OUTAGE_RETRY}). When they
     * are spent the batch's windows fail with the embedder's exception. The worker waits out the
     * backoffs itself, so queued work waits too; each run may also use {@link #retryPolicy}. {@link
     * RetryPolicy#none()}: fail at the first outage.
     */
    public Builder outageRetryPolicy(RetryPolicy outageRetryPolicy) {
      this.outageRetryPolicy = Objects.requireNonNull(outageRetryPolicy, "outageRetryPolicy");
      return this;
    }

    /**
     * Length, in samples at 16 kHz, of the window of silence the engine probes the model with after
     * a failure if it has not embedded any window yet (afterwards it probes with a copy of the
     * first window it embedded). Set it to a length the model always accepts, e.g. the
     * application's normal window length. 1 to 16,000,000 (default {@value
     * BatchingOptions#DEFAULT_CANARY_WINDOW_SAMPLES}).
     */
    public Builder canaryWindowSamples(int canaryWindowSamples) {
      if (canaryWindowSamples < 1 || canaryWindowSamples > 16_000_000) {
        throw new IllegalArgumentException(
            "canaryWindowSamples must be in [1, 16000000], found " + canaryWindowSamples);
      }
      this.canaryWindowSamples = canaryWindowSamples;
      return this;
    }

    /**
     * Registry of the {@code callvec.batcher.*} meters (default: a private SimpleMeterRegistry).
     */
    public Builder meterRegistry(MeterRegistry meterRegistry) {
      this.meterRegistry = Objects.requireNonNull(meterRegistry, "meterRegistry");
      return this;
    }

    /** Time source of max-delay decisions and timing metrics (default {@link Ticker#SYSTEM}). */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Executor that completes the futures of a finished batch, so that dependent stages added
     * without {@code *Async} run there instead of on the worker (default: none, the worker
     * completes them itself, which is cheapest when those stages are cheap). If the executor
     * rejects a task the worker completes the futures itself.
     */
    public Builder completionExecutor(Executor completionExecutor) {
      this.completionExecutor = Objects.requireNonNull(completionExecutor, "completionExecutor");
      return this;
    }

    /**
     * Whether the engine's shutdown closes its embedder(s) (default false: the caller closes them
     * after the engine). When true every embedder must be {@link AutoCloseable}.
     */
    public Builder ownsEmbedder(boolean ownsEmbedder) {
      this.ownsEmbedder = ownsEmbedder;
      return this;
    }

    /**
     * @throws IllegalArgumentException if queueCapacityWindows was set below maxBatchWindows
     */
    public BatchingOptions build() {
      return new BatchingOptions(this);
    }

    private static Duration nonNegative(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative()) {
        throw new IllegalArgumentException(name + " must be >= 0, found " + d);
      }
      return d;
    }
  }
}
