package io.callvec.it.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.broker.LocalKafkaCluster;
import io.callvec.it.support.AppStates;
import io.callvec.it.support.AppTopics;
import io.callvec.it.support.CallFixtures;
import io.callvec.it.support.ChunkFeeder;
import io.callvec.it.support.CommittedOutput;
import io.callvec.it.support.ExactlyOnceCheck;
import io.callvec.it.support.Knobs;
import io.callvec.it.support.ScenarioSettings;
import io.callvec.it.support.WorkDirs;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.Channel;
import io.callvec.schemas.serde.CallvecSerdes;
import io.callvec.topology.CallvecTopology;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import io.callvec.topology.internals.CallProcessor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hostile and broken input on a real broker (scenario 5 of the reliability issue). While good
 * two-channel calls play, a raw producer sends every kind of bad input we know of, each kind on its
 * own call id. Each must end up in the dead-letter topic with its reason (the {@code
 * callvec.dlq.reason} header, or Kafka Streams' {@code __streams.errors.*} headers for bytes that
 * are not an AudioChunk), counted in {@code /metrics}; the app keeps running and the good calls are
 * delivered exactly once. Kinds that are accepted on purpose (a wildly jumping sequence number, an
 * 11025 Hz stream, Kafka timestamps in 1970) are asserted too.
 *
 * <p>The second test sends many one-chunk calls that never end and checks that idle eviction empties
 * the per-channel stores ({@code -Dcallvec.soak.tinyCalls=1000000} for the million-call version).
 */
class HostileInputTest {
  private static final Logger log = LoggerFactory.getLogger(HostileInputTest.class);
  private static final int MAX_PAYLOAD_BYTES = 4000;
  private static final long YEAR_3000_MS = 32_503_680_000_000L;
  private static final String STREAMS_DLQ = "deserialization (__streams.errors)";

  private final Path work = WorkDirs.create("HostileInputTest");

  private static AudioChunk.Builder chunk(String callId, long seq) {
    byte[] payload = new byte[160];
    new Random(callId.hashCode() * 31L + seq).nextBytes(payload); // any byte is a μ-law sample
    return AudioChunk.newBuilder()
        .setCallId(callId)
        .setChannel(new Channel(0, "agent"))
        .setSequenceNumber(seq)
        .setMediaTimestampMs(seq * 20)
        .setEncoding(AudioEncoding.MULAW)
        .setSampleRateHz(8000)
        .setPayload(ByteBuffer.wrap(payload))
        .setEndOfStream(false);
  }

  /** Sends chunks, keyed by their call id, and waits for each acknowledgement (so the order per call is the send order). */
  private static final class Sender {
    final KafkaProducer<String, byte[]> producer;
    final String topic;
    final Map<String, Integer> sentByCase = new TreeMap<>();

    Sender(KafkaProducer<String, byte[]> producer, String topic) {
      this.producer = producer;
      this.topic = topic;
    }

    void send(String key, byte[] value, Long timestamp) throws Exception {
      producer.send(new ProducerRecord<>(topic, null, timestamp, key, value)).get(30, TimeUnit.SECONDS);
    }

    void send(String key, AudioChunk chunk) throws Exception {
      send(key, CallvecSerdes.audioChunk().encode(chunk), null);
    }

    void send(AudioChunk chunk) throws Exception {
      send(chunk.getCallId(), chunk);
    }

    /** Chunks {@code from..to-1} of a 20 ms μ-law call, the last one end-of-stream if {@code eosAt} is it. */
    void play(String callId, int from, int to, int eosAt) throws Exception {
      for (int s = from; s < to; s++) {
        send(chunk(callId, s).setEndOfStream(s == eosAt).build());
      }
    }
  }

  @Test
  void everyKindOfHostileInputIsDeadLetteredWithItsReasonWhileGoodCallsAreExactlyOnce() throws Exception {
    int calls = Knobs.intKnob("hostileCalls", 3);
    try (LocalKafkaCluster kafka = LocalKafkaCluster.builder().dataDir(work.resolve("kafka")).build()) {
      String prefix = ScenarioSettings.uniquePrefix("hostile");
      AppTopics topics = AppTopics.of(prefix);
      List<NewTopic> newTopics = new ArrayList<>();
      for (NewTopic t : ScenarioSettings.topics(topics, 3, (short) 1)) {
        // The input takes records up to 8 MiB, so that a 1 MB call id (key and value) reaches the app.
        newTopics.add(t.name().equals(topics.input()) ? t.configs(Map.of("max.message.bytes", Integer.toString(8 << 20))) : t);
      }
      kafka.createTopics(newTopics);
      Map<String, String> cfg = ScenarioSettings.singleInstance(kafka.bootstrapServers(), prefix, topics, work.resolve("state"), 0);
      cfg.put("callvec.max.payload.bytes", Integer.toString(MAX_PAYLOAD_BYTES));
      cfg.put("callvec.idle.timeout.ms", "6000");
      cfg.put("callvec.idle.scan.interval.ms", "500");
      cfg.put("max.partition.fetch.bytes", Integer.toString(8 << 20));
      TopologySettings settings = ScenarioSettings.topology(cfg);
      List<Recording> good = CallFixtures.twoChannelCalls(prefix + "-good", calls, 5000, 400);
      Map<String, float[]> expected = CallFixtures.expectedSegments(good, settings);
      // Shuffled within 5 chunks, no duplicates: every dead letter of this test is a hostile record.
      Chunker.Options play = Chunker.Options.realTime().withSpeed(2.0).withShuffle(5, 0.0, 7);

      Map<String, Object> producerCfg = new HashMap<>(kafka.clientConfig());
      producerCfg.put(ProducerConfig.ACKS_CONFIG, "all");
      producerCfg.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 << 20);
      producerCfg.put(ProducerConfig.LINGER_MS_CONFIG, 0);

      Map<String, Integer> expectedReasons = new TreeMap<>();
      Map<String, String> expectedEnds = new TreeMap<>(); // hostile call id -> end reason of its call embedding
      boolean futureKafkaTimestampAccepted;
      long t0 = System.nanoTime();
      try (CallvecApp app = CallvecApp.start(CallvecConfig.builder().overrides(cfg).build())) {
        AppStates.awaitRunning(app, "app running before the feed");
        try (ChunkFeeder feeder = ChunkFeeder.start(kafka.clientConfig(), topics.input(), good, play);
            KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerCfg, new StringSerializer(), new ByteArraySerializer())) {
          feeder.awaitFraction(0.1, Duration.ofSeconds(60));
          Sender tx = new Sender(producer, topics.input());

          // 1-3. Not an AudioChunk: Kafka Streams' deserialization handler dead-letters them.
          tx.send("h-garbage", "\u0000\u00ffnot avro at all, just bytes".getBytes(StandardCharsets.ISO_8859_1), null);
          Schema other = SchemaBuilder.record("Invoice").namespace("com.example").fields().requiredString("callId").requiredLong("cents").endRecord();
          GenericRecord invoice = new GenericData.Record(other);
          invoice.put("callId", "h-wrong-schema");
          invoice.put("cents", 4200L);
          ByteBuffer wrongSchema = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), other).encode(invoice);
          tx.send("h-wrong-schema", Arrays.copyOfRange(wrongSchema.array(), wrongSchema.arrayOffset() + wrongSchema.position(),
              wrongSchema.arrayOffset() + wrongSchema.limit()), null);
          byte[] whole = CallvecSerdes.audioChunk().encode(chunk("h-truncated", 0).build());
          tx.send("h-truncated", Arrays.copyOf(whole, whole.length - 60), null);
          expectedReasons.merge(STREAMS_DLQ, 3, Integer::sum);

          // 4-8. Formats that cannot be decoded or resampled.
          tx.send(chunk("h-encoding", 0).setEncoding(AudioEncoding.UNKNOWN).build());
          expectedReasons.merge("UNKNOWN_ENCODING", 1, Integer::sum);
          for (int rate : new int[] {0, -8000, 2_000_000_000, 44_057}) {
            tx.send(chunk("h-rate-" + rate, 0).setSampleRateHz(rate).build());
            expectedReasons.merge("UNSUPPORTED_SAMPLE_RATE", 1, Integer::sum);
          }
          // 9. 11025 Hz is odd but supported: accepted, and embedded.
          for (int s = 0; s < 50; s++) {
            tx.send(chunk("h-rate-11025", s).setSampleRateHz(11_025).setPayload(ByteBuffer.wrap(new byte[220])).setEndOfStream(s == 49).build());
          }
          expectedEnds.put("h-rate-11025", "END_OF_STREAM");

          // 10-12. Payloads.
          tx.send(chunk("h-empty", 0).setPayload(ByteBuffer.allocate(0)).build());
          expectedReasons.merge("EMPTY_PAYLOAD", 1, Integer::sum);
          tx.send(chunk("h-odd-pcm16", 0).setEncoding(AudioEncoding.PCM_S16LE).setPayload(ByteBuffer.allocate(321)).build());
          expectedReasons.merge("ODD_PCM16_PAYLOAD", 1, Integer::sum);
          tx.send(chunk("h-oversize", 0).setPayload(ByteBuffer.allocate(100_000)).build());
          expectedReasons.merge("OVERSIZE_PAYLOAD", 1, Integer::sum);

          // 13-15. Sequence numbers and media timestamps out of range (ms since call start; year 3000 as epoch ms is > 2^40).
          tx.send(chunk("h-neg-seq", -1).setMediaTimestampMs(0).build());
          expectedReasons.merge("INVALID_SEQUENCE", 1, Integer::sum);
          tx.send(chunk("h-neg-ts", 1).setMediaTimestampMs(-20).build());
          tx.send(chunk("h-future-ts", 1).setMediaTimestampMs(YEAR_3000_MS).build());
          expectedReasons.merge("INVALID_TIMESTAMP", 2, Integer::sum);

          // 16. A wildly jumping sequence number: the position is the media timestamp, the sequence number only
          // identifies duplicates, so the jump is accepted. A resent chunk from before the jump is then too old for the
          // duplicate window (512 numbers below the highest) and is dropped as TOO_LATE instead: never played twice.
          for (int s = 0; s < 49; s++) {
            tx.send(chunk("h-seq-jump", s == 25 ? 1_000_000_000_000L : s).setMediaTimestampMs(s * 20L).build());
          }
          tx.send(chunk("h-seq-jump", 30).build());
          tx.send(chunk("h-seq-jump", 49).setEndOfStream(true).build());
          expectedReasons.merge("TOO_LATE", 1, Integer::sum);
          expectedEnds.put("h-seq-jump", "END_OF_STREAM");

          // 17. Duplicate flood: one chunk 1000 times.
          tx.play("h-dup-flood", 0, 49, -1);
          AudioChunk dup = chunk("h-dup-flood", 10).build();
          for (int i = 0; i < 1000; i++) {
            producer.send(new ProducerRecord<>(topics.input(), dup.getCallId(), CallvecSerdes.audioChunk().encode(dup)));
          }
          producer.flush();
          tx.play("h-dup-flood", 49, 50, 49);
          expectedReasons.merge("DUPLICATE", 1000, Integer::sum);
          expectedEnds.put("h-dup-flood", "END_OF_STREAM");

          // 18-19. Kafka record timestamps far in the past and the future (the media timestamp places the audio;
          // the record timestamp only feeds the chunk-timestamp fields and the latency metric).
          for (int s = 0; s < 50; s++) {
            tx.send("h-kafka-ts-1970", CallvecSerdes.audioChunk().encode(chunk("h-kafka-ts-1970", s).setEndOfStream(s == 49).build()), 1L);
          }
          expectedEnds.put("h-kafka-ts-1970", "END_OF_STREAM");
          try {
            tx.send("h-kafka-ts-3000", CallvecSerdes.audioChunk().encode(chunk("h-kafka-ts-3000", 0).build()), YEAR_3000_MS);
            futureKafkaTimestampAccepted = true;
            for (int s = 1; s < 50; s++) {
              tx.send("h-kafka-ts-3000", CallvecSerdes.audioChunk().encode(chunk("h-kafka-ts-3000", s).setEndOfStream(s == 49).build()), YEAR_3000_MS);
            }
            expectedEnds.put("h-kafka-ts-3000", "END_OF_STREAM");
          } catch (ExecutionException e) {
            assertTrue(e.getCause() instanceof InvalidTimestampException, "a year-3000 record is refused by the broker: " + e.getCause());
            futureKafkaTimestampAccepted = false;
          }

          // 20-25. Keys and ids.
          String hugeId = "h-huge-id-" + "x".repeat(1 << 20);
          tx.send(chunk(hugeId, 0).build());
          expectedReasons.merge("CALL_ID_TOO_LONG", 1, Integer::sum);
          tx.send(null, chunk("h-null-key", 0).build());
          expectedReasons.merge("NULL_KEY", 1, Integer::sum);
          tx.send("h-tombstone", null, null);
          expectedReasons.merge("NULL_VALUE", 1, Integer::sum);
          tx.send("h-someone-else", chunk("h-key-mismatch", 0).build());
          expectedReasons.merge("KEY_MISMATCH", 1, Integer::sum);
          tx.send(chunk("h-ctrl\u0007id", 0).build());
          expectedReasons.merge("INVALID_CALL_ID", 1, Integer::sum);
          tx.send(chunk("h-channel", 0).setChannel(new Channel(99, "x")).build());
          expectedReasons.merge("INVALID_CHANNEL", 1, Integer::sum);

          // 26. Chunks after end-of-stream.
          tx.play("h-after-end", 0, 53, 49);
          expectedReasons.merge("CHUNK_AFTER_END", 3, Integer::sum);
          expectedEnds.put("h-after-end", "END_OF_STREAM");

          // 27. Format change mid-call (μ-law 8 kHz, then one chunk at 16 kHz).
          tx.play("h-format", 0, 25, -1);
          tx.send(chunk("h-format", 25).setSampleRateHz(16_000).build());
          tx.play("h-format", 26, 50, 49);
          expectedReasons.merge("FORMAT_CHANGED", 1, Integer::sum);
          expectedEnds.put("h-format", "END_OF_STREAM");

          // 28. A chunk for a position emitted long ago (100 ms into a call 980 ms along; lateness 500 ms).
          tx.play("h-late", 0, 49, -1);
          tx.send(chunk("h-late", 200).setMediaTimestampMs(100).build());
          tx.play("h-late", 49, 50, 49);
          expectedReasons.merge("TOO_LATE", 1, Integer::sum);
          expectedEnds.put("h-late", "END_OF_STREAM");

          // 29. A call that never ends: the idle timeout ends it.
          tx.play("h-never-ends", 0, 50, -1);
          expectedEnds.put("h-never-ends", "IDLE_TIMEOUT");

          feeder.awaitDone(Duration.ofSeconds(120));
          log.info("hostile input sent: {} dead letters expected {}, call embeddings expected {}; year-3000 Kafka timestamp accepted: {}",
              expectedReasons.values().stream().mapToInt(Integer::intValue).sum(), expectedReasons, expectedEnds, futureKafkaTimestampAccepted);
        }

        CommittedOutput out = CommittedOutput.read(kafka.clientConfig(), topics, good.size() + expectedEnds.size(), Duration.ofSeconds(120),
            Duration.ofSeconds(3), () -> assertNull(app.failure(), "the app failed"));

        // Dead letters: exactly the expected ones, each with its reason (and detail and source).
        Map<String, Integer> seen = new TreeMap<>();
        for (ConsumerRecord<String, byte[]> r : out.deadLetters) {
          String reason = header(r, CallProcessor.HEADER_REASON);
          if (reason == null) {
            assertNotNull(header(r, "__streams.errors.exception"), "a dead letter without a reason: key " + r.key());
            assertTrue(r.key().startsWith("h-"), "deserialisation dead letter of a hostile record: " + r.key());
            seen.merge(STREAMS_DLQ, 1, Integer::sum);
            continue;
          }
          assertNotNull(header(r, CallProcessor.HEADER_DETAIL), reason);
          assertTrue(header(r, CallProcessor.HEADER_SOURCE).startsWith(topics.input() + "/"), reason);
          AudioChunk value = r.value() == null ? null : CallvecSerdes.audioChunk().decode(r.value());
          String callId = value == null ? r.key() : value.getCallId();
          assertTrue(callId.startsWith("h-"), "dead letter " + reason + " of a hostile call, not " + callId);
          if (reason.equals("CALL_ID_TOO_LONG")) {
            assertEquals(TopologySettings.MAX_CALL_ID_CHARS, callId.length(), "the 1 MB id is cut in the dead letter");
          }
          if (reason.equals("OVERSIZE_PAYLOAD")) {
            assertEquals(0, value.getPayload().remaining(), "the oversize payload is dropped in the dead letter");
          }
          seen.merge(reason, 1, Integer::sum);
        }
        assertEquals(expectedReasons, seen, "dead letters per reason");

        // Metrics: callvec_dead_letters_total{reason} per reason; deserialisation failures in Kafka Streams' dropped-records.
        String metrics = scrape(app);
        Map<String, Integer> counted = new TreeMap<>();
        Matcher m = Pattern.compile("^callvec_dead_letters_total\\{[^}]*reason=\"([A-Z0-9_]+)\"[^}]*} ([0-9.eE+]+)$", Pattern.MULTILINE).matcher(metrics);
        while (m.find()) {
          counted.merge(m.group(1), (int) Double.parseDouble(m.group(2)), Integer::sum);
        }
        Map<String, Integer> expectedCounted = new TreeMap<>(expectedReasons);
        expectedCounted.remove(STREAMS_DLQ);
        assertEquals(expectedCounted, counted, "callvec_dead_letters_total per reason");
        // Deserialisation failures are counted by Kafka Streams as dropped records (task level); the /metrics bridge
        // lists new Kafka metrics on its refresh (every 60 s), so read the client's metric itself and report the bridge's.
        double dropped = app.streams().metrics().values().stream()
            .filter(x -> x.metricName().name().equals("dropped-records-total") && x.metricName().group().equals("stream-task-metrics"))
            .mapToDouble(x -> ((Number) x.metricValue()).doubleValue()).sum();
        assertEquals(expectedReasons.get(STREAMS_DLQ), dropped, 0.0, "Kafka Streams' dropped-records-total = deserialisation dead letters");
        log.info("/metrics kafka_stream_task_dropped_records_total now: {}", sum(metrics, "kafka_stream_task_dropped_records_total"));
        assertEquals(1, sum(metrics, "callvec_channels_ended_total", "reason=\"IDLE_TIMEOUT\""), 0.0, "one call ended by the idle timeout");

        // Hostile calls that had good audio: one call embedding each, with the expected end reason.
        Map<String, String> ends = new TreeMap<>();
        List<CallEmbedding> goodCalls = new ArrayList<>();
        for (CallEmbedding c : out.calls) {
          if (c.getCallId().startsWith("h-")) {
            assertNull(ends.put(c.getCallId(), c.getEndReason().name()), "one call embedding for " + c.getCallId());
            assertTrue(c.getSegmentCount() >= 1, c.getCallId() + " has segments");
          } else {
            goodCalls.add(c);
          }
        }
        assertEquals(expectedEnds, ends, "call embeddings of the hostile calls and their end reasons");

        // The good calls: exactly once, unaffected.
        CommittedOutput goodOut = new CommittedOutput();
        out.segments.stream().filter(s -> !s.getCallId().startsWith("h-")).forEach(goodOut.segments::add);
        goodOut.calls.addAll(goodCalls);
        ExactlyOnceCheck.Verdict v = ExactlyOnceCheck.check(goodOut, good, play, expected, settings);
        log.info("RESULT scenario=hostile kinds=29 dead_letters={} per_reason={} metric_per_reason={} streams_dropped={} hostile_calls={} "
            + "kafka_ts_3000_accepted={} good_records={} segments={}/{} lost={} duplicated={} wrong={} app_state={} took_s={} clean={}",
            seen.values().stream().mapToInt(Integer::intValue).sum(), seen, counted, dropped, ends, futureKafkaTimestampAccepted, v.recordsChecked(),
            v.deliveredSegments(), v.expectedSegments(), v.lostSegments() + v.lostCalls(), v.duplicatedSegments() + v.duplicatedCalls(),
            v.wrongVectors() + v.wrongCalls() + v.unexpectedSegments(), app.streams().state(), (System.nanoTime() - t0) / 1_000_000_000, v.clean());
        v.assertClean();
        assertNull(app.failure(), "the app never failed");
        assertEquals(KafkaStreams.State.RUNNING, app.streams().state(), "the app is still running");
      }
    }
  }

  @Test
  void manyTinyCallsThatNeverEndAreEvictedByTheIdleTimeoutAndTheStoresEmpty() throws Exception {
    int tiny = Knobs.intKnob("tinyCalls", 12_000);
    int idleMs = Knobs.intKnob("tinyIdleMs", 3000);
    try (LocalKafkaCluster kafka = LocalKafkaCluster.builder().dataDir(work.resolve("kafka-tiny")).build()) {
      String prefix = ScenarioSettings.uniquePrefix("tiny");
      AppTopics topics = AppTopics.of(prefix);
      kafka.createTopics(ScenarioSettings.topics(topics, 2, (short) 1));
      Map<String, String> cfg = ScenarioSettings.singleInstance(kafka.bootstrapServers(), prefix, topics, work.resolve("state-tiny"), 0);
      cfg.put("callvec.idle.timeout.ms", Integer.toString(idleMs));
      cfg.put("callvec.idle.scan.interval.ms", "500");
      Map<String, Object> producerCfg = new HashMap<>(kafka.clientConfig());
      producerCfg.put(ProducerConfig.ACKS_CONFIG, "all");
      producerCfg.put(ProducerConfig.LINGER_MS_CONFIG, 20);
      producerCfg.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
      try (CallvecApp app = CallvecApp.start(CallvecConfig.builder().overrides(cfg).build())) {
        AppStates.awaitRunning(app, "app running before the feed");
        long t0 = System.nanoTime();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerCfg, new StringSerializer(), new ByteArraySerializer())) {
          for (int i = 0; i < tiny; i++) {
            AudioChunk c = chunk("t-" + i, 0).build();
            producer.send(new ProducerRecord<>(topics.input(), c.getCallId(), CallvecSerdes.audioChunk().encode(c)));
          }
          producer.flush();
        }
        long sentMs = (System.nanoTime() - t0) / 1_000_000;
        // Wait until every tiny call was started and then ended by the idle timeout.
        long deadline = System.nanoTime() + Duration.ofSeconds(Math.max(60, tiny / 500)).toNanos();
        double endedByIdle = 0;
        double started = 0;
        long peakOpen = 0;
        while (System.nanoTime() < deadline) {
          assertNull(app.failure(), "the app failed");
          started = app.metrics().total("callvec.channels.started");
          endedByIdle = app.metrics().registry().find("callvec.channels.ended").tag("reason", "IDLE_TIMEOUT").counters().stream()
              .mapToDouble(c -> c.count()).sum();
          peakOpen = Math.max(peakOpen, (long) (started - endedByIdle));
          if (endedByIdle >= tiny) {
            break;
          }
          Thread.sleep(200);
        }
        long evictedMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(tiny, started, 0.0, "every tiny call was started");
        assertEquals(tiny, endedByIdle, 0.0, "every tiny call was ended by the idle timeout");
        // A commit flushes the caches before the stores show the deletions: poll for them (30 s deadline).
        Map<String, Long> sizes = new TreeMap<>();
        long flushDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        do {
          for (String store : List.of(CallvecTopology.CHANNEL_STORE, CallvecTopology.BLOCK_STORE, CallvecTopology.PENDING_STORE,
              CallvecTopology.ENDED_STORE, CallvecTopology.TIME_INDEX_STORE)) {
            sizes.put(store, count(app, store));
          }
          if (sizes.get(CallvecTopology.CHANNEL_STORE) == 0 && sizes.get(CallvecTopology.BLOCK_STORE) == 0) {
            break;
          }
          Thread.sleep(200);
        } while (System.nanoTime() < flushDeadline);
        long openStreamIndexEntries = countOpenStreamIndexEntries(app);
        var scan = app.metrics().idleScan();
        log.info("RESULT scenario=tiny-calls calls={} idle_timeout_ms={} sent_ms={} all_evicted_ms={} peak_open_channels~{} stores_after={} "
            + "idle_scans={} idle_scan_max_ms={} idle_scan_mean_ms={} chunks_dead_lettered={}", tiny, idleMs, sentMs, evictedMs, peakOpen, sizes,
            scan.count(), String.format("%.1f", scan.max(TimeUnit.MILLISECONDS)), String.format("%.2f", scan.mean(TimeUnit.MILLISECONDS)),
            app.metrics().total("callvec.dead.letters"));
        assertEquals(0L, sizes.get(CallvecTopology.CHANNEL_STORE), "channel states deleted");
        assertEquals(0L, sizes.get(CallvecTopology.BLOCK_STORE), "audio blocks deleted");
        assertEquals(0L, sizes.get(CallvecTopology.PENDING_STORE), "no pending windows");
        assertEquals(0L, openStreamIndexEntries, "no open-stream (last-seen) entry left in the time index");
        // "ended" keeps one 8-byte marker per ended stream for max(10 × idle timeout, 10 min), then the scan expires it.
        if ((System.nanoTime() - t0) / 1_000_000 < 600_000) {
          // Younger than the 10 min expiry: exactly one marker per ended stream (0 would mean no marker was written).
          assertEquals((long) tiny, (long) sizes.get(CallvecTopology.ENDED_STORE), "one ended marker per stream ended: " + sizes);
        } else {
          assertTrue(sizes.get(CallvecTopology.ENDED_STORE) <= tiny, "ended markers bounded by the streams ended: " + sizes);
        }
        // The time index holds exactly one entry per end marker: no last-seen entry is left behind.
        assertEquals(sizes.get(CallvecTopology.ENDED_STORE), sizes.get(CallvecTopology.TIME_INDEX_STORE), "time index entries: " + sizes);
        assertEquals(0, app.metrics().total("callvec.dead.letters"), 0.0, "no tiny call was dead-lettered");
        assertEquals(KafkaStreams.State.RUNNING, app.streams().state(), "the app is still running");
      }
    }
  }

  /** Entries of the time index that stand for open streams: key's first byte 'S' ({@code TimeIndex.LAST_SEEN}). */
  private static long countOpenStreamIndexEntries(CallvecApp app) {
    ReadOnlyKeyValueStore<org.apache.kafka.common.utils.Bytes, byte[]> s = app.streams().store(
        StoreQueryParameters.fromNameAndType(CallvecTopology.TIME_INDEX_STORE, QueryableStoreTypes.<org.apache.kafka.common.utils.Bytes, byte[]>keyValueStore()));
    long n = 0;
    try (KeyValueIterator<org.apache.kafka.common.utils.Bytes, byte[]> it = s.all()) {
      while (it.hasNext()) {
        if (it.next().key.get()[0] == 'S') {
          n++;
        }
      }
    }
    return n;
  }

  private static long count(CallvecApp app, String store) {
    ReadOnlyKeyValueStore<Object, Object> s = app.streams().store(StoreQueryParameters.fromNameAndType(store, QueryableStoreTypes.keyValueStore()));
    long n = 0;
    try (KeyValueIterator<Object, Object> it = s.all()) {
      while (it.hasNext()) {
        it.next();
        n++;
      }
    }
    return n;
  }

  private static String header(ConsumerRecord<String, byte[]> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  private static String scrape(CallvecApp app) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + app.httpPort() + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), "/metrics answers");
    return r.body();
  }

  /** Sum of a Prometheus metric's samples whose labels contain {@code labelFilter} (or all, if empty). */
  private static double sum(String body, String name, String... labelFilter) {
    Matcher m = Pattern.compile("^" + Pattern.quote(name) + "(\\{[^}]*})? ([-+0-9.eE]+|NaN)$", Pattern.MULTILINE).matcher(body);
    double total = 0;
    while (m.find()) {
      String labels = m.group(1) == null ? "" : m.group(1);
      if (Arrays.stream(labelFilter).allMatch(labels::contains)) {
        total += Double.parseDouble(m.group(2));
      }
    }
    return total;
  }
}
