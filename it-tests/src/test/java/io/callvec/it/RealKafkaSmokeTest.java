package io.callvec.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.Channel;
import io.callvec.schemas.serde.AvroSerde;
import io.callvec.schemas.serde.CallvecSerdes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The broker extension end to end: transactional Avro AudioChunks through a real broker. */
@RealKafka
class RealKafkaSmokeTest {

  private static final int SAMPLE_RATE_HZ = 8000;
  private static final int SAMPLES_PER_CHUNK = 160; // 20 ms at 8 kHz

  @Test
  void theBrokerIsTheOneTheEnvironmentCallsFor(KafkaBroker broker) {
    assertEquals(KafkaBrokerExtension.chosenKind(), broker.kind());
    assertTrue(broker.bootstrapServers().matches("[\\w.-]+:\\d+(,[\\w.-]+:\\d+)*"), broker.bootstrapServers());
  }

  @Test
  void audioChunksRoundTripThroughCommittedTransactionsOnly(KafkaBroker broker) throws Exception {
    String topic = "it.smoke.audio";
    broker.createTopics(3, topic);
    AvroSerde<AudioChunk> serde = CallvecSerdes.audioChunk();

    Map<String, List<AudioChunk>> sentByStream = new LinkedHashMap<>();
    try (KafkaProducer<String, AudioChunk> producer = new KafkaProducer<>(
        producerConfig(broker, "it-smoke-audio"), new StringSerializer(), serde.serializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      for (String call : List.of("CA-smoke-1", "CA-smoke-2")) {
        for (int ch = 0; ch < 2; ch++) {
          double freqHz = 300 + 200 * ch + (call.endsWith("2") ? 50 : 0);
          for (int seq = 0; seq < 25; seq++) {
            AudioChunk chunk = chunk(call, ch, seq, freqHz, seq == 24);
            String key = call + "/" + ch;
            sentByStream.computeIfAbsent(key, k -> new ArrayList<>()).add(chunk);
            producer.send(new ProducerRecord<>(topic, key, chunk));
          }
        }
      }
      producer.commitTransaction();

      producer.beginTransaction();
      for (int seq = 0; seq < 10; seq++) {
        producer.send(new ProducerRecord<>(topic, "CA-aborted/0", chunk("CA-aborted", 0, seq, 440, false)));
      }
      producer.flush();
      producer.abortTransaction();
    }

    Map<String, List<AudioChunk>> received = new LinkedHashMap<>();
    try (KafkaConsumer<String, AudioChunk> consumer = new KafkaConsumer<>(
        consumerConfig(broker, "it-smoke-audio-reader"), new StringDeserializer(), serde.deserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      int count = 0;
      while (count < 100 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, AudioChunk> r : consumer.poll(Duration.ofMillis(200))) {
          received.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
          count++;
        }
      }
      for (ConsumerRecord<String, AudioChunk> r : consumer.poll(Duration.ofMillis(500))) {
        received.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
      }
    }
    assertFalse(received.containsKey("CA-aborted/0"), "aborted transaction must be invisible to read_committed");
    assertEquals(sentByStream.keySet(), received.keySet());
    for (String key : sentByStream.keySet()) {
      // Same key, same partition: order and content survive exactly.
      assertEquals(sentByStream.get(key), received.get(key), "stream " + key);
    }
    AudioChunk last = received.get("CA-smoke-2/1").get(24);
    assertTrue(last.getEndOfStream());
    assertEquals(AudioEncoding.MULAW, last.getEncoding());
    assertEquals(SAMPLES_PER_CHUNK, last.getPayload().remaining());
  }

  @Test
  void aCorruptValueFailsWithItsOffsetSoItCanBeSkipped(KafkaBroker broker) throws Exception {
    String topic = "it.smoke.corrupt";
    broker.createTopics(1, topic);
    AvroSerde<AudioChunk> serde = CallvecSerdes.audioChunk();
    Map<String, Object> plain = new HashMap<>(broker.clientConfig());
    plain.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(plain, new StringSerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, "CA-x/0", "{\"not\":\"avro\"}".getBytes(StandardCharsets.UTF_8)))
          .get(30, TimeUnit.SECONDS);
      producer.send(new ProducerRecord<>(topic, "CA-x/0", serde.encode(chunk("CA-x", 0, 0, 440, false))))
          .get(30, TimeUnit.SECONDS);
    }
    try (KafkaConsumer<String, AudioChunk> consumer = new KafkaConsumer<>(
        consumerConfig(broker, "it-smoke-corrupt-reader"), new StringDeserializer(), serde.deserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      RecordDeserializationException e = assertThrows(RecordDeserializationException.class, () -> {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
          consumer.poll(Duration.ofMillis(200));
        }
      });
      assertEquals(0L, e.offset());
      assertEquals(tp, e.topicPartition());
      assertInstanceOf(SerializationException.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("bad header"), e.getCause().getMessage());

      consumer.seek(tp, e.offset() + 1); // what a dead-letter handler does after parking the record
      List<ConsumerRecord<String, AudioChunk>> rest = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (rest.isEmpty() && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(rest::add);
      }
      assertEquals(1, rest.size());
      assertEquals("CA-x", rest.get(0).value().getCallId());
    }
  }

  private static Map<String, Object> producerConfig(KafkaBroker broker, String transactionalId) {
    Map<String, Object> cfg = new HashMap<>(broker.clientConfig());
    cfg.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    cfg.put(ProducerConfig.ACKS_CONFIG, "all");
    cfg.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    return cfg;
  }

  private static Map<String, Object> consumerConfig(KafkaBroker broker, String groupId) {
    Map<String, Object> cfg = new HashMap<>(broker.clientConfig());
    cfg.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    cfg.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cfg.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    cfg.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    return cfg;
  }

  /** Chunk {@code seq} (20 ms) of a sine at {@code freqHz}, G.711 mu-law at 8 kHz. */
  private static AudioChunk chunk(String callId, int channel, int seq, double freqHz, boolean last) {
    byte[] payload = new byte[SAMPLES_PER_CHUNK];
    for (int i = 0; i < SAMPLES_PER_CHUNK; i++) {
      long n = (long) seq * SAMPLES_PER_CHUNK + i;
      payload[i] = muLaw((short) Math.round(8000 * Math.sin(2 * Math.PI * freqHz * n / SAMPLE_RATE_HZ)));
    }
    return AudioChunk.newBuilder()
        .setCallId(callId)
        .setChannel(new Channel(channel, channel == 0 ? "agent" : "customer"))
        .setSequenceNumber(seq)
        .setMediaTimestampMs(20L * seq)
        .setEncoding(AudioEncoding.MULAW)
        .setSampleRateHz(SAMPLE_RATE_HZ)
        .setPayload(ByteBuffer.wrap(payload))
        .setEndOfStream(last)
        .setMetadata(seq == 0 ? Map.of("from", "+15550100", "to", "+15550199") : null)
        .build();
  }

  /** ITU-T G.711 mu-law encoding of one 16-bit sample. */
  private static byte muLaw(short pcm) {
    final int bias = 0x84;
    final int clip = 32635;
    int sign = (pcm >> 8) & 0x80;
    int s = sign != 0 ? -pcm : pcm;
    s = Math.min(s, clip) + bias;
    int exponent = 7;
    for (int mask = 0x4000; (s & mask) == 0 && exponent > 0; mask >>= 1) {
      exponent--;
    }
    int mantissa = (s >> (exponent + 3)) & 0x0F;
    return (byte) ~(sign | (exponent << 4) | mantissa);
  }
}
