package io.callvec.it.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.app.DeadLetterDeserializationHandler;
import io.callvec.it.KafkaBroker;
import io.callvec.it.RealKafka;
import io.callvec.it.support.CallFixtures;
import io.callvec.model.Similarity;
import io.callvec.player.CallPlayer;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.Fixtures;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import io.callvec.schemas.registry.ConfluentAvroSerde;
import io.callvec.schemas.registry.ConfluentFraming;
import io.callvec.schemas.registry.RegistryClient;
import io.callvec.schemas.serde.CallvecSerdes;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The app end to end on a real broker and a real Schema Registry: the same shuffled, partly
 * duplicated calls once single-object and once Confluent-framed; the Confluent run's segment and
 * call embeddings are Confluent-framed, exactly once, and equal to the single-object run's; a
 * single-object record and an unknown schema id on the Confluent input are dead-lettered with their
 * reason; a plain Avro reader decodes the output through the registry.
 */
@RealKafka
class ConfluentEndToEndTest {
  @RegisterExtension static final ConfluentAppSetup SETUP = new ConfluentAppSetup();

  private static CallvecConfig config(KafkaBroker broker, String prefix, boolean confluent) {
    Map<String, String> m = confluent
        ? SETUP.confluentApp(broker, prefix, SETUP.registry().url())
        : SETUP.singleObjectApp(broker, prefix);
    CallvecConfig cfg = CallvecConfig.builder().overrides(m).build();
    broker.createTopics(2, cfg.raw("callvec.input.topic"), cfg.raw("callvec.segments.topic"), cfg.raw("callvec.calls.topic"),
        cfg.raw("callvec.dlq.topic"));
    return cfg;
  }

  /** Segments by (call, channel, start, end) and call embeddings by (call, channel), each counted. */
  private static final class Run {
    final Map<String, float[]> segments = new TreeMap<>();
    final Map<String, Integer> segmentCount = new TreeMap<>();
    final Map<String, float[]> calls = new TreeMap<>();
    final Map<String, Integer> callCount = new TreeMap<>();
    final List<ConsumerRecord<String, byte[]>> deadLetters = new ArrayList<>();
    final List<byte[]> rawSegments = new ArrayList<>();
    final List<byte[]> rawCalls = new ArrayList<>();
  }

  private static Run runApp(KafkaBroker broker, CallvecConfig cfg, List<Recording> streams, Serializer<AudioChunk> chunkSerializer,
      Function<byte[], SegmentEmbedding> segDe, Function<byte[], CallEmbedding> callDe, List<byte[]> badValues) throws Exception {
    Properties p = new Properties();
    p.putAll(broker.clientConfig());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    Run run = new Run();
    try (CallvecApp app = CallvecApp.start(cfg)) {
      try (KafkaProducer<String, byte[]> raw = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
        for (int i = 0; i < badValues.size(); i++) {
          raw.send(new ProducerRecord<>(cfg.raw("callvec.input.topic"), "bad-" + i, badValues.get(i))).get();
        }
      }
      try (KafkaProducer<String, AudioChunk> producer = new KafkaProducer<>(p, new StringSerializer(), chunkSerializer)) {
        CallPlayer.play(producer, cfg.raw("callvec.input.topic"), streams, Chunker.Options.realTime().withSpeed(0).withShuffle(5, 0.05, 3), null);
      }
      try (KafkaConsumer<String, byte[]> consumer = ConfluentAppSetup.outputConsumer(broker, "reader-" + UUID.randomUUID(), cfg)) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
        long quietUntil = Long.MAX_VALUE;
        while (System.nanoTime() < Math.min(deadline, quietUntil)) {
          if (app.failure() != null) {
            throw new AssertionError("the app failed", app.failure());
          }
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            if (r.topic().equals(cfg.raw("callvec.segments.topic"))) {
              SegmentEmbedding s = segDe.apply(r.value());
              String key = CallFixtures.segmentKey(s.getCallId(), s.getChannel().getIndex(), s.getStartSample16k(), s.getEndSample16k());
              run.segments.put(key, Vectors.fromBytes(s.getVector(), s.getDimension()));
              run.segmentCount.merge(key, 1, Integer::sum);
              run.rawSegments.add(r.value());
            } else if (r.topic().equals(cfg.raw("callvec.calls.topic"))) {
              CallEmbedding e = callDe.apply(r.value());
              String key = e.getCallId() + "/" + e.getChannel().getIndex();
              run.calls.put(key, Vectors.fromBytes(e.getVector(), e.getDimension()));
              run.callCount.merge(key, 1, Integer::sum);
              run.rawCalls.add(r.value());
            } else {
              run.deadLetters.add(r);
            }
          }
          if (run.calls.size() >= streams.size() && quietUntil == Long.MAX_VALUE) {
            quietUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
          }
        }
      }
    }
    return run;
  }

  @Test
  void confluentFramedChunksInGiveConfluentFramedEmbeddingsOutExactlyOnceEqualToTheSingleObjectRun(KafkaBroker broker) throws Exception {
    String tag = UUID.randomUUID().toString().substring(0, 8);
    List<Recording> streams = CallFixtures.twoChannelCalls("cf-" + tag, 3, 6_000, 700);

    CallvecConfig plainCfg = config(broker, "so-" + tag, false);
    Map<String, float[]> expected = CallFixtures.expectedSegments(streams, TopologySettings.from(plainCfg));
    Run plain = runApp(broker, plainCfg, streams, CallvecSerdes.audioChunk().serializer(),
        b -> CallvecSerdes.segmentEmbedding().decode(b), b -> CallvecSerdes.callEmbedding().decode(b), List.of());

    CallvecConfig cfg = config(broker, "cc-" + tag, true);
    RegistryClient client = RegistryClient.fromConfig(RegistryFixtures.clientConfig(SETUP.registry().url(), 10_000));
    ConfluentAvroSerde<AudioChunk> chunkSerde = ConfluentAvroSerde.of(AudioChunk.class, client);
    ConfluentAvroSerde<SegmentEmbedding> segSerde = ConfluentAvroSerde.of(SegmentEmbedding.class, client);
    ConfluentAvroSerde<CallEmbedding> callSerde = ConfluentAvroSerde.of(CallEmbedding.class, client);
    byte[] singleObject = CallvecSerdes.audioChunk().encode(Fixtures.audioChunk(5, true));
    byte[] unknownId = ConfluentFraming.frame(987_654, new byte[] {2, 0}, 2);
    String segTopic = cfg.raw("callvec.segments.topic");
    String callTopic = cfg.raw("callvec.calls.topic");
    Run conf = runApp(broker, cfg, streams, chunkSerde.serializer(),
        b -> segSerde.deserializer().deserialize(segTopic, b), b -> callSerde.deserializer().deserialize(callTopic, b),
        List.of(singleObject, unknownId));

    // Exactly once, on both runs, the same segments and calls.
    assertEquals(expected.keySet(), plain.segments.keySet());
    assertEquals(expected.keySet(), conf.segments.keySet());
    conf.segmentCount.forEach((k, n) -> assertEquals(1, n, "segment " + k));
    plain.segmentCount.forEach((k, n) -> assertEquals(1, n, "segment " + k));
    assertEquals(streams.size(), conf.calls.size());
    conf.callCount.forEach((k, n) -> assertEquals(1, n, "call embedding " + k));
    assertEquals(plain.calls.keySet(), conf.calls.keySet());
    for (String k : expected.keySet()) {
      assertTrue(Similarity.cosine(plain.segments.get(k), conf.segments.get(k)) >= 0.9999, k);
      assertTrue(Similarity.cosine(expected.get(k), conf.segments.get(k)) >= 0.9999, k);
    }
    for (String k : plain.calls.keySet()) {
      assertTrue(Similarity.cosine(plain.calls.get(k), conf.calls.get(k)) >= 0.9999, k);
    }

    // Confluent framing with the ids registered under <topic>-value.
    int segId = client.lookup(segTopic + "-value", SegmentEmbedding.getClassSchema()).orElseThrow();
    int callId = client.lookup(callTopic + "-value", CallEmbedding.getClassSchema()).orElseThrow();
    conf.rawSegments.forEach(b -> assertEquals(segId, ConfluentFraming.schemaId(b, "segment")));
    conf.rawCalls.forEach(b -> assertEquals(callId, ConfluentFraming.schemaId(b, "call")));

    // A consumer that is not callvec reads a vector through the registry.
    byte[] first = conf.rawSegments.get(0);
    GenericRecord g = ConfluentSerdeRegistryTest.PlainAvroConsumer.decode(SETUP.registry().url(), first);
    SegmentEmbedding typed = segSerde.deserializer().deserialize(segTopic, first);
    assertArrayEquals(Vectors.fromBytes(typed.getVector(), typed.getDimension()), ConfluentSerdeRegistryTest.PlainAvroConsumer.vector(g), 0f);

    // Dead letters: the two undecodable records with their reason; the processor's own (the player's duplicates)
    // Confluent-framed, with the same reasons as in the single-object run.
    Map<String, String> decodeReasons = new TreeMap<>();
    Map<String, Integer> reasons = new TreeMap<>();
    for (ConsumerRecord<String, byte[]> r : conf.deadLetters) {
      var h = r.headers().lastHeader(DeadLetterDeserializationHandler.HEADER_DECODE_REASON);
      if (h != null) {
        assertNotNull(r.headers().lastHeader("__streams.errors.exception"));
        decodeReasons.put(r.key(), new String(h.value(), StandardCharsets.UTF_8));
      } else {
        reasons.merge(new String(r.headers().lastHeader("callvec.dlq.reason").value(), StandardCharsets.UTF_8), 1, Integer::sum);
        AudioChunk dead = chunkSerde.deserializer().deserialize(cfg.raw("callvec.dlq.topic"), r.value());
        assertTrue(dead.getCallId().startsWith("cf-" + tag), dead.getCallId());
      }
    }
    assertEquals(Map.of("bad-0", "WRONG_MAGIC_BYTE", "bad-1", "UNKNOWN_SCHEMA_ID"), decodeReasons);
    Map<String, Integer> plainReasons = new TreeMap<>();
    for (ConsumerRecord<String, byte[]> r : plain.deadLetters) {
      plainReasons.merge(new String(r.headers().lastHeader("callvec.dlq.reason").value(), StandardCharsets.UTF_8), 1, Integer::sum);
    }
    assertTrue(reasons.getOrDefault("DUPLICATE", 0) > 0, "the player's duplicates are dead-lettered: " + reasons);
    assertEquals(plainReasons, reasons, "the same dead letters in both runs");
  }
}
