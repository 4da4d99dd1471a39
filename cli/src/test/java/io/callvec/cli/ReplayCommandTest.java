package io.callvec.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.app.Settings;
import io.callvec.audio.G711;
import io.callvec.audio.SyntheticSpeech;
import io.callvec.broker.LocalKafkaCluster;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.serde.CallvecSerdes;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code callvec replay} end to end against a real in-JVM KRaft broker, read back with the Avro deserializer. */
class ReplayCommandTest {

  private static LocalKafkaCluster kafka;

  @BeforeAll
  static void start() {
    kafka = LocalKafkaCluster.builder().build();
  }

  @AfterAll
  static void stop() {
    if (kafka != null) {
      kafka.close();
    }
  }

  /** Every record of {@code topic} from the beginning, until {@code expected} arrived (then one short poll for extras). */
  static List<ConsumerRecord<String, AudioChunk>> readAll(String topic, int expected) {
    Map<String, Object> cfg = new HashMap<>(kafka.clientConfig());
    cfg.put(ConsumerConfig.GROUP_ID_CONFIG, "replay-test-" + topic);
    cfg.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cfg.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<ConsumerRecord<String, AudioChunk>> out = new ArrayList<>();
    try (KafkaConsumer<String, AudioChunk> c =
        new KafkaConsumer<>(cfg, new StringDeserializer(), CallvecSerdes.audioChunk().deserializer())) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (out.size() < expected && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      c.poll(Duration.ofMillis(300)).forEach(out::add);
    }
    return out;
  }

  static byte[] bytes(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    byte[] a = new byte[d.remaining()];
    d.get(a);
    return a;
  }

  /** The records of one call x channel, in topic order. */
  static Map<String, List<AudioChunk>> byStream(List<ConsumerRecord<String, AudioChunk>> records) {
    Map<String, List<AudioChunk>> m = new TreeMap<>();
    for (ConsumerRecord<String, AudioChunk> r : records) {
      assertEquals(r.key(), r.value().getCallId().toString(), "the key is the call id");
      m.computeIfAbsent(r.value().getCallId() + "/" + r.value().getChannel().getIndex(), k -> new ArrayList<>()).add(r.value());
    }
    return m;
  }

  /**
   * Checks one stream sent in order: chunks 0..n-1 of {@code chunkBytes} (the last may be shorter),
   * timestamps 20 ms apart, then an empty end-of-stream marker; the payloads put together are {@code audio}.
   */
  static void assertInOrderStream(List<AudioChunk> chunks, byte[] audio, int chunkBytes, AudioEncoding enc, String channelName) {
    int n = (audio.length + chunkBytes - 1) / chunkBytes;
    assertEquals(n + 1, chunks.size(), "chunks + end-of-stream");
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (int k = 0; k < chunks.size(); k++) {
      AudioChunk c = chunks.get(k);
      assertEquals(k, c.getSequenceNumber());
      assertEquals(20L * k, c.getMediaTimestampMs());
      assertEquals(enc, c.getEncoding());
      assertEquals(8000, c.getSampleRateHz());
      assertEquals(channelName, c.getChannel().getName().toString());
      byte[] p = bytes(c.getPayload());
      if (k < n) {
        assertFalse(c.getEndOfStream());
        assertEquals(k < n - 1 ? chunkBytes : audio.length - (n - 1) * chunkBytes, p.length, "payload of chunk " + k);
        all.writeBytes(p);
      } else {
        assertTrue(c.getEndOfStream(), "the last record ends the stream");
        assertEquals(0, p.length);
      }
      if (k == 0) {
        assertEquals("callvec-player", c.getMetadata().get("source").toString());
      } else {
        assertNull(c.getMetadata());
      }
    }
    assertArrayEquals(audio, all.toByteArray(), "the payloads put together are the file's audio");
  }

  @Test
  void stereoWavBecomesTwoChannelsOfOneCall(@TempDir Path dir) throws Exception {
    String topic = "replay-wav";
    kafka.createTopics(2, topic);
    // 1.05 s: 52 whole 20 ms chunks of 160 samples (320 bytes of PCM16) and a last one of 80 samples
    byte[] agent = G711.encode(io.callvec.audio.Encoding.PCM_S16LE, SyntheticSpeech.generate(5, 8000, 1050));
    byte[] customer = G711.encode(io.callvec.audio.Encoding.PCM_S16LE, SyntheticSpeech.generate(6, 8000, 1050));
    Path wav = dir.resolve("two sides.wav");
    EmbedCommandTest.writeWav(wav, 8000, 1, 2, EmbedCommandTest.interleave(2, agent, customer));

    CommandRun r = CommandRun.callvec("replay", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", topic,
        "--call-id", "wav-call", "--speed", "0", wav.toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().startsWith("replayed 1 file(s) as 1 call(s), 2 stream(s), to replay-wav: 108 records (106 audio chunks,"
        + " 0 duplicates, 2 end-of-stream), 2.100 s of audio"), r.out());

    Map<String, List<AudioChunk>> streams = byStream(readAll(topic, 108));
    assertEquals(List.of("wav-call/0", "wav-call/1"), new ArrayList<>(streams.keySet()));
    assertInOrderStream(streams.get("wav-call/0"), agent, 320, AudioEncoding.PCM_S16LE, "agent");
    assertInOrderStream(streams.get("wav-call/1"), customer, 320, AudioEncoding.PCM_S16LE, "customer");
  }

  @Test
  void rawMuLawRepeatedPlaysDistinctCallsPacedAtTheSpeed(@TempDir Path dir) throws Exception {
    String topic = "replay-ul";
    kafka.createTopics(1, topic);
    // 2.01 s of 8 kHz mu-law: 100 chunks of 160 bytes and one of 80
    byte[] ul = G711.encode(io.callvec.audio.Encoding.MULAW, SyntheticSpeech.generate(7, 8000, 2010));
    Path raw = dir.resolve("call.ul");
    Files.write(raw, ul);

    long t0 = System.nanoTime();
    CommandRun r = CommandRun.callvec("replay", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", topic,
        "--call-id", "ul", "--repeat", "2", "--speed", "8", raw.toString());
    double secs = (System.nanoTime() - t0) / 1e9;
    assertEquals(0, r.exit(), r.err());
    // paced: 101 steps of 20 ms at 8x real time take at least 100 * 2.5 ms
    assertTrue(secs >= 0.25, "took " + secs + " s");
    assertTrue(r.out().contains("as 2 call(s), 2 stream(s)") && r.out().contains(": 204 records (202 audio chunks,"), r.out());

    Map<String, List<AudioChunk>> streams = byStream(readAll(topic, 204));
    assertEquals(List.of("ul-0/0", "ul-1/0"), new ArrayList<>(streams.keySet()));
    for (List<AudioChunk> s : streams.values()) {
      assertInOrderStream(s, ul, 160, AudioEncoding.MULAW, "channel-0");
    }
  }

  @Test
  void shuffledAndDuplicatedChunksStillHoldTheWholeFileOnce(@TempDir Path dir) throws Exception {
    String topic = "replay-shuffle";
    kafka.createTopics(1, topic);
    byte[] al = G711.encode(io.callvec.audio.Encoding.ALAW, SyntheticSpeech.generate(8, 8000, 3000)); // 150 chunks of 160 bytes
    Path raw = dir.resolve("call.bin");
    Files.write(raw, al);

    CommandRun r = CommandRun.callvec("replay", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", topic,
        "--format", "alaw", "--rate", "8000", "--call-id", "jittery", "--speed", "0", "--shuffle", "5", "--duplicates", "0.2",
        "--seed", "3", raw.toString());
    assertEquals(0, r.exit(), r.err());
    List<ConsumerRecord<String, AudioChunk>> records = readAll(topic, 151);
    List<AudioChunk> chunks = byStream(records).get("jittery/0");
    assertEquals(records.size(), chunks.size());
    int duplicates = chunks.size() - 151;
    assertTrue(duplicates > 10 && duplicates < 55, "about 20% of 150 chunks duplicated, got " + duplicates);
    assertTrue(r.out().contains(": " + chunks.size() + " records (150 audio chunks, " + duplicates + " duplicates, 1 end-of-stream)"), r.out());

    boolean reordered = false;
    TreeMap<Long, byte[]> bySeq = new TreeMap<>();
    long last = -1;
    for (AudioChunk c : chunks) {
      long seq = c.getSequenceNumber();
      assertEquals(20 * seq, c.getMediaTimestampMs());
      assertTrue(Math.abs(seq - last) < 10, "shuffled only within groups of 5: " + last + " then " + seq);
      reordered |= seq < last;
      last = seq;
      byte[] p = bytes(c.getPayload());
      byte[] before = bySeq.put(seq, p);
      if (before != null) {
        assertArrayEquals(before, p, "a duplicate repeats its original");
      }
    }
    assertTrue(reordered, "some chunks were sent out of order");
    assertEquals(new TreeSet<>(bySeq.keySet()), new TreeSet<>(java.util.stream.LongStream.rangeClosed(0, 150).boxed().toList()));
    assertTrue(chunks.stream().max(Comparator.comparingLong(AudioChunk::getSequenceNumber)).orElseThrow().getEndOfStream());
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    bySeq.values().forEach(all::writeBytes);
    assertArrayEquals(al, all.toByteArray());
  }

  @Test
  void usageErrorsExitWith2(@TempDir Path dir) throws Exception {
    Path raw = dir.resolve("a.ul");
    Files.write(raw, new byte[1600]);
    String bs = kafka.bootstrapServers();
    String[][] cases = {
      {raw.toString(), "give --bootstrap-servers"},
      {"--bootstrap-servers", bs, dir.resolve("missing.ul").toString(), "no such file"},
      {"--bootstrap-servers", bs, "--speed", "-1", raw.toString(), "--speed must be >= 0"},
      {"--bootstrap-servers", bs, "--duplicates", "1.5", raw.toString(), "--duplicates must be in [0, 1]"},
      {"--bootstrap-servers", bs, "--repeat", "0", raw.toString(), "--repeat must be >= 1"},
      {"--bootstrap-servers", bs, "--format", "mp3", raw.toString(), "unknown format 'mp3'"},
      {"--bootstrap-servers", bs, dir.resolve("x.raw").toString(), "no such file"},
      {"--bootstrap-servers", bs, raw.toString(), raw.toString(), "would both be call"},
    };
    for (String[] c : cases) {
      List<String> args = new ArrayList<>(List.of("replay"));
      args.addAll(List.of(c).subList(0, c.length - 1));
      CommandRun r = CommandRun.callvec(args.toArray(String[]::new));
      assertEquals(2, r.exit(), String.join(" ", args) + "\n" + r.err());
      assertTrue(r.err().contains(c[c.length - 1]), "expected '" + c[c.length - 1] + "' in: " + r.err());
    }
    Path unknown = dir.resolve("x.raw");
    Files.write(unknown, new byte[10]);
    CommandRun r = CommandRun.callvec("replay", "--bootstrap-servers", bs, unknown.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("give --format"), r.err());
    Path odd = dir.resolve("odd.s16");
    Files.write(odd, new byte[] {1, 2, 3});
    r = EmbedCommandTest.run("replay", "--bootstrap-servers", bs, raw.toString(), odd.toString());
    assertEquals(1, r.exit(), "bad audio is a failure, found before anything is sent");
    assertTrue(r.err().contains("cannot read " + odd + " as pcm16le") && r.err().contains("not a whole number of 2-byte"), r.err());
    assertEquals("", r.out());
    assertEquals(Settings.INPUT_TOPIC.defaultValue(),
        picocli.CommandLine.Model.CommandSpec.forAnnotatedObject(new ReplayCommand()).findOption("--topic").defaultValue(),
        "--topic defaults to the app's input topic");
  }

  @Test
  void anUnreachableBrokerFailsWith1InsteadOfLosingChunks(@TempDir Path dir) throws Exception {
    Path raw = dir.resolve("a.ul");
    Files.write(raw, new byte[1600]);
    Path props = dir.resolve("producer.properties");
    Files.writeString(props, "max.block.ms=1000\ndelivery.timeout.ms=1500\nrequest.timeout.ms=1000\n");
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    CommandRun r = CommandRun.callvec("replay", "--bootstrap-servers", "localhost:" + closedPort, "--producer-config",
        props.toString(), "--speed", "0", raw.toString());
    assertEquals(1, r.exit(), r.out() + r.err());
    assertTrue(r.err().contains("callvec replay: sending to callvec.audio-chunks at localhost:" + closedPort + " failed")
        && r.err().contains("were not written"), r.err());
    assertEquals("", r.out());
  }
}
