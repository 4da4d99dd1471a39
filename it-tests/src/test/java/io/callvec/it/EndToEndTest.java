package io.callvec.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.it.support.AppTopics;
import io.callvec.it.support.CallFixtures;
import io.callvec.it.support.CommittedOutput;
import io.callvec.it.support.InJvmAppSettings;
import io.callvec.it.support.WorkDirs;
import io.callvec.model.EmbeddingModel;
import io.callvec.model.ModelInfo;
import io.callvec.model.Similarity;
import io.callvec.model.batch.Admission;
import io.callvec.model.batch.WindowTag;
import io.callvec.player.CallPlayer;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import io.callvec.schemas.serde.CallvecSerdes;
import io.callvec.topology.CallvecTopology;
import io.callvec.topology.TopologyMetrics;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import io.callvec.topology.internals.InferenceClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The application end to end on a real broker: concurrent two-channel calls as shuffled, partly
 * duplicated 20 ms μ-law chunks in; every expected segment and call embedding out exactly once
 * (read_committed), equal to the model run directly on the same audio.
 */
@RealKafka
class EndToEndTest {
  private static final EmbeddingModel MODEL = CallFixtures.fixtureModel();

  private Path stateRoot;
  private String prefix;

  @BeforeEach
  void setUp() throws Exception {
    stateRoot = Files.createTempDirectory("callvec-it-");
    prefix = "it-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @AfterEach
  void tearDown() throws Exception {
    WorkDirs.deleteTree(stateRoot);
  }

  private CallvecConfig config(KafkaBroker broker, String stateDir) {
    Map<String, String> m = InJvmAppSettings.of(broker.bootstrapServers(), prefix, stateRoot.resolve(stateDir));
    m.put("num.stream.threads", "2");
    return CallvecConfig.builder().overrides(m).build();
  }

  private void createTopics(KafkaBroker broker, CallvecConfig cfg) {
    broker.createTopics(4, cfg.raw("callvec.input.topic"), cfg.raw("callvec.segments.topic"), cfg.raw("callvec.calls.topic"),
        cfg.raw("callvec.dlq.topic"));
  }

  /** Two-channel synthetic calls of 10 s plus 0.7 s per call index plus 0.3 s on the customer channel, so final windows differ. */
  private static List<Recording> calls(String prefix, int calls) {
    return CallFixtures.twoChannelCalls(prefix, calls, 10_000, 700);
  }

  private static Map<String, float[]> expectedSegments(List<Recording> streams, TopologySettings settings) {
    return CallFixtures.expectedSegments(streams, settings);
  }

  private static void produce(KafkaBroker broker, String topic, List<Recording> streams) throws Exception {
    Properties p = new Properties();
    p.putAll(broker.clientConfig());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, AudioChunk> producer = new KafkaProducer<>(p, new StringSerializer(), CallvecSerdes.audioChunk().serializer())) {
      CallPlayer.play(producer, topic, streams, Chunker.Options.realTime().withSpeed(0).withShuffle(5, 0.05, 3), null);
    }
  }

  /** Everything committed on the output topics, read until {@code calls} call embeddings arrived and then 3 s more. */
  private static CommittedOutput readOutputs(KafkaBroker broker, CallvecConfig cfg, int calls, CallvecApp app) {
    AppTopics topics = new AppTopics(cfg.raw("callvec.input.topic"), cfg.raw("callvec.segments.topic"), cfg.raw("callvec.calls.topic"),
        cfg.raw("callvec.dlq.topic"));
    CommittedOutput out = CommittedOutput.read(broker.clientConfig(), topics, calls, Duration.ofSeconds(150), Duration.ofSeconds(3), () -> {
      if (app != null && app.failure() != null) {
        throw new AssertionError("the app failed", app.failure());
      }
    });
    return out;
  }


  private static void assertExactlyOnce(CommittedOutput out, Map<String, float[]> expected, int streams) {
    Map<String, Integer> seen = new HashMap<>();
    for (SegmentEmbedding s : out.segments) {
      String key = CallFixtures.segmentKey(s.getCallId(), s.getChannel().getIndex(), s.getStartSample16k(), s.getEndSample16k());
      seen.merge(key, 1, Integer::sum);
      float[] direct = expected.get(key);
      assertNotNull(direct, "unexpected segment " + key);
      double cos = Similarity.cosine(direct, Vectors.fromBytes(s.getVector(), s.getDimension()));
      assertTrue(cos >= 0.9999, key + " cosine " + cos);
    }
    for (String key : expected.keySet()) {
      assertEquals(1, seen.getOrDefault(key, 0), "segment " + key + " delivered " + seen.getOrDefault(key, 0) + " times");
    }
    assertEquals(expected.size(), out.segments.size());
    Map<String, Integer> calls = new HashMap<>();
    for (CallEmbedding c : out.calls) {
      calls.merge(c.getCallId() + "/" + c.getChannel().getIndex(), 1, Integer::sum);
    }
    assertEquals(streams, calls.size());
    calls.forEach((k, n) -> assertEquals(1, n, "call embedding " + k));
  }

  @Test
  void concurrentShuffledCallsGiveEverySegmentAndCallEmbeddingExactlyOnce(KafkaBroker broker) throws Exception {
    CallvecConfig cfg = config(broker, "a");
    createTopics(broker, cfg);
    List<Recording> streams = calls(prefix, 6);
    Map<String, float[]> expected = expectedSegments(streams, TopologySettings.from(cfg));

    try (CallvecApp app = CallvecApp.start(cfg)) {
      // A record that is not an AudioChunk: the deserialization handler dead-letters it.
      Properties p = new Properties();
      p.putAll(broker.clientConfig());
      try (KafkaProducer<String, byte[]> raw = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
        raw.send(new ProducerRecord<>(cfg.raw("callvec.input.topic"), "garbage", "not avro".getBytes(StandardCharsets.UTF_8))).get();
      }
      produce(broker, cfg.raw("callvec.input.topic"), streams);
      CommittedOutput out = readOutputs(broker, cfg, streams.size(), app);
      assertExactlyOnce(out, expected, streams.size());

      ConsumerRecord<String, byte[]> garbage = out.deadLetters.stream().filter(r -> "garbage".equals(r.key())).findFirst().orElseThrow();
      assertNotNull(garbage.headers().lastHeader("__streams.errors.exception"));
      assertTrue(out.deadLetters.stream().anyMatch(r -> r.headers().lastHeader("callvec.dlq.reason") != null
          && new String(r.headers().lastHeader("callvec.dlq.reason").value(), StandardCharsets.UTF_8).equals("DUPLICATE")));

      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + app.httpPort() + "/health/ready")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, ready.statusCode());
      String metrics = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + app.httpPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertTrue(metrics.contains("callvec_segments_total " + (double) expected.size()), "segments counter in /metrics");
      assertTrue(metrics.contains("callvec_batcher_batch_fill"), "batcher metrics exported");
      assertTrue(metrics.contains("kafka_stream_thread"), "Kafka Streams metrics bridged");
    }
  }

  @Test
  void windowsPendingInferenceSurviveARestartAndAreEmittedOnce(KafkaBroker broker) throws Exception {
    CallvecConfig cfg = config(broker, "stalled");
    createTopics(broker, cfg);
    List<Recording> streams = calls(prefix, 2);
    TopologySettings settings = TopologySettings.from(cfg);
    Map<String, float[]> expected = expectedSegments(streams, settings);

    // Phase 1: an inference service that never answers; every window stays pending (and committed).
    AtomicInteger submitted = new AtomicInteger();
    InferenceClient stalled = new InferenceClient() {
      @Override
      public Admission trySubmit(float[] window16k, WindowTag tag) {
        submitted.incrementAndGet();
        return Admission.accepted(new CompletableFuture<>());
      }

      @Override
      public int remainingCapacity() {
        return Integer.MAX_VALUE;
      }

      @Override
      public int cancel(String owner) {
        return 0;
      }

      @Override
      public ModelInfo modelInfo() {
        return MODEL.info();
      }
    };
    Properties props = cfg.streamsProperties();
    try (KafkaStreams streams1 = new KafkaStreams(CallvecTopology.build(settings, stalled, new TopologyMetrics(new SimpleMeterRegistry())), props)) {
      streams1.start();
      produce(broker, cfg.raw("callvec.input.topic"), streams);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (submitted.get() < expected.size() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(expected.size(), submitted.get(), "all windows were cut and submitted");
      Thread.sleep(500); // let a commit include them
      streams1.close(Duration.ofSeconds(30));
    }

    // Phase 2: the real app on a fresh state directory: the pending store comes back from its changelog.
    CallvecConfig cfg2 = config(broker, "restarted");
    try (CallvecApp app = CallvecApp.start(cfg2)) {
      CommittedOutput out = readOutputs(broker, cfg2, streams.size(), app);
      assertExactlyOnce(out, expected, streams.size());
      assertEquals(expected.size(), app.metrics().total("callvec.windows.resubmitted"), 0.0);
    }
  }
}
