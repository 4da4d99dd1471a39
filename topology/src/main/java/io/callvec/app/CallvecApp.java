package io.callvec.app;

import io.callvec.model.EmbeddingModel;
import io.callvec.model.ModelLoadException;
import io.callvec.model.ModelOptions;
import io.callvec.model.Pooling;
import io.callvec.model.WindowEmbedder;
import io.callvec.model.batch.Admission;
import io.callvec.model.batch.BatcherMetricNames;
import io.callvec.model.batch.BatchingEngine;
import io.callvec.model.batch.BatchingOptions;
import io.callvec.model.batch.RetryPolicy;
import io.callvec.model.batch.WindowTag;
import io.callvec.model.vad.SileroVad;
import io.callvec.schemas.AvroTrust;
import io.callvec.schemas.serde.TopicSerdes;
import io.callvec.topology.CallvecTopology;
import io.callvec.topology.SpeechDetection;
import io.callvec.topology.TopologyMetrics;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.VadSettings;
import io.callvec.topology.internals.InferenceClient;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How callvec runs (what it is lives in {@link CallvecTopology}): loads the model, starts the shared
 * micro-batcher, builds the topology, runs Kafka Streams, serves the HTTP endpoint, and shuts all of
 * it down in the reverse order.
 *
 * <p>Shutdown ({@link #close()}, e.g. on SIGTERM): Kafka Streams is closed first (it commits what
 * is done; windows still in inference stay pending in the changelog and are resubmitted by the next
 * owner), then the batcher drains, then the model's session is closed.
 *
 * <p>Start-up first checks that Kafka accepts this client ({@link KafkaAccessCheck}): wrong
 * credentials or an untrusted broker certificate fail {@link #start} at once. The configuration
 * is logged with secrets hidden ({@link CallvecConfig#toString()}).
 *
 * <p>A stream thread that fails (e.g. a window whose inference failed permanently) shuts this
 * client down ({@code SHUTDOWN_CLIENT}); {@link #failure()} then holds the cause and {@link
 * #awaitTermination} returns.
 */
public final class CallvecApp implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CallvecApp.class);

  private final CallvecConfig config;
  private final PrometheusMeterRegistry registry;
  private final EmbeddingModel model;
  /** Silero VAD, one per JVM, shared by all tasks; null when {@code callvec.vad.enabled} is false. */
  private final SileroVad vad;
  private final BatchingEngine engine;
  private final TopologyMetrics metrics;
  private final KafkaStreams streams;
  private final KafkaStreamsMetrics streamsMetrics;
  /** Refreshes the bridged Kafka metrics, so that task and state-store meters appear soon after a rebalance. */
  private final java.util.concurrent.ScheduledExecutorService metricsRefresher =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "callvec-kafka-metrics-refresh");
        t.setDaemon(true);
        return t;
      });
  /** How often new Kafka Streams meters (tasks, state stores) are picked up. */
  static final Duration KAFKA_METRICS_REFRESH = Duration.ofSeconds(10);
  private final HttpEndpoint http;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean closed;

  private CallvecApp(CallvecConfig config, UnaryOperator<WindowEmbedder> embedderDecorator) throws ModelLoadException, IOException {
    Objects.requireNonNull(embedderDecorator, "embedderDecorator");
    AvroTrust.install();
    this.config = config;
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    TopicSerdes serdes = RegistryStartup.serdes(config, registry);
    VadSettings vadSettings = VadSettings.from(config);
    this.model = loadModel(config);
    SileroVad createdVad = null;
    boolean ok = false;
    BatchingEngine createdEngine = null;
    KafkaStreams createdStreams = null;
    HttpEndpoint createdHttp = null;
    KafkaStreamsMetrics createdStreamsMetrics = null;
    try {
      checkWindowsFitTheModel(TopologySettings.from(config), model.info());
      if (vadSettings.enabled()) {
        createdVad = SileroVad.load();
      }
      createdEngine = new BatchingEngine(Objects.requireNonNull(embedderDecorator.apply(model), "embedderDecorator returned null"),
          BatchingOptions.builder()
          .modelName(model.info().modelId())
          .canaryWindowSamples(TopologySettings.from(config).frontEnd().windowSamples())
          .maxBatchWindows(config.getInt(Settings.BATCH_MAX_WINDOWS))
          .maxDelay(Duration.ofMillis(config.getLong(Settings.BATCH_MAX_DELAY_MS)))
          .queueCapacityWindows(config.getInt(Settings.BATCH_QUEUE_CAPACITY))
          .workers(config.getInt(Settings.BATCH_WORKERS))
          .retryPolicy(RetryPolicy.of(config.getInt(Settings.BATCH_MAX_ATTEMPTS), Duration.ofMillis(50), 2.0, Duration.ofSeconds(2)))
          .meterRegistry(registry)
          .build());
      this.metrics = new TopologyMetrics(registry);
      SpeechDetection speech = createdVad == null ? SpeechDetection.off() : new SpeechDetection(vadSettings, createdVad);
      Topology topology = CallvecTopology.build(TopologySettings.from(config), inferenceClient(createdEngine, model), metrics, serdes, speech);
      log.debug("topology:\n{}", topology.describe());
      createdStreams = new KafkaStreams(topology, config.streamsProperties());
      createdStreams.setUncaughtExceptionHandler(e -> {
        if (KafkaAccessCheck.isAuthenticationFailure(e)) {
          log.error("Kafka refused this client (authentication or TLS handshake failed), shutting this instance down: {}", causeChain(e));
        } else {
          log.error("stream thread failed, shutting this instance down: {}", causeChain(e), e);
        }
        failure.compareAndSet(null, e);
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
      });
      KafkaStreams s = createdStreams;
      createdStreams.setStateListener((now, before) -> {
        log.info("Kafka Streams: {} -> {}", before, now);
        if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
          stopped.countDown();
        }
      });
      createdStreamsMetrics = new KafkaStreamsMetrics(createdStreams, java.util.List.of(), metricsRefresher, KAFKA_METRICS_REFRESH);
      createdStreamsMetrics.bindTo(registry);
      int port = config.getInt(Settings.HTTP_PORT);
      if (port >= 0) {
        BatchingEngine e = createdEngine;
        createdHttp = HttpEndpoint.start(port, registry, () -> HealthProbes.live(s.state(), e.health()),
            () -> HealthProbes.ready(s.state(), e.health()));
      }
      ok = true;
    } finally {
      if (!ok) {
        if (createdHttp != null) {
          createdHttp.close();
        }
        if (createdStreams != null) {
          createdStreams.close(Duration.ofSeconds(5));
        }
        if (createdEngine != null) {
          createdEngine.close();
        }
        metricsRefresher.shutdownNow();
        try {
          model.close();
        } finally {
          if (createdVad != null) {
            createdVad.close();
          }
        }
      }
    }
    this.vad = createdVad;
    this.engine = createdEngine;
    this.streams = createdStreams;
    this.http = createdHttp;
    this.streamsMetrics = createdStreamsMetrics;
  }

  /**
   * Builds and starts the app.
   *
   * @throws KafkaAccessCheck.KafkaAccessException when Kafka rejects the credentials or the TLS
   *     handshake ({@link KafkaAccessCheck}), before the model is loaded
   */
  public static CallvecApp start(CallvecConfig config) throws ModelLoadException, IOException {
    return start(config, UnaryOperator.identity());
  }

  /**
   * Builds and starts the app with the loaded model wrapped by {@code embedderDecorator} before the
   * micro-batcher sees it: for fault injection in tests (a model that fails transiently or for good)
   * and for instrumentation. Everything else (retry policy, failure handling, shutdown) is as in
   * {@link #start(CallvecConfig)}; the model itself is still closed by {@link #close()}.
   *
   * @param embedderDecorator gets the loaded model, returns what the batcher runs (not null)
   */
  public static CallvecApp start(CallvecConfig config, UnaryOperator<WindowEmbedder> embedderDecorator)
      throws ModelLoadException, IOException {
    log.info("configuration (secrets hidden):\n{}", config);
    KafkaAccessCheck.run(config);
    CallvecApp app = new CallvecApp(config, embedderDecorator);
    log.info("starting callvec: application.id={} bootstrap.servers={} input={} model={} ({}, dim {}) provider={}",
        config.raw("application.id"), config.raw("bootstrap.servers"), config.get(Settings.INPUT_TOPIC),
        app.model.info().modelId(), app.model.info().source(), app.model.info().dimension(), app.model.info().provider());
    app.streams.start();
    return app;
  }

  static EmbeddingModel loadModel(CallvecConfig config) throws ModelLoadException {
    ModelOptions.Builder options = ModelOptions.builder()
        .provider(config.get(Settings.MODEL_PROVIDER))
        .intraOpThreads(config.getInt(Settings.MODEL_INTRA_OP_THREADS))
        .intraOpSpinning(config.getBoolean(Settings.MODEL_INTRA_OP_SPINNING))
        .pooling(Pooling.valueOf(config.get(Settings.MODEL_POOLING).toUpperCase(Locale.ROOT)))
        .l2Normalize(config.getBoolean(Settings.MODEL_L2_NORMALIZE));
    return openModel(config.get(Settings.MODEL_PATH), withLayer(config, options).build());
  }

  /**
   * Applies {@code callvec.model.layer} to {@code options}: {@code auto} leaves the model's
   * default output, a number k ≥ 0 pools {@code hidden_states_<k>} ({@link ModelOptions.Builder#layer}).
   *
   * @throws CallvecConfig.ConfigException naming the key when the value is neither
   */
  public static ModelOptions.Builder withLayer(CallvecConfig config, ModelOptions.Builder options) {
    String layer = config.get(Settings.MODEL_LAYER).trim();
    if (layer.equalsIgnoreCase("auto")) {
      return options;
    }
    int k;
    try {
      k = Integer.parseInt(layer);
    } catch (NumberFormatException e) {
      throw new CallvecConfig.ConfigException("setting '" + Settings.MODEL_LAYER.key() + "' must be auto or a layer number >= 0, got '" + layer + "'");
    }
    if (k < 0) {
      throw new CallvecConfig.ConfigException("setting '" + Settings.MODEL_LAYER.key() + "' must be auto or a layer number >= 0, got " + k);
    }
    return options.layer(k);
  }

  /**
   * Opens a model by its {@code callvec.model.path} spelling: {@code classpath:fixture} (also
   * {@code fixture}) for the bundled fixture, {@code classpath:/resource.onnx}, or a file path.
   */
  public static EmbeddingModel openModel(String path, ModelOptions options) throws ModelLoadException {
    if (path.equals("classpath:fixture") || path.equals("fixture")) {
      log.warn("using the bundled fixture model (tiny, random weights): its embeddings are NOT meaningful; "
          + "export a real model with model/tools/export.py and set callvec.model.path");
      return EmbeddingModel.loadBundledFixture(options);
    }
    if (path.startsWith("classpath:")) {
      return EmbeddingModel.loadResource(path.substring("classpath:".length()), options);
    }
    return EmbeddingModel.load(Path.of(path), options);
  }

  /**
   * Refuses settings under which windows cannot be embedded: a final window shorter than the model's
   * receptive field gives no output frame, so every call's last window would fail (a poison window
   * per call, by configuration alone).
   *
   * @throws CallvecConfig.ConfigException naming the setting, its value and the model's receptive field
   */
  static void checkWindowsFitTheModel(TopologySettings settings, io.callvec.model.ModelInfo info) {
    int minSamples = settings.frontEnd().minFinalWindowSamples();
    if (minSamples < info.receptiveFieldSamples()) {
      throw new CallvecConfig.ConfigException("setting '" + Settings.MIN_FINAL_WINDOW_MS.key() + "' = " + settings.frontEnd().minFinalWindowMs()
          + " ms gives final windows of " + minSamples + " samples at 16 kHz, shorter than the model's receptive field of "
          + info.receptiveFieldSamples() + " samples (" + info.receptiveFieldSamples() / 16.0 + " ms): such a window has no output frame."
          + " Use at least " + (info.receptiveFieldSamples() + 15) / 16 + " ms.");
    }
  }

  /** Adapts the batcher to the processor's port. */
  public static InferenceClient inferenceClient(BatchingEngine engine, EmbeddingModel model) {
    return new InferenceClient() {
      @Override
      public Admission trySubmit(float[] window, WindowTag tag) {
        return engine.trySubmit(window, tag);
      }

      @Override
      public int remainingCapacity() {
        return engine.remainingCapacity();
      }

      @Override
      public int cancel(String owner) {
        return engine.cancel(owner);
      }

      @Override
      public io.callvec.model.ModelInfo modelInfo() {
        return model.info();
      }
    };
  }

  public KafkaStreams streams() {
    return streams;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public TopologyMetrics metrics() {
    return metrics;
  }

  public EmbeddingModel model() {
    return model;
  }

  /** The HTTP port, or -1 when the endpoint is disabled. */
  public int httpPort() {
    return http == null ? -1 : http.port();
  }

  /** "a: b ← caused by c: d …": every message of a cause chain on one line, for logs and exit messages. */
  public static String causeChain(Throwable e) {
    StringBuilder sb = new StringBuilder();
    java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
      if (sb.length() > 0) {
        sb.append(" <- caused by ");
      }
      sb.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
    }
    return sb.toString();
  }

  /** The error that stopped a stream thread, if any. */
  public Throwable failure() {
    return failure.get();
  }

  /** Waits until Kafka Streams has stopped (closed, or shut down after a failure). */
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return stopped.await(timeout, unit);
  }

  /** Sum of a counter over its tags in this app's registry (0 if absent). */
  private double counterSum(String name) {
    return registry.find(name).counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    log.info("stopping callvec: closing Kafka Streams, draining the batcher, closing the model");
    try {
      CloseOptions.GroupMembershipOperation membership = config.getBoolean(Settings.LEAVE_GROUP_ON_CLOSE)
          ? CloseOptions.GroupMembershipOperation.LEAVE_GROUP : CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP;
      streams.close(CloseOptions.groupMembershipOperation(membership).withTimeout(Duration.ofSeconds(60)));
    } finally {
      try {
        streamsMetrics.close();
        metricsRefresher.shutdownNow();
        engine.close();
        // For the record (and the scale-out test's repeated-work ratio): this process's own totals.
        log.info("callvec totals at close: windows_embedded={} segments_emitted={}", (long) counterSum(BatcherMetricNames.WINDOWS),
            (long) counterSum(TopologyMetrics.SEGMENTS));
      } finally {
        try {
          model.close();
        } finally {
          try {
            if (vad != null) {
              vad.close();
            }
          } finally {
            if (http != null) {
              http.close();
            }
            stopped.countDown();
          }
        }
      }
    }
  }
}
