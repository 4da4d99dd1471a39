package io.callvec.topology;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.audio.AudioFormatException;
import io.callvec.audio.AudioWindow;
import io.callvec.audio.Encoding;
import io.callvec.audio.G711;
import io.callvec.audio.SyntheticSpeech;
import io.callvec.model.EmbeddingModel;
import io.callvec.model.ModelOptions;
import io.callvec.model.WindowEmbedder;
import io.callvec.model.batch.BatchingEngine;
import io.callvec.model.batch.BatchingOptions;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.serde.CallvecSerdes;
import io.callvec.topology.chunks.OfflineWindows;
import io.callvec.topology.chunks.Recording;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * The real topology with the real fixture model and micro-batcher in a {@link TopologyTestDriver}.
 * Inference is asynchronous, so reading output means advancing the driver's wall clock (which runs
 * the completion punctuator) until the expected records arrived.
 *
 * <p>Deterministic: the batcher sits behind a {@link SettledInference} gate, and {@link #step}
 * (which {@link #awaitCalls} and {@link #awaitSegments} repeat) first waits until the batcher has
 * finished every window submitted so far and releases their results in submission order, then
 * advances the driver's wall clock by {@link #STEP}. What the driver has forwarded after each step
 * thus depends on the inputs and the steps only, never on thread scheduling; no sleep is involved.
 * A window's result reaches the processor only in a {@link #step} (or {@link #settle}): a test that
 * advances the driver's clock itself sees no result that was not settled before.
 */
final class TopologyHarness implements AutoCloseable {
  /** The driver's wall clock at start, and the input topic's record timestamps unless a test gives its own. */
  static final Instant START = Instant.ofEpochMilli(1_000_000);

  static final EmbeddingModel MODEL;

  static {
    try {
      MODEL = EmbeddingModel.loadBundledFixture(ModelOptions.defaults());
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final CallvecConfig config;
  final TopologySettings settings;
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final TopologyMetrics metrics = new TopologyMetrics(registry);
  final BatchingEngine engine;
  /** The gate between the processor and {@link #engine}. */
  final SettledInference inference;
  final TopologyTestDriver driver;
  final TestInputTopic<String, AudioChunk> input;
  final TestOutputTopic<String, SegmentEmbedding> segments;
  final TestOutputTopic<String, CallEmbedding> calls;
  final TestOutputTopic<String, AudioChunk> dlq;
  private final Path stateDir;
  final List<SegmentEmbedding> segmentsSeen = new ArrayList<>();
  final List<TestRecord<String, CallEmbedding>> callsSeen = new ArrayList<>();

  TopologyHarness(Map<String, String> overrides) throws Exception {
    this(overrides, MODEL);
  }

  /** A harness whose batcher runs {@code embedder} (e.g. a model that fails on some windows). */
  TopologyHarness(Map<String, String> overrides, WindowEmbedder embedder) throws Exception {
    this(overrides, embedder, SpeechDetection.off());
  }

  /** A harness with voice activity detection as {@code speech} says. */
  TopologyHarness(Map<String, String> overrides, WindowEmbedder embedder, SpeechDetection speech) throws Exception {
    config = CallvecConfig.builder().overrides(overrides).build();
    settings = TopologySettings.from(config);
    BatchingOptions options = BatchingOptions.builder().maxBatchWindows(4).maxDelay(Duration.ofMillis(2)).meterRegistry(registry).build();
    engine = new BatchingEngine(embedder, options);
    inference = new SettledInference(CallvecApp.inferenceClient(engine, MODEL), options.queueCapacityWindows());
    stateDir = Files.createTempDirectory("callvec-ttd-");
    Properties p = config.streamsProperties();
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    driver = new TopologyTestDriver(CallvecTopology.build(settings, inference, metrics,
        io.callvec.schemas.serde.TopicSerdes.singleObject(), speech), p, START);
    input = driver.createInputTopic(settings.inputTopic(), Serdes.String().serializer(), CallvecSerdes.audioChunk().serializer());
    segments = driver.createOutputTopic(settings.segmentsTopic(), Serdes.String().deserializer(), CallvecSerdes.segmentEmbedding().deserializer());
    calls = driver.createOutputTopic(settings.callsTopic(), Serdes.String().deserializer(), CallvecSerdes.callEmbedding().deserializer());
    dlq = driver.createOutputTopic(settings.dlqTopic(), Serdes.String().deserializer(), CallvecSerdes.audioChunk().allowingNull().deserializer());
  }

  TopologyHarness() throws Exception {
    this(Map.of());
  }

  void pipe(List<AudioChunk> chunks) {
    for (AudioChunk c : chunks) {
      input.pipeInput(c.getCallId(), c);
    }
  }

  /** Driver wall-clock time of one {@link #step}. */
  static final Duration STEP = Duration.ofMillis(5);
  /** Driver time {@link #awaitCalls} and {@link #awaitSegments} step through at most before they fail. */
  static final Duration AWAIT_LIMIT = Duration.ofSeconds(60);
  /** Real time the batcher may take to finish the windows of one step (a deadline, never a pause). */
  static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(30);

  /**
   * Waits until the batcher has finished every window submitted so far and hands their results to
   * the processor, in submission order (forwarded at the next record or punctuation).
   */
  void settle() throws InterruptedException {
    inference.settle(SETTLE_TIMEOUT);
  }

  /** One deterministic step: {@link #settle}, then the driver's wall clock {@link #STEP} on (the punctuators forward the results), then {@link #collect}. */
  void step() throws InterruptedException {
    settle();
    driver.advanceWallClockTime(STEP);
    collect();
  }

  /** Steps until {@code n} call embeddings have arrived, {@link #AWAIT_LIMIT} of driver time at most. */
  void awaitCalls(int n) throws InterruptedException {
    await(() -> callsSeen.size() >= n, () -> n + " call embeddings; got " + callsSeen.size() + " and " + segmentsSeen.size() + " segments");
  }

  /** Like {@link #awaitCalls} for segments. */
  void awaitSegments(int n) throws InterruptedException {
    await(() -> segmentsSeen.size() >= n, () -> n + " segments; got " + segmentsSeen.size());
  }

  private void await(java.util.function.BooleanSupplier done, java.util.function.Supplier<String> what) throws InterruptedException {
    collect();
    long steps = AWAIT_LIMIT.toMillis() / STEP.toMillis();
    for (long i = 0; !done.getAsBoolean(); i++) {
      if (i == steps) {
        throw new AssertionError("no " + what.get() + " after " + AWAIT_LIMIT.toSeconds() + " s of driver time (" + inference.unsettled()
            + " windows unsettled)");
      }
      step();
    }
  }

  void collect() {
    segments.readValuesToList().forEach(segmentsSeen::add);
    callsSeen.addAll(calls.readRecordsToList());
  }

  /** Windows the offline front end (buffered mode, same settings) cuts from the stream's audio, in order. */
  static List<float[]> offlineWindows(Recording s, TopologySettings settings) throws AudioFormatException {
    return OfflineWindows.of(s, settings.frontEnd()).stream().map(AudioWindow::samples).toList();
  }

  /** A synthetic μ-law 8 kHz stream. */
  static Recording stream(String callId, int channel, long durationMs, long seed) {
    float[] pcm = SyntheticSpeech.generate(seed, 8000, durationMs);
    return new Recording(callId, channel, channel == 0 ? "agent" : "customer", AudioEncoding.MULAW, 8000, G711.encode(Encoding.MULAW, pcm));
  }


  @Override
  public void close() throws Exception {
    try {
      driver.close();
    } finally {
      engine.close();
      try (var paths = Files.walk(stateDir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
      }
    }
  }
}
