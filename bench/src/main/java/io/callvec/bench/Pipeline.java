package io.callvec.bench;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.app.Settings;
import io.callvec.audio.SyntheticSpeech;
import io.callvec.broker.LocalKafkaCluster;
import io.callvec.model.EmbeddingModel;
import io.callvec.model.InferenceException;
import io.callvec.model.batch.BatcherMetricNames;
import io.callvec.player.CallPlayer;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.serde.CallvecSerdes;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end-to-end rig shared by {@code e2e} and {@code eos-cost}: one real single-node KRaft broker
 * in this JVM, one idempotent producer that plays calls as 20 ms μ-law chunks, and, per {@link
 * Run}, one {@link CallvecApp} (model + batcher + Kafka Streams, its own topics and application
 * id) with a {@code read_committed} reader that stamps every output record with the wall time at
 * which it became visible.
 *
 * <p>Everything shares this JVM and this machine's cores: the broker, the player and the reader
 * take CPU from the app, as they would on a one-box deployment (and unlike one where the broker runs
 * elsewhere). CPU seconds reported here are this whole process's.
 */
final class Pipeline implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Pipeline.class);

  /** Length of one played chunk, ms of audio. */
  static final int CHUNK_MS = 20;

  private final Path work;
  private final LocalKafkaCluster kafka;
  private final KafkaProducer<String, AudioChunk> producer;
  private final int partitions;

  private Pipeline(Path work, LocalKafkaCluster kafka, KafkaProducer<String, AudioChunk> producer, int partitions) {
    this.work = work;
    this.kafka = kafka;
    this.producer = producer;
    this.partitions = partitions;
  }

  /**
   * Starts the broker (data under {@code bench/target}, deleted on close) and the producer.
   *
   * @param partitions partitions of every topic a run creates (the input topic's bound the app's
   *     parallelism)
   */
  static Pipeline start(int partitions) throws IOException {
    return start(partitions, LocalKafkaCluster.Mode.IN_PROCESS);
  }

  /**
   * As {@link #start(int)}, the broker in {@code mode}: {@link LocalKafkaCluster.Mode#CHILD_PROCESS}
   * puts it (and its KRaft controller) in child JVMs, so that this JVM's CPU counters see the app,
   * the player and the reader only.
   */
  static Pipeline start(int partitions, LocalKafkaCluster.Mode mode) throws IOException {
    return start(partitions, mode, "none");
  }

  /** As {@link #start(int, LocalKafkaCluster.Mode)}, the player's producer compressing with {@code compression} (Kafka's compression.type). */
  static Pipeline start(int partitions, LocalKafkaCluster.Mode mode, String compression) throws IOException {
    Path target = BenchEnv.root().resolve("bench/target");
    Files.createDirectories(target);
    Path work = Files.createTempDirectory(target, "pipeline-");
    LocalKafkaCluster kafka = LocalKafkaCluster.builder().mode(mode).dataDir(work.resolve("kafka")).build();
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    KafkaProducer<String, AudioChunk> producer =
        new KafkaProducer<>(p, new StringSerializer(), CallvecSerdes.audioChunk().serializer());
    return new Pipeline(work, kafka, producer, partitions);
  }

  String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  /** The broker (for an {@code Admin}: log sizes, topics). */
  LocalKafkaCluster kafka() {
    return kafka;
  }

  /**
   * Starts an app with its own topics ({@code bench.<name>.*}) and application id, waits until
   * Kafka Streams is RUNNING and starts its reader.
   *
   * @param overrides configuration on top of callvec's defaults (e.g. {@code
   *     callvec.batch.max.windows}, {@code processing.guarantee}); the rig's own keys (bootstrap,
   *     application id, state dir, topics, HTTP port -1) are set last unless given here
   */
  Run startApp(String name, String modelPath, Map<String, String> overrides) throws Exception {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("bootstrap.servers", kafka.bootstrapServers());
    m.put("application.id", "bench-" + name);
    m.put("state.dir", work.resolve("state-" + name).toString());
    m.put(Settings.INPUT_TOPIC.key(), "bench." + name + ".audio");
    m.put(Settings.SEGMENTS_TOPIC.key(), "bench." + name + ".segments");
    m.put(Settings.CALLS_TOPIC.key(), "bench." + name + ".calls");
    m.put(Settings.DLQ_TOPIC.key(), "bench." + name + ".dlq");
    m.put(Settings.HTTP_PORT.key(), "-1");
    m.put(Settings.MODEL_PATH.key(), modelPath);
    m.putAll(overrides);
    CallvecConfig cfg = CallvecConfig.builder().overrides(m).build();
    kafka.createTopics(partitions, cfg.get(Settings.INPUT_TOPIC), cfg.get(Settings.SEGMENTS_TOPIC),
        cfg.get(Settings.CALLS_TOPIC), cfg.get(Settings.DLQ_TOPIC));
    CallvecApp app = CallvecApp.start(cfg);
    boolean ok = false;
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (app.streams().state() != KafkaStreams.State.RUNNING) {
        if (app.failure() != null) {
          throw new IllegalStateException("the app failed while starting: " + app.failure(), app.failure());
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the app did not reach RUNNING within 120 s: state " + app.streams().state());
        }
        Thread.sleep(20);
      }
      Run run = new Run(name, cfg, app);
      ok = true;
      return run;
    } finally {
      if (!ok) {
        app.close();
      }
    }
  }

  @Override
  public void close() {
    try {
      producer.close(Duration.ofSeconds(10));
    } finally {
      try {
        kafka.close();
      } finally {
        deleteQuietly(work);
      }
    }
  }

  /**
   * This process's share of the machine's cores over {@code d} while the calling thread sleeps:
   * what everything running in the JVM (broker, idle apps, readers) costs without input.
   */
  static double idleCpuShare(Duration d) throws InterruptedException {
    double cpu0 = BenchEnv.processCpuSeconds();
    long t0 = System.nanoTime();
    Thread.sleep(d.toMillis());
    double wall = (System.nanoTime() - t0) / 1e9;
    return (BenchEnv.processCpuSeconds() - cpu0) / (wall * BenchEnv.cores());
  }

  /** One output segment as the reader saw it. */
  record Seen(String callId, int channel, int segmentIndex, double audioSeconds, long lastChunkTimestampMs,
      long embeddedAtMs, long visibleAtMs) {
    /** Segment end (its last chunk's Kafka timestamp) to embedding visible to read_committed, ms. */
    long latencyMs() {
      return visibleAtMs - lastChunkTimestampMs;
    }
  }

  /** How a player kept its schedule. */
  record Played(long records, long maxLateMs) {}

  /** Meter and clock readings, for differences over a phase. */
  record Snapshot(long nanos, double cpuSeconds, double inferenceSeconds, long batches, double batchWindows) {
    static Snapshot of(MeterRegistry r) {
      double inf = 0;
      for (Timer t : r.find(BatcherMetricNames.INFERENCE).timers()) {
        inf += t.totalTime(TimeUnit.SECONDS);
      }
      long n = 0;
      double w = 0;
      for (DistributionSummary s : r.find(BatcherMetricNames.BATCH_SIZE).summaries()) {
        n += s.count();
        w += s.totalAmount();
      }
      return new Snapshot(System.nanoTime(), BenchEnv.processCpuSeconds(), inf, n, w);
    }

    double wallSecondsSince(Snapshot before) {
      return (nanos - before.nanos) / 1e9;
    }
  }

  /**
   * What a phase measured: the segments of its calls, the wall time from its start to its last
   * segment visible, and the app's inference time, batches and this process's CPU time over it.
   */
  record Phase(List<Seen> segments, int expectedSegments, double wallSeconds, double cpuSeconds, double inferenceSeconds, long batches,
      double batchWindows, long maxPlayerLateMs, long startMs) {
    /** Time inside the model / wall time: the inference worker's utilisation. */
    double busy() {
      return inferenceSeconds / wallSeconds;
    }

    /** Mean windows per inference batch. */
    double meanBatch() {
      return batches == 0 ? Double.NaN : batchWindows / batches;
    }

    /** Share of the machine's cores this process used. */
    double cpuShare() {
      return cpuSeconds / (wallSeconds * BenchEnv.cores());
    }

    double audioSeconds() {
      return segments.stream().mapToDouble(Seen::audioSeconds).sum();
    }

    double[] latenciesMs() {
      return segments.stream().mapToDouble(Seen::latencyMs).toArray();
    }

    /**
     * Audio seconds embedded per wall second in the steady state: the audio of the segments that
     * became visible after the first one did, over the time from the first to the last becoming
     * visible (the pipeline's fill time before the first result is left out); NaN with fewer than two
     * distinct visibility times.
     */
    double steadyThroughput() {
      long first = segments.stream().mapToLong(Seen::visibleAtMs).min().orElse(0);
      long last = segments.stream().mapToLong(Seen::visibleAtMs).max().orElse(0);
      if (last <= first) {
        return Double.NaN;
      }
      double audio = segments.stream().filter(s -> s.visibleAtMs() > first).mapToDouble(Seen::audioSeconds).sum();
      return audio / ((last - first) / 1000.0);
    }

    /** Audio seconds per wall second from the start of the phase to the last segment visible. */
    double overallThroughput() {
      return audioSeconds() / wallSeconds;
    }
  }

  /** One time-equal loop of {@link EmbeddingModel#embedBatch} on equal batches. */
  record Bare(int batch, int batches, double audioSeconds, double wallSeconds, double cpuSeconds) {
    double throughput() {
      return audioSeconds / wallSeconds;
    }
  }

  /** An app with its topics and its reader. */
  final class Run implements AutoCloseable {
    final String name;
    final CallvecConfig config;
    final CallvecApp app;
    private final Reader reader;

    private Run(String name, CallvecConfig config, CallvecApp app) {
      this.name = name;
      this.config = config;
      this.app = app;
      this.reader = new Reader(kafka.bootstrapServers(), config.get(Settings.SEGMENTS_TOPIC), config.get(Settings.CALLS_TOPIC));
    }

    /**
     * Segments the app emits for these streams: one per full window (hop = window, callvec's
     * default) plus a final partial one when at least {@code callvec.min.final.window.ms} remain.
     */
    int expectedSegments(List<Recording> streams) {
      long w = windowMs();
      long hop = config.getLong(Settings.HOP_MS);
      if (hop != w) {
        throw new IllegalArgumentException("the bench expects hop = window, found hop " + hop + " ms, window " + w + " ms");
      }
      long minFinal = config.getLong(Settings.MIN_FINAL_WINDOW_MS);
      int n = 0;
      for (Recording s : streams) {
        long d = s.durationMs();
        n += (int) (d / w) + (d % w >= minFinal ? 1 : 0);
      }
      return n;
    }

    /** Segment window length, ms. */
    long windowMs() {
      return config.getLong(Settings.WINDOW_MS);
    }

    int maxBatch() {
      return config.getInt(Settings.BATCH_MAX_WINDOWS);
    }

    /**
     * Plays {@code calls} synthetic two-channel calls of {@code durationMs} at real-time pace, call
     * {@code k} starting {@code k * staggerMs} after the first (rounded to whole chunks), and waits
     * until every stream's call embedding is visible.
     *
     * @param timeout longest wait for the last call embedding after the player ends
     */
    Phase realTime(String prefix, int calls, long durationMs, long staggerMs, long seed, Duration timeout)
        throws InterruptedException {
      return realTime(prefix, CallPlayer.syntheticCalls(prefix, calls, durationMs, seed), staggerMs, timeout);
    }

    /**
     * Plays {@code streams} (call ids starting with {@code prefix + "-"}) at real-time pace, the
     * k-th call starting {@code k * staggerMs} after the first, and waits until every stream's call
     * embedding is visible.
     */
    Phase realTime(String prefix, List<Recording> streams, long staggerMs, Duration timeout) throws InterruptedException {
      Snapshot before = Snapshot.of(app.registry());
      long startMs = System.currentTimeMillis();
      Played played = playStaggered(config.get(Settings.INPUT_TOPIC), streams, staggerMs);
      int expected = expectedSegments(streams);
      reader.await(prefix, streams.size(), expected, timeout, app);
      return phase(prefix, expected, before, played.maxLateMs(), startMs);
    }

    /** This process's share of the machine's cores while the app waits for input, over {@code d}. */
    double idleCpuShare(Duration d) throws InterruptedException {
      return Pipeline.idleCpuShare(d);
    }

    /** Plays the calls as fast as the producer goes and waits for every call embedding. */
    Phase saturate(String prefix, int calls, long durationMs, long seed, Duration timeout) throws InterruptedException {
      List<Recording> streams = CallPlayer.syntheticCalls(prefix, calls, durationMs, seed);
      Snapshot before = Snapshot.of(app.registry());
      long startMs = System.currentTimeMillis();
      CallPlayer.play(producer, config.get(Settings.INPUT_TOPIC), streams, Chunker.Options.realTime().withSpeed(0), null);
      int expected = expectedSegments(streams);
      reader.await(prefix, streams.size(), expected, timeout, app);
      return phase(prefix, expected, before, 0, startMs);
    }

    private Phase phase(String prefix, int expected, Snapshot before, long maxLateMs, long startMs) {
      List<Seen> seen = reader.segments(prefix);
      long lastVisible = seen.stream().mapToLong(Seen::visibleAtMs).max().orElse(System.currentTimeMillis());
      Snapshot after = Snapshot.of(app.registry());
      // wall: from the phase start to its last segment visible (the reader's clock, not the wait loop's)
      double wall = Math.max(1e-3, (lastVisible - startMs) / 1000.0);
      return new Phase(seen, expected, wall, after.cpuSeconds() - before.cpuSeconds(),
          after.inferenceSeconds() - before.inferenceSeconds(), after.batches() - before.batches(),
          after.batchWindows() - before.batchWindows(), maxLateMs, startMs);
    }

    /**
     * The bare model: {@code batches} calls of {@code app.model().embedBatch} on {@code batch}
     * windows of the segment length (speech-like synthetic audio at 16 kHz), in this JVM, on the
     * app's own session while the app is idle.
     */
    Bare bare(int batch, int batches, List<float[]> windows) throws InferenceException {
      EmbeddingModel m = app.model();
      List<float[]> b = windows.subList(0, batch);
      double cpu0 = BenchEnv.processCpuSeconds();
      long t0 = System.nanoTime();
      for (int i = 0; i < batches; i++) {
        float[][] v = m.embedBatch(b);
        if (v.length != batch) {
          throw new IllegalStateException("embedBatch returned " + v.length + " vectors for " + batch + " windows");
        }
      }
      double wall = (System.nanoTime() - t0) / 1e9;
      double cpu = BenchEnv.processCpuSeconds() - cpu0;
      return new Bare(batch, batches, batches * batch * windowMs() / 1000.0, wall, cpu);
    }

    /** {@code count} synthetic speech windows of the segment length at 16 kHz. */
    List<float[]> windows(int count) {
      List<float[]> out = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        out.add(SyntheticSpeech.generate(9_000 + i, 16_000, windowMs()));
      }
      return out;
    }

    @Override
    public void close() {
      try {
        reader.close();
      } finally {
        app.close();
      }
    }
  }

  /**
   * Plays the streams at real-time pace as 20 ms chunks in order, the streams of the k-th call
   * (streams grouped by call id, in order of first appearance) starting {@code k * staggerMs}
   * later (rounded to whole chunks). One thread keeps the schedule and records how late it ever
   * was: a player that falls behind real time (a starved machine) would hide latency from the
   * chunks' timestamps.
   */
  Played playStaggered(String topic, List<Recording> streams, long staggerMs) throws InterruptedException {
    Map<String, List<List<AudioChunk>>> byCall = new LinkedHashMap<>();
    Chunker.Options o = Chunker.Options.realTime();
    for (Recording s : streams) {
      byCall.computeIfAbsent(s.callId(), k -> new ArrayList<>()).add(Chunker.chunks(s, o));
    }
    List<List<List<AudioChunk>>> calls = new ArrayList<>(byCall.values());
    int[] offsetTicks = new int[calls.size()];
    int lastTick = 0;
    for (int k = 0; k < calls.size(); k++) {
      offsetTicks[k] = (int) Math.round((double) k * staggerMs / CHUNK_MS);
      for (List<AudioChunk> c : calls.get(k)) {
        lastTick = Math.max(lastTick, offsetTicks[k] + c.size());
      }
    }
    long sent = 0;
    long maxLateNs = 0;
    long startNs = System.nanoTime();
    for (int tick = 0; tick < lastTick; tick++) {
      long due = startNs + tick * CHUNK_MS * 1_000_000L;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      } else {
        maxLateNs = Math.max(maxLateNs, -wait);
      }
      for (int k = 0; k < calls.size(); k++) {
        int i = tick - offsetTicks[k];
        if (i < 0) {
          continue;
        }
        for (List<AudioChunk> c : calls.get(k)) {
          if (i < c.size()) {
            AudioChunk chunk = c.get(i);
            producer.send(new ProducerRecord<>(topic, chunk.getCallId(), chunk));
            sent++;
          }
        }
      }
    }
    producer.flush();
    return new Played(sent, maxLateNs / 1_000_000);
  }

  /** A read_committed reader of a run's segment and call topics, from the beginning. */
  private static final class Reader implements AutoCloseable {
    private final List<Seen> segments = new ArrayList<>();
    private final Map<String, Long> calls = new ConcurrentHashMap<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean stop;

    Reader(String bootstrap, String segmentsTopic, String callsTopic) {
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "20");
      KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
      List<TopicPartition> tps = new ArrayList<>();
      for (String t : List.of(segmentsTopic, callsTopic)) {
        for (PartitionInfo pi : consumer.partitionsFor(t, Duration.ofSeconds(30))) {
          tps.add(new TopicPartition(t, pi.partition()));
        }
      }
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      var segDe = CallvecSerdes.segmentEmbedding().deserializer();
      var callDe = CallvecSerdes.callEmbedding().deserializer();
      thread = new Thread(() -> {
        try (consumer) {
          while (!stop) {
            var records = consumer.poll(Duration.ofMillis(50));
            long now = System.currentTimeMillis();
            for (ConsumerRecord<String, byte[]> r : records) {
              if (r.topic().equals(segmentsTopic)) {
                SegmentEmbedding s = segDe.deserialize(r.topic(), r.value());
                Seen seen = new Seen(s.getCallId(), s.getChannel().getIndex(), s.getSegmentIndex(),
                    (s.getEndSample16k() - s.getStartSample16k()) / 16_000.0, s.getLastChunkTimestampMs(),
                    s.getEmbeddedAtMs(), now);
                synchronized (segments) {
                  segments.add(seen);
                }
              } else {
                CallEmbedding c = callDe.deserialize(r.topic(), r.value());
                calls.put(c.getCallId() + "|" + c.getChannel().getIndex(), now);
              }
            }
          }
        } catch (Throwable e) {
          failure.set(e);
          log.error("bench reader failed: {}", e.toString(), e);
        }
      }, "bench-reader");
      thread.setDaemon(true);
      thread.start();
    }

    /**
     * Segments of calls whose id starts with {@code prefix + "-"}, by visibility time; a segment
     * seen twice (possible under at_least_once after a failure) counts once, when first visible.
     */
    List<Seen> segments(String prefix) {
      Map<String, Seen> first = new LinkedHashMap<>();
      synchronized (segments) {
        for (Seen s : segments) {
          if (s.callId().startsWith(prefix + "-")) {
            first.putIfAbsent(s.callId() + "|" + s.channel() + "|" + s.segmentIndex(), s);
          }
        }
      }
      List<Seen> out = new ArrayList<>(first.values());
      out.sort(Comparator.comparingLong(Seen::visibleAtMs));
      return out;
    }

    long callCount(String prefix) {
      return calls.keySet().stream().filter(k -> k.startsWith(prefix + "-")).count();
    }

    /** Waits until {@code streams} call embeddings and {@code segments} segments of the prefix are visible. */
    void await(String prefix, int streams, int segments, Duration timeout, CallvecApp app) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (callCount(prefix) < streams || segments(prefix).size() < segments) {
        if (failure.get() != null) {
          throw new IllegalStateException("the bench reader failed: " + failure.get(), failure.get());
        }
        if (app.failure() != null) {
          throw new IllegalStateException("the app failed: " + app.failure(), app.failure());
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(String.format("timed out after %d s waiting for the output of '%s': %d of %d call"
              + " embeddings and %d of %d segments visible", timeout.toSeconds(), prefix, callCount(prefix), streams,
              segments(prefix).size(), segments));
        }
        Thread.sleep(10);
      }
    }

    @Override
    public void close() {
      stop = true;
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
    } catch (IOException e) {
      log.warn("could not delete {}: {}", dir, e.toString());
    }
  }
}
