package io.callvec.it.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.audio.G711;
import io.callvec.broker.LocalKafkaCluster;
import io.callvec.it.support.AppInstance;
import io.callvec.it.support.AppTopics;
import io.callvec.it.support.Knobs;
import io.callvec.it.support.ScenarioSettings;
import io.callvec.it.support.SlowModelMain;
import io.callvec.it.support.WorkDirs;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.Channel;
import io.callvec.schemas.serde.CallvecSerdes;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.DoubleSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounded resources: many calls open at once on one instance (a separate JVM with a small fixed
 * heap) stay within a documented heap and state-store size, and the idle timeout evicts all of them.
 *
 * <p>Every call × channel sends {@code openAudioMs} of μ-law audio and then goes quiet (no
 * end-of-stream), so that all streams are open at the same time; the chunks go out round-robin
 * (chunk {@code k} of every stream before chunk {@code k + 1}). Then the test measures, while all
 * streams are open: heap in use after a full GC, RSS, and the state stores' size as RocksDB reports
 * it (SST files + memtables, Kafka Streams' {@code kafka_stream_state_*} metrics). Finally it waits
 * for the idle timeout to end every stream and checks that no state is left.
 *
 * <p>CI size: the dimension-1024 stand-in model ({@code wav2vec2-standin-1024.onnx}, the real
 * model's output width) behind {@link SlowModelMain}'s added delay per window, 300 calls × 4.6 s of
 * audio per channel: every stream cuts two 2 s windows, some embedded (so the 8 KiB running vector
 * sum is in its state) and the rest pending (cut, waiting in the batcher's queue or deferred) when the
 * figures are taken, and the 600 ms left over in the window planner. The state per open stream is
 * held to the README's bound (audio held + channel state + vector sum + pending entries), and the
 * heap to the idle heap plus the batcher queue's windows and Kafka Streams' record cache.
 *
 * <p>{@code it-tests/run-soak.sh open} runs 10,000 calls with the fixture model: memory, not
 * throughput (10,000 calls in real time are 1,000,000 chunks per second, far beyond one instance's
 * model). Knobs: {@code -Dcallvec.soak.openCalls} (300), {@code openAudioMs} (4,600), {@code chunkMs}
 * (100), {@code heapMb} (256), {@code idleMs} (30,000), {@code model} ({@code standin} or {@code
 * fixture}), {@code delayMsPerWindow} (20).
 */
class BoundedResourcesTest {
  private static final Logger log = LoggerFactory.getLogger(BoundedResourcesTest.class);

  /** Heap growth allowed besides the batcher's queued windows (Kafka Streams' 10 MiB record cache, client buffers), bytes. */
  static final long HEAP_GROWTH_LIMIT_BYTES = 48L << 20;
  /** Documented state per stream besides its audio and vector sum (channel state, time-index entry, keys, RocksDB overhead), bytes. */
  static final long STATE_OVERHEAD_PER_STREAM_BYTES = 20L << 10;
  /** One pending-window entry in the pending store (key + coordinates), bytes (README: 33 B, rounded up for the key). */
  static final long PENDING_ENTRY_BYTES = 64;
  /** callvec.rocksdb.memory.bytes's default, bytes. */
  static final long ROCKSDB_BUDGET_BYTES = 128L << 20;
  /** Audio held in the block store per second of 16 kHz float audio, bytes. */
  static final long AUDIO_BYTES_PER_SECOND = 16_000L * 4;
  /** The batcher's queue ({@code callvec.batch.queue.capacity}'s default), windows. */
  static final int QUEUE_CAPACITY_WINDOWS = 256;
  /** The stand-in model's classpath resource (dimension 1024). */
  static final String STANDIN_MODEL = "classpath:/io/callvec/model/fixture/wav2vec2-standin-1024.onnx";

  private final Path work = WorkDirs.create("BoundedResourcesTest");

  @Test
  void openCallsAtDimension1024WithWindowsCutAndPendingStayWithinTheDocumentedHeapAndStateSizeAndAreAllEvicted() throws Exception {
    int calls = Knobs.intKnob("openCalls", 300);
    int audioMs = Knobs.intKnob("openAudioMs", 4_600);
    int chunkMs = Knobs.intKnob("chunkMs", 100);
    int heapMb = Knobs.intKnob("heapMb", 256);
    int idleMs = Knobs.intKnob("idleMs", 30_000);
    boolean standIn = !"fixture".equals(System.getProperty("callvec.soak.model", "standin"));
    int delayMs = Knobs.intKnob("delayMsPerWindow", 20);
    int dimension = standIn ? 1024 : 32;
    int streams = 2 * calls;
    int windowsPerStream = audioMs / ScenarioSettings.WINDOW_MS;
    int chunksPerStream = audioMs / chunkMs;
    long records = (long) streams * chunksPerStream;

    try (LocalKafkaCluster kafka = LocalKafkaCluster.builder().dataDir(work.resolve("kafka")).build()) {
      String prefix = "bounded-" + UUID.randomUUID().toString().substring(0, 8);
      AppTopics topics = AppTopics.of(prefix);
      kafka.createTopics(ScenarioSettings.topics(topics, 3, (short) 1));
      Map<String, String> cfg = new HashMap<>(ScenarioSettings.app(kafka.bootstrapServers(), prefix + "-app", topics));
      cfg.put("state.dir", work.resolve("state").toString());
      cfg.put("callvec.idle.timeout.ms", Integer.toString(idleMs));
      cfg.put("callvec.idle.scan.interval.ms", "1000");
      cfg.put("callvec.batch.queue.capacity", Integer.toString(QUEUE_CAPACITY_WINDOWS));
      if (standIn) {
        cfg.put("callvec.model.path", STANDIN_MODEL);
      }

      try (AppInstance app = AppInstance.start("bounded", work.resolve("bounded.log"), heapMb, cfg,
          List.of(SlowModelMain.class.getName(), Integer.toString(delayMs)))) {
        app.awaitReady(Duration.ofSeconds(90));
        long heapIdle = app.heapAfterGcBytes();
        long rssIdle = app.rssBytes();

        long t0 = System.nanoTime();
        produceRoundRobin(kafka.clientConfig(), topics.input(), prefix, calls, chunksPerStream, chunkMs);
        double produceS = (System.nanoTime() - t0) / 1e9;
        await(app, "all chunks accepted", () -> app.metric("callvec_chunks_total", "result=\"accepted\"").orElse(0), records,
            Duration.ofMinutes(10));
        double acceptS = (System.nanoTime() - t0) / 1e9;
        // Windows cut and pending (queued, in flight or deferred) and segments already pooled, as every chunk is in.
        double pendingAtMeasure = app.metric("callvec_batcher_queue_depth_windows").orElse(0) + app.metric("callvec_batcher_inflight_windows").orElse(0)
            + app.metric("callvec_windows_deferred").orElse(0);
        double segmentsAtMeasure = app.metric("callvec_segments_total").orElse(0);
        assertEquals(streams, app.metric("callvec_streams_open").orElse(-1), "every stream open at once");

        long heapOpen = app.heapAfterGcBytes();
        long rssOpen = app.rssBytes();
        java.nio.file.Files.writeString(work.resolve("metrics-open.txt"), app.metricsText()); // for the record
        Map<String, Double> store = storeFigures(app);
        double openNow = app.metric("callvec_streams_open").orElse(-1);
        assertEquals(streams, openNow, "the figures were taken while every stream was open (raise idleMs if not)");

        double scans = app.metric("callvec_idle_scan_seconds_count").orElse(0);
        double scanMeanMs = scans == 0 ? Double.NaN : 1000 * app.metric("callvec_idle_scan_seconds_sum").orElse(0) / scans;
        double scanMaxMs = 1000 * app.metricMax("callvec_idle_scan_seconds_max").orElse(Double.NaN);
        double stateBytes = store.get("sst") + store.get("memtables");
        double perStream = stateBytes / streams;
        // README "State per open call × channel": all audio not yet pruned, the channel state, the
        // running vector sum (5 + 8 × dimension bytes, once a segment was pooled), one entry per pending window.
        long documented = STATE_OVERHEAD_PER_STREAM_BYTES + AUDIO_BYTES_PER_SECOND * audioMs / 1000 + 5 + 8L * dimension
            + PENDING_ENTRY_BYTES * windowsPerStream;
        // Heap: the batcher's queue holds each queued window's audio (16 kHz float32), plus a batch in flight.
        long windowBytes = 4L * 16 * ScenarioSettings.WINDOW_MS;
        long heapLimit = HEAP_GROWTH_LIMIT_BYTES + (QUEUE_CAPACITY_WINDOWS + 8L) * windowBytes;
        log.info(String.format(Locale.ROOT, "RESULT scenario=bounded open_calls=%d streams=%d chunks=%d produce_s=%.1f accept_s=%.1f "
                + "heap_idle_mib=%.1f heap_open_mib=%.1f rss_idle_mib=%.0f rss_open_mib=%.0f state_mib=%.1f (sst %.1f + memtables %.1f) "
                + "keys_estimate=%.0f state_per_stream_kib=%.2f documented_per_stream_kib=%.1f block_cache_mib=%.1f heap_max_mib=%d "
                + "idle_scan_mean_ms=%.1f idle_scan_max_ms=%.1f (per task, 3 tasks) dimension=%d windows_cut_per_stream=%d "
                + "segments_at_measure=%.0f windows_pending_at_measure=%.0f heap_limit_mib=%.1f",
            calls, streams, records, produceS, acceptS, mib(heapIdle), mib(heapOpen), mib(rssIdle), mib(rssOpen), mib(stateBytes),
            mib(store.get("sst")), mib(store.get("memtables")), store.get("keys"), perStream / 1024, documented / 1024.0,
            mib(store.get("cache")), heapMb, scanMeanMs, scanMaxMs, dimension, windowsPerStream, segmentsAtMeasure, pendingAtMeasure,
            mib(heapLimit)));

        if (windowsPerStream > 0) {
          assertTrue(segmentsAtMeasure > 0, "some windows were embedded (vector sums in the state) when the figures were taken");
          assertTrue(pendingAtMeasure > 0, "some windows were cut and pending when the figures were taken (raise delayMsPerWindow)");
        }
        assertTrue(heapOpen - heapIdle < heapLimit, String.format(Locale.ROOT,
            "heap after GC grew by %.1f MiB with %d open streams (limit %.1f MiB: record cache and buffers + the batcher queue's windows): "
                + "per-call state must live in the stores", mib(heapOpen - heapIdle), streams, mib(heapLimit)));
        assertTrue(perStream <= documented, String.format(Locale.ROOT,
            "state per open stream %.1f KiB exceeds the documented %.1f KiB", perStream / 1024, documented / 1024.0));
        assertTrue(!(store.get("cache") > 1.05 * ROCKSDB_BUDGET_BYTES), String.format(Locale.ROOT,
            "RocksDB's shared cache holds %.1f MiB, over the %d MiB budget", mib(store.get("cache")), ROCKSDB_BUDGET_BYTES >> 20));
        assertTrue(store.get("keys") >= streams, "the stores hold at least one key per open stream, got " + store.get("keys"));

        // Idle eviction: every stream ends by the idle timeout and leaves no state.
        await(app, "all streams ended by the idle timeout", () -> app.metric("callvec_channels_ended_total", "reason=\"IDLE_TIMEOUT\"").orElse(0),
            streams, Duration.ofMillis(idleMs + 120_000L));
        await(app, "no open stream left", () -> -app.metric("callvec_streams_open").orElse(-1), 0, Duration.ofSeconds(60));
        assertEquals(0, app.metric("callvec_dead_letters_total").orElse(0), "no dead letters");
        long heapAfter = app.heapAfterGcBytes();
        log.info(String.format(Locale.ROOT, "RESULT scenario=bounded-evicted streams_ended=%d open_left=%.0f heap_after_mib=%.1f rss_after_mib=%.0f",
            streams, app.metric("callvec_streams_open").orElse(-1), mib(heapAfter), mib(app.rssBytes())));
        assertTrue(heapAfter - heapIdle < HEAP_GROWTH_LIMIT_BYTES, String.format(Locale.ROOT, "heap after eviction back near idle: %.1f MiB, idle %.1f MiB",
            mib(heapAfter), mib(heapIdle)));
        app.assertAlive();
      }
    }
  }

  private static double mib(double bytes) {
    return bytes / (1024.0 * 1024.0);
  }

  /** RocksDB's own figures over all callvec stores: SST bytes, memtable bytes, estimated keys, shared block cache use. */
  private static Map<String, Double> storeFigures(AppInstance app) throws InterruptedException {
    // Store meters are bridged to /metrics by a periodic refresh (10 s) after the tasks opened them.
    long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
    while (app.metric("kafka_stream_state_total_sst_files_size").isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(500);
    }
    Map<String, Double> m = new HashMap<>();
    m.put("sst", app.metric("kafka_stream_state_total_sst_files_size").orElseThrow(() -> new AssertionError("no RocksDB SST metric")));
    m.put("memtables", app.metric("kafka_stream_state_size_all_mem_tables").orElseThrow(() -> new AssertionError("no memtable metric")));
    m.put("keys", app.metric("kafka_stream_state_estimate_num_keys").orElseThrow(() -> new AssertionError("no key estimate metric")));
    m.put("cache", app.metricMax("kafka_stream_state_block_cache_usage").orElse(Double.NaN));
    return m;
  }

  private static void await(AppInstance app, String what, DoubleSupplier value, double target, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long nextLog = 0;
    while (true) {
      app.assertAlive();
      double v = value.getAsDouble();
      if (v >= target) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + ": " + v + " of " + target + " after " + timeout + "\n" + app.logTail(40));
      }
      if (System.nanoTime() > nextLog) {
        log.info("waiting for {}: {} of {}", what, (long) v, (long) target);
        nextLog = System.nanoTime() + 5_000_000_000L;
      }
      Thread.sleep(250);
    }
  }

  /** Chunk k of every call × channel before chunk k + 1; each stream's media clock starts at 0. */
  private static void produceRoundRobin(Map<String, Object> clientConfig, String topic, String prefix, int calls, int chunksPerStream, int chunkMs)
      throws Exception {
    Properties p = new Properties();
    p.putAll(clientConfig);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    int samples = 8 * chunkMs;
    AtomicReference<Exception> failure = new AtomicReference<>();
    try (KafkaProducer<String, AudioChunk> producer = new KafkaProducer<>(p, new StringSerializer(), CallvecSerdes.audioChunk().serializer())) {
      for (int k = 0; k < chunksPerStream; k++) {
        for (int c = 0; c < calls; c++) {
          String callId = prefix + "-" + c;
          for (int ch = 0; ch < 2; ch++) {
            float[] pcm = new float[samples];
            double hz = 200 + 7 * (c % 100) + 300 * ch;
            for (int i = 0; i < samples; i++) {
              pcm[i] = (float) (0.3 * Math.sin(2 * Math.PI * hz * (k * samples + i) / 8000.0));
            }
            AudioChunk chunk = AudioChunk.newBuilder()
                .setCallId(callId)
                .setChannel(new Channel(ch, ch == 0 ? "agent" : "customer"))
                .setSequenceNumber(k)
                .setMediaTimestampMs((long) k * chunkMs)
                .setEncoding(AudioEncoding.MULAW)
                .setSampleRateHz(8000)
                .setPayload(ByteBuffer.wrap(G711.encode(io.callvec.audio.Encoding.MULAW, pcm)))
                .setEndOfStream(false)
                .build();
            producer.send(new ProducerRecord<>(topic, callId, chunk), (md, e) -> {
              if (e != null) {
                failure.compareAndSet(null, e);
              }
            });
          }
        }
        if (failure.get() != null) {
          throw failure.get();
        }
      }
      producer.flush();
    }
    if (failure.get() != null) {
      throw failure.get();
    }
  }
}
