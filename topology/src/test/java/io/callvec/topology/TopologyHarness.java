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
    engine = new BatchingEngine(embedder, BatchingOptions.builder().maxBatchWindows(4).maxDelay(Duration.ofMillis(2)).meterRegistry(registry).build());
    stateDir = Files.createTempDirectory("callvec-ttd-");
    Properties p = config.streamsProperties();
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    driver = new TopologyTestDriver(CallvecTopology.build(settings, CallvecApp.inferenceClient(engine, MODEL), metrics,
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

  /** Advances the wall clock in small steps (real time passes too) until {@code n} call embeddings have arrived, 30 s at most. */
  void awaitCalls(int n) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (true) {
      collect();
      if (callsSeen.size() >= n) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + n + " call embeddings; got " + callsSeen.size() + " and " + segmentsSeen.size() + " segments");
      }
      driver.advanceWallClockTime(Duration.ofMillis(5));
      Thread.sleep(2);
    }
  }

  /** Like {@link #awaitCalls} for segments. */
  void awaitSegments(int n) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (true) {
      collect();
      if (segmentsSeen.size() >= n) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + n + " segments; got " + segmentsSeen.size());
      }
      driver.advanceWallClockTime(Duration.ofMillis(5));
      Thread.sleep(2);
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
