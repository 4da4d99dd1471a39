package io.callvec.it.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.it.KafkaBroker;
import io.callvec.it.RealKafka;
import io.callvec.it.support.CallFixtures;
import io.callvec.player.CallPlayer;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.registry.ConfluentAvroSerde;
import io.callvec.schemas.registry.RegistryClient;
import io.callvec.schemas.registry.RegistryUnavailableException;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The app and a registry that is down: at start (a clear start-up error), and mid-stream (the
 * instance stops instead of dead-lettering a record whose writer schema it cannot fetch; after the
 * registry is back a restarted instance emits that call's embeddings exactly once: no record lost).
 */
@RealKafka
class ConfluentAppOutageTest {
  @RegisterExtension static final ConfluentAppSetup SETUP = new ConfluentAppSetup();

  private static CallvecConfig config(KafkaBroker broker, String prefix, String registryUrl) {
    Map<String, String> m = SETUP.confluentApp(broker, prefix, registryUrl);
    m.put("callvec.registry.retry.max.ms", "2000");
    m.put("callvec.registry.retry.backoff.ms", "50");
    return CallvecConfig.builder().overrides(m).build();
  }

  @Test
  void aRegistryDownAtStartStopsTheStartWithAnErrorNamingIt(KafkaBroker broker) throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    String prefix = "down-" + UUID.randomUUID().toString().substring(0, 8);
    CallvecConfig cfg = config(broker, prefix, "http://127.0.0.1:" + closed + "/apis/ccompat/v7");
    RegistryUnavailableException e = assertThrows(RegistryUnavailableException.class, () -> CallvecApp.start(cfg).close());
    assertTrue(e.getMessage().contains("127.0.0.1:" + closed) && e.getMessage().contains("callvec.registry.retry.max.ms"), e.getMessage());
  }

  @Test
  void aRegistryDownMidStreamStopsTheInstanceAndARestartLosesNothing(KafkaBroker broker) throws Exception {
    String prefix = "mid-" + UUID.randomUUID().toString().substring(0, 8);
    CallvecConfig cfg = config(broker, prefix, SETUP.registry().url());
    broker.createTopics(2, cfg.raw("callvec.input.topic"), cfg.raw("callvec.segments.topic"), cfg.raw("callvec.calls.topic"),
        cfg.raw("callvec.dlq.topic"));
    TopologySettings settings = TopologySettings.from(cfg);
    List<Recording> callA = CallFixtures.twoChannelCalls(prefix + "-a", 1, 6_000, 0);
    List<Recording> callB = CallFixtures.twoChannelCalls(prefix + "-b", 1, 6_000, 0);
    Map<String, float[]> expectedB = CallFixtures.expectedSegments(callB, settings);

    RegistryClient producerClient = RegistryClient.fromConfig(RegistryFixtures.clientConfig(SETUP.registry().url(), 5_000));
    Schema future = RegistryFixtures.testSchema("AudioChunk-future.avsc");
    int futureId = producerClient.register(prefix + ".other-value", future);

    Output out = new Output(cfg);
    try (CallvecApp app1 = CallvecApp.start(cfg)) {
      play(broker, cfg, callA, ConfluentAvroSerde.of(AudioChunk.class, producerClient).serializer());
      out.pollUntil(broker, () -> out.calls.size() >= 2, app1, true);
      assertEquals(2, out.calls.size(), "call A ended on both channels");

      SETUP.registry().stop();
      // Call B comes from a newer producer whose schema id this instance has never fetched.
      play(broker, cfg, callB, futureSchemaSerializer(future, futureId));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (app1.failure() == null && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertNotNull(app1.failure(), "the instance stops when the registry stays unreachable");
      assertTrue(RegistryUnavailableException.isCause(app1.failure()), String.valueOf(app1.failure()));
      String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:" + app1.httpPort() + "/metrics"))
          .build(), HttpResponse.BodyHandlers.ofString()).body();
      assertTrue(failedAttempts(metrics) >= 3, "callvec_registry_failed_attempts_total counts the retries");
    }
    out.drain(broker);
    assertTrue(out.deadLetters.isEmpty(), "nothing dead-lettered for an unreachable registry: " + out.deadLetters.size());
    assertFalse(out.calls.keySet().stream().anyMatch(k -> k.startsWith(prefix + "-b")), "call B not finished yet");

    SETUP.registry().restart();
    try (CallvecApp app2 = CallvecApp.start(cfg)) {
      out.pollUntil(broker, () -> out.calls.size() >= 4, app2, true);
    }
    assertEquals(4, out.calls.size(), "both calls on both channels: " + out.calls.keySet());
    out.calls.forEach((k, n) -> assertEquals(1, n, "call embedding " + k));
    Map<String, Integer> segmentsB = new TreeMap<>();
    out.segments.forEach((k, n) -> {
      if (k.startsWith(prefix + "-b")) {
        segmentsB.put(k, n);
      }
    });
    assertEquals(expectedB.keySet(), segmentsB.keySet());
    segmentsB.forEach((k, n) -> assertEquals(1, n, "segment " + k));
  }

  private static double failedAttempts(String metrics) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith("callvec_registry_failed_attempts_total")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no callvec_registry_failed_attempts_total in /metrics");
  }

  /** Writes chunks as a newer producer would: the future AudioChunk schema, framed with its id. */
  private static Serializer<AudioChunk> futureSchemaSerializer(Schema future, int id) {
    return (topic, c) -> {
      GenericRecord r = new GenericData.Record(future);
      r.put("callId", c.getCallId());
      GenericRecord ch = new GenericData.Record(future.getField("channel").schema());
      ch.put("index", c.getChannel().getIndex());
      ch.put("name", c.getChannel().getName());
      r.put("channel", ch);
      r.put("sequenceNumber", c.getSequenceNumber());
      r.put("mediaTimestampMs", c.getMediaTimestampMs());
      r.put("encoding", new GenericData.EnumSymbol(future.getField("encoding").schema(), c.getEncoding().name()));
      r.put("sampleRateHz", c.getSampleRateHz());
      r.put("payload", c.getPayload());
      r.put("endOfStream", c.getEndOfStream());
      r.put("metadata", null);
      r.put("codecFrameMs", 20);
      return RegistryFixtures.framed(id, future, r);
    };
  }

  private static void play(KafkaBroker broker, CallvecConfig cfg, List<Recording> streams, Serializer<AudioChunk> serializer)
      throws Exception {
    Properties p = new Properties();
    p.putAll(broker.clientConfig());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, AudioChunk> producer = new KafkaProducer<>(p, new StringSerializer(), serializer)) {
      CallPlayer.play(producer, cfg.raw("callvec.input.topic"), streams, Chunker.Options.realTime().withSpeed(0), null);
    }
  }

  /** Committed output, counted by key, read with one consumer across both instances. */
  private static final class Output {
    final CallvecConfig cfg;
    final Map<String, Integer> segments = new TreeMap<>();
    final Map<String, Integer> calls = new TreeMap<>();
    final List<ConsumerRecord<String, byte[]>> deadLetters = new java.util.ArrayList<>();
    final String group = "reader-" + UUID.randomUUID();
    final ConfluentAvroSerde<SegmentEmbedding> seg;
    final ConfluentAvroSerde<CallEmbedding> call;

    Output(CallvecConfig cfg) {
      this.cfg = cfg;
      RegistryClient c = RegistryClient.fromConfig(RegistryFixtures.clientConfig(SETUP.registry().url(), 60_000));
      seg = ConfluentAvroSerde.of(SegmentEmbedding.class, c);
      call = ConfluentAvroSerde.of(CallEmbedding.class, c);
    }

    /** Reads everything committed so far: until the consumer's position reaches the end offsets. */
    void drain(KafkaBroker broker) throws Exception {
      read(broker, null, null, false);
    }

    /** Reads until {@code done} (then 3 s more) or 120 s; with {@code failOnAppFailure}, an app failure ends the test. */
    void pollUntil(KafkaBroker broker, BooleanSupplier done, CallvecApp app, boolean failOnAppFailure) throws Exception {
      read(broker, done, app, failOnAppFailure);
    }

    private void read(KafkaBroker broker, BooleanSupplier done, CallvecApp app, boolean failOnAppFailure) throws Exception {
      try (KafkaConsumer<String, byte[]> consumer = ConfluentAppSetup.outputConsumer(broker, group, cfg)) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        long quietUntil = Long.MAX_VALUE;
        while (System.nanoTime() < Math.min(deadline, quietUntil)) {
          if (done == null && !consumer.assignment().isEmpty()) {
            var ends = consumer.endOffsets(consumer.assignment());
            if (ends.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
              break;
            }
          }
          if (failOnAppFailure && app != null && app.failure() != null) {
            throw new AssertionError("the app failed", app.failure());
          }
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            if (r.topic().equals(cfg.raw("callvec.segments.topic"))) {
              SegmentEmbedding s = seg.deserializer().deserialize(r.topic(), r.value());
              segments.merge(CallFixtures.segmentKey(s.getCallId(), s.getChannel().getIndex(), s.getStartSample16k(), s.getEndSample16k()), 1,
                  Integer::sum);
            } else if (r.topic().equals(cfg.raw("callvec.calls.topic"))) {
              CallEmbedding e = call.deserializer().deserialize(r.topic(), r.value());
              calls.merge(e.getCallId() + "/" + e.getChannel().getIndex(), 1, Integer::sum);
            } else {
              deadLetters.add(r);
            }
          }
          if (done != null && done.getAsBoolean() && quietUntil == Long.MAX_VALUE) {
            quietUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
          }
        }
        consumer.commitSync();
      }
    }
  }
}
