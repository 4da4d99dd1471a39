package io.callvec.bench;

import io.callvec.app.Settings;
import io.callvec.audio.Encoding;
import io.callvec.audio.G711;
import io.callvec.broker.LocalKafkaCluster;
import io.callvec.model.EmbeddingModel;
import io.callvec.player.AudioFiles;
import io.callvec.schemas.AudioEncoding;
import io.callvec.topology.chunks.Recording;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;

/**
 * {@code bench/run pipeline}: what the pipeline itself costs per audio second and per chunk at
 * dimension 1024, with a model that costs almost nothing (the GPU-speed stand-in, {@link
 * EmbeddingModel#STANDIN_1024_RESOURCE}).
 *
 * <p>The broker (and its KRaft controller) runs in child JVMs ({@link
 * LocalKafkaCluster.Mode#CHILD_PROCESS}); the app (Kafka Streams, batcher, model), the player and
 * the read_committed reader run in this JVM. The app's CPU is this JVM's process CPU time less the
 * player's threads (the main thread, which keeps the schedule, and its producer's network thread)
 * and the reader's thread; JVM-wide work (GC, JIT) stays in the app's share. The stream threads'
 * own CPU and allocation (ThreadMXBean, threads whose name holds {@code StreamThread}) are printed too.
 *
 * <p>Input: a real capture, Debian's asterisk-core-sounds-en-wav prompts (8 kHz PCM16, about 25
 * minutes) concatenated and μ-law encoded; stream k of a trial plays it from offset k × 7.3 s,
 * in 20 ms chunks at real-time pace, the calls' starts spread over one window.
 *
 * <p>Per trial (N streams = N/2 two-channel calls): bytes appended to each changelog topic, to the
 * output topics and to the input topic (differences of the partition sizes the broker reports
 * through {@code Admin.describeLogDirs}, batch headers and transaction markers included), CPU per
 * audio second, bytes allocated per chunk, and with {@code --rocksdb-metrics} RocksDB's own
 * bytes-written counters (Kafka Streams records them at DEBUG level only, once a minute, so the
 * trial waits 65 s before reading them; DEBUG adds sensors to every record, so CPU figures of such
 * a run are not the defaults').
 *
 * <p>A trial is sustained when every segment and call embedding arrives, the p99 latency (segment
 * end to visible) is at most one window and the player never fell more than 1 s behind.
 *
 * <p>Last line: {@code RESULT scenario=pipeline changelog_per_input=… app_cpu_s_per_audio_s=…
 * alloc_bytes_per_chunk=… sustained_calls=… at_streams=N}, the first three from the largest sustained
 * trial (N streams), else from the 10-stream trial.
 */
public final class PipelineBench {
  private static final String USAGE = String.join("\n",
      "usage: bench/run pipeline [options]",
      "  --streams LIST         call × channel streams of the fixed trials (default 10,100)",
      "  --duration-s S         audio per stream, seconds (default 30)",
      "  --search N             search trials for the largest sustained number after the fixed ones (default 3; 0 = none)",
      "  --max-streams N        upper bound of the search (default 2000)",
      "  --partitions N         partitions of each topic (default 4)",
      "  --input-compression T  compression.type of the player's producer (the input topic): none (default), lz4, zstd, ...",
      "  --rocksdb-metrics      metrics.recording.level=DEBUG and RocksDB bytes written (slower, waits 65 s per trial)",
      "  --jfr                  JFR profile of the largest fixed trial: where the app's CPU samples and allocations go (tables;"
          + " recording kept in bench/target/pipeline-<n>.jfr)",
      "  --audio DIR            folder of 8 kHz WAV prompts (default /usr/share/asterisk/sounds/en or en_US_f_Allison)",
      "  --set KEY=VALUE        any callvec or Kafka Streams setting of the app (repeatable)");

  private static final long MAX_PLAYER_LATE_MS = 1_000;
  /**
   * Warm-up, not counted: 100,000 chunks and 400 windows, so that the JIT has compiled the
   * per-chunk path before the trials (after a warm-up of 15,000 chunks, the JIT compiler took about 0.4 cores
   * through the 10-stream trial and a third of the 100-stream trial's CPU).
   */
  private static final int WARM_STREAMS = 100;
  private static final long WARM_MS = 20_000;
  /** The targets of the pipeline issue (dimension 1024, 20 ms μ-law chunks at real-time pace, exactly_once_v2, defaults). */
  private static final double TARGET_CHANGELOG_PER_INPUT = 1.0;
  private static final double TARGET_APP_CPU_S_PER_AUDIO_S = 0.001;
  private static final long TARGET_ALLOC_BYTES_PER_CHUNK = 2048;
  private static final int TARGET_SUSTAINED_CALLS = 250;
  private static final double STREAM_OFFSET_S = 7.3;
  private static final List<Path> AUDIO_DIRS = List.of(
      Path.of("/usr/share/asterisk/sounds/en"), Path.of("/usr/share/asterisk/sounds/en_US_f_Allison"));

  private PipelineBench() {}

  /** One trial's figures. */
  record Trial(int streams, double audioSeconds, long chunks, double appCpu, double processCpu, double streamCpu,
      long streamAlloc, Map<String, Long> topicBytes, long inputBytes, long rocksdbBytes, double p50, double p99,
      long playerLateMs, boolean complete, boolean sustained, Map<String, Double> cpuByGroup) {
    long changelogBytes() {
      return topicBytes.entrySet().stream().filter(e -> e.getKey().endsWith("-changelog")).mapToLong(Map.Entry::getValue).sum();
    }
  }

  public static void main(String[] args) throws Exception {
    BenchOptions o = BenchOptions.parse("pipeline", args,
        Set.of("streams", "duration-s", "search", "max-streams", "partitions", "audio", "input-compression"), Set.of("rocksdb-metrics", "jfr"), USAGE);
    List<Integer> fixed = Arrays.stream(o.get("streams", "10,100").split(",")).map(String::trim).map(Integer::parseInt).toList();
    long durationMs = (long) (Double.parseDouble(o.get("duration-s", "30")) * 1000);
    int searchTrials = Integer.parseInt(o.get("search", "3"));
    int maxStreams = Integer.parseInt(o.get("max-streams", "2000"));
    int partitions = Integer.parseInt(o.get("partitions", "4"));
    boolean rocks = o.has("rocksdb-metrics");
    boolean jfr = o.has("jfr");
    String inputCompression = o.get("input-compression", "none");
    byte[] capture = capture(o.get("audio", null));

    Map<String, String> sets = new LinkedHashMap<>();
    sets.put(Settings.MODEL_PATH.key(), "classpath:" + EmbeddingModel.STANDIN_1024_RESOURCE);
    sets.put("processing.guarantee", "exactly_once_v2");
    if (rocks) {
      sets.put("metrics.recording.level", "DEBUG");
    }
    sets.putAll(o.sets());

    System.out.println("# bench pipeline: " + BenchEnv.machine());
    System.out.printf(Locale.ROOT, "# model: GPU-speed stand-in (dimension 1024); capture: %.0f s of real μ-law speech; broker: child JVMs;"
        + " app, player and reader: this JVM; %d partitions; input compression %s; settings %s%n", capture.length / 8000.0, partitions,
        inputCompression, sets);
    List<Trial> trials = new ArrayList<>();
    try (Pipeline p = Pipeline.start(partitions, LocalKafkaCluster.Mode.CHILD_PROCESS, inputCompression);
        Admin admin = p.kafka().createAdmin();
        Pipeline.Run run = p.startApp("pipeline", sets.get(Settings.MODEL_PATH.key()), sets)) {
      String appId = "bench-pipeline";
      // warm-up: JIT and first-segment paths, not counted
      trial(p, run, admin, appId, "warm", WARM_STREAMS, WARM_MS, capture, false);
      header();
      int profiled = jfr ? fixed.stream().mapToInt(Integer::intValue).max().orElse(0) : -1;
      for (int n : fixed) {
        try (JfrProfile profile = n == profiled ? JfrProfile.start() : null) {
          Trial t = trial(p, run, admin, appId, "n" + n, n, durationMs, capture, rocks);
          trials.add(t);
          print(t);
          if (profile != null) {
            Path file = Path.of(System.getProperty("bench.root", "."), "bench", "target", "pipeline-" + n + ".jfr");
            profile.stopAndPrint(file, "the stream threads at " + n + " streams", Threads::stream, 20);
          }
        }
      }
      int best = trials.stream().filter(Trial::sustained).mapToInt(Trial::streams).max().orElse(0);
      int failed = trials.stream().filter(t -> !t.sustained()).mapToInt(Trial::streams).min().orElse(Integer.MAX_VALUE);
      for (int i = 0; i < searchTrials; i++) {
        int next = failed == Integer.MAX_VALUE ? Math.min(maxStreams, Math.max(best * 2, 10)) : (best + failed) / 2;
        next -= next % 2;
        if (next <= best || next >= failed || next > maxStreams) {
          break;
        }
        Trial t = trial(p, run, admin, appId, "s" + next, next, durationMs, capture, false);
        trials.add(t);
        print(t);
        if (t.sustained()) {
          best = next;
        } else {
          failed = Math.min(failed, next);
        }
      }
      summary(trials, best, failed);
    }
  }

  private static Trial trial(Pipeline p, Pipeline.Run run, Admin admin, String appId, String prefix, int streams, long durationMs,
      byte[] capture, boolean rocks) throws Exception {
    List<Recording> recs = recordings(prefix, streams, durationMs, capture);
    Map<String, Long> topics0 = topicSizes(admin, appId, run);
    long rocks0 = rocks ? rocksdbBytesWritten(run) : 0;
    Threads t0 = Threads.sample();
    double cpu0 = BenchEnv.processCpuSeconds();
    int calls = streams / 2;
    long stagger = calls <= 1 ? 0 : run.windowMs() / calls;
    Pipeline.Phase phase;
    boolean complete = true;
    try {
      phase = run.realTime(prefix, recs, stagger, Duration.ofMillis(durationMs + 120_000));
    } catch (IllegalStateException e) {
      if (run.app.failure() != null) {
        throw e;
      }
      System.out.println("# " + prefix + ": " + e.getMessage());
      complete = false;
      phase = null;
    }
    double cpu = BenchEnv.processCpuSeconds() - cpu0;
    Threads t1 = Threads.sample();
    long rocksBytes = 0;
    if (rocks) {
      Thread.sleep(65_000); // RocksDB statistics are sampled by Kafka Streams once a minute
      rocksBytes = rocksdbBytesWritten(run) - rocks0;
    }
    Map<String, Long> topics1 = topicSizes(admin, appId, run);
    Map<String, Long> delta = new TreeMap<>();
    for (var e : topics1.entrySet()) {
      delta.put(e.getKey(), e.getValue() - topics0.getOrDefault(e.getKey(), 0L));
    }
    String input = run.config.get(Settings.INPUT_TOPIC);
    long inputBytes = delta.getOrDefault(input, 0L);
    delta.remove(input);
    double audio = recs.stream().mapToDouble(r -> r.durationMs() / 1000.0).sum();
    long chunks = recs.stream().mapToLong(r -> (r.durationMs() + Pipeline.CHUNK_MS - 1) / Pipeline.CHUNK_MS).sum();
    double player = t1.cpu(Threads::player) - t0.cpu(Threads::player);
    double reader = t1.cpu(Threads::reader) - t0.cpu(Threads::reader);
    double streamCpu = t1.cpu(Threads::stream) - t0.cpu(Threads::stream);
    long alloc = t1.alloc(Threads::stream) - t0.alloc(Threads::stream);
    double p50 = Double.NaN;
    double p99 = Double.NaN;
    long late = 0;
    boolean sustained = false;
    if (phase != null) {
      double[] lat = phase.latenciesMs();
      p50 = Stats.percentile(lat, 0.50);
      p99 = Stats.percentile(lat, 0.99);
      late = phase.maxPlayerLateMs();
      sustained = p99 <= run.windowMs() && late <= MAX_PLAYER_LATE_MS;
    }
    return new Trial(streams, audio, chunks, cpu - player - reader, cpu, streamCpu, alloc, delta, inputBytes, rocksBytes, p50, p99, late,
        complete, sustained, Threads.byGroup(t0, t1, cpu));
  }

  private static void header() {
    System.out.println("| streams | audio s | chunks | changelog ÷ input | output ÷ input | app CPU s / audio s | stream-thread CPU s / audio s"
        + " | process CPU s / audio s | alloc B / chunk | RocksDB B / chunk | p50 ms | p99 ms | player late ms | sustained |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  }

  private static void print(Trial t) {
    long out = t.topicBytes().entrySet().stream().filter(e -> !e.getKey().endsWith("-changelog")).mapToLong(Map.Entry::getValue).sum();
    System.out.printf(Locale.ROOT, "| %d | %.0f | %d | %.3f | %.3f | %.5f | %.5f | %.5f | %.0f | %s | %.0f | %.0f | %d | %s |%n",
        t.streams(), t.audioSeconds(), t.chunks(), ratio(t.changelogBytes(), t.inputBytes()), ratio(out, t.inputBytes()),
        t.appCpu() / t.audioSeconds(), t.streamCpu() / t.audioSeconds(), t.processCpu() / t.audioSeconds(),
        (double) t.streamAlloc() / t.chunks(), t.rocksdbBytes() == 0 ? "-" : String.format(Locale.ROOT, "%.0f", (double) t.rocksdbBytes() / t.chunks()),
        t.p50(), t.p99(), t.playerLateMs(), t.sustained() ? "yes" : t.complete() ? "no" : "incomplete");
    StringBuilder b = new StringBuilder("#   bytes per topic (input " + t.inputBytes() + ", "
        + String.format(Locale.ROOT, "%.1f", t.inputBytes() / t.audioSeconds()) + " B per audio s):");
    t.topicBytes().forEach((k, v) -> b.append(' ').append(shortName(k)).append('=').append(v)
        .append(String.format(Locale.ROOT, " (%.3f×, %.1f B/chunk)", ratio(v, t.inputBytes()), (double) v / t.chunks())));
    System.out.println(b);
    StringBuilder c = new StringBuilder("#   process CPU by thread, s per audio s:");
    t.cpuByGroup().forEach((k, v) -> c.append(String.format(Locale.ROOT, " %s %.5f (%.0f %%);", k, v / t.audioSeconds(), 100 * v / t.processCpu())));
    System.out.println(c);
  }

  /**
   * The targets' verdicts and the RESULT line, from the largest sustained trial (the per-chunk cost
   * at capacity; the 10-stream trial's per-audio-second figures are mostly fixed costs: JIT, poll
   * loops, commits), else from the 10-stream trial; the 10-stream trial's are printed too.
   */
  private static void summary(List<Trial> trials, int best, int failed) {
    Trial ten = trials.stream().filter(t -> t.streams() == 10).findFirst().orElse(trials.get(0));
    Trial base = trials.stream().filter(t -> t.streams() == best && t.sustained()).findFirst().orElse(ten);
    System.out.printf(Locale.ROOT, "# largest sustained: %d streams = %d two-channel calls (smallest failed: %s); real-time capacity per core of"
        + " app CPU at %d streams: %.0f× real time%n", best, best / 2, failed == Integer.MAX_VALUE ? "none tried" : Integer.toString(failed),
        base.streams(), base.audioSeconds() / base.appCpu());
    if (ten != base) {
      System.out.printf(Locale.ROOT, "# at %d streams: changelog ÷ input %.3f, app CPU %.5f s per audio s, allocation %.0f B per chunk%n",
          ten.streams(), ratio(ten.changelogBytes(), ten.inputBytes()), ten.appCpu() / ten.audioSeconds(), (double) ten.streamAlloc() / ten.chunks());
    }
    double changelog = ratio(base.changelogBytes(), base.inputBytes());
    double cpu = base.appCpu() / base.audioSeconds();
    double alloc = (double) base.streamAlloc() / base.chunks();
    System.out.printf(Locale.ROOT, "# targets at %d streams: changelog ÷ input %.3f (target ≤ %.1f: %s); app CPU %.5f s per audio s (target ≤ %.3f: %s);"
        + " allocation %.0f B per chunk (target ≤ %d: %s); sustained %d two-channel calls (target ≥ %d: %s)%n", base.streams(),
        changelog, TARGET_CHANGELOG_PER_INPUT, verdict(changelog / TARGET_CHANGELOG_PER_INPUT), cpu, TARGET_APP_CPU_S_PER_AUDIO_S,
        verdict(cpu / TARGET_APP_CPU_S_PER_AUDIO_S), alloc, TARGET_ALLOC_BYTES_PER_CHUNK, verdict(alloc / TARGET_ALLOC_BYTES_PER_CHUNK),
        best / 2, TARGET_SUSTAINED_CALLS, verdict(best / 2 == 0 ? Double.POSITIVE_INFINITY : (double) TARGET_SUSTAINED_CALLS / (best / 2)));
    System.out.printf(Locale.ROOT, "RESULT scenario=pipeline changelog_per_input=%.3f app_cpu_s_per_audio_s=%.5f alloc_bytes_per_chunk=%.0f"
        + " sustained_calls=%d at_streams=%d%n", changelog, cpu, alloc, best / 2, base.streams());
  }

  /** "met", or "missed by N×" for a measured ÷ target (or target ÷ measured) ratio. */
  private static String verdict(double overTarget) {
    if (Double.isInfinite(overTarget)) {
      return "missed: no trial was sustained";
    }
    return overTarget <= 1.0 ? "met" : String.format(Locale.ROOT, "missed by %.1f×", overTarget);
  }

  private static double ratio(long a, long b) {
    return b == 0 ? Double.NaN : (double) a / b;
  }

  private static String shortName(String topic) {
    return topic.replace("bench-pipeline-", "").replace("bench.pipeline.", "");
  }

  /** Bytes of every partition of the app's topics (changelogs, input, outputs), summed per topic. */
  private static Map<String, Long> topicSizes(Admin admin, String appId, Pipeline.Run run) throws Exception {
    Set<String> mine = Set.of(run.config.get(Settings.INPUT_TOPIC), run.config.get(Settings.SEGMENTS_TOPIC),
        run.config.get(Settings.CALLS_TOPIC), run.config.get(Settings.DLQ_TOPIC));
    Map<String, Long> out = new HashMap<>();
    List<Integer> brokers = admin.describeCluster().nodes().get().stream().map(n -> n.id()).toList();
    for (Map<String, LogDirDescription> dirs : admin.describeLogDirs(brokers).allDescriptions().get().values()) {
      for (LogDirDescription d : dirs.values()) {
        for (Map.Entry<TopicPartition, ReplicaInfo> e : d.replicaInfos().entrySet()) {
          String topic = e.getKey().topic();
          if (mine.contains(topic) || topic.startsWith(appId + "-")) {
            out.merge(topic, e.getValue().size(), Long::sum);
          }
        }
      }
    }
    return out;
  }

  /** Sum of Kafka Streams' {@code bytes-written-total} RocksDB metrics (DEBUG level) over all stores. */
  private static long rocksdbBytesWritten(Pipeline.Run run) {
    long sum = 0;
    for (Map.Entry<MetricName, ? extends Metric> e : run.app.streams().metrics().entrySet()) {
      if (e.getKey().name().equals("bytes-written-total") && e.getKey().group().equals("stream-state-metrics")) {
        Object v = e.getValue().metricValue();
        if (v instanceof Number n) {
          sum += (long) n.doubleValue();
        }
      }
    }
    return sum;
  }

  /** {@code streams} μ-law streams of {@code durationMs}, two per call, cut from the capture at staggered offsets. */
  private static List<Recording> recordings(String prefix, int streams, long durationMs, byte[] capture) {
    int len = (int) (durationMs * 8);
    List<Recording> out = new ArrayList<>();
    for (int k = 0; k < streams; k++) {
      byte[] a = new byte[len];
      int from = (int) ((long) (k * STREAM_OFFSET_S * 8000) % capture.length);
      for (int i = 0; i < len; i++) {
        a[i] = capture[(from + i) % capture.length];
      }
      out.add(new Recording(prefix + "-" + (k / 2), k % 2, k % 2 == 0 ? "agent" : "customer", AudioEncoding.MULAW, 8000, a));
    }
    return out;
  }

  /** The prompts of the audio folder, in name order, concatenated and μ-law encoded (8 kHz). */
  private static byte[] capture(String dirOption) throws IOException {
    Path dir = dirOption != null ? Path.of(dirOption) : AUDIO_DIRS.stream().filter(Files::isDirectory).findFirst().orElse(null);
    if (dir == null || !Files.isDirectory(dir)) {
      System.err.println("no real capture found: install Debian's asterisk-core-sounds-en-wav (.ci/run does) or give --audio DIR"
          + " (searched " + (dirOption != null ? dirOption : AUDIO_DIRS) + ")");
      System.exit(2);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(f -> f.getFileName().toString().endsWith(".wav")).sorted().toList();
    }
    for (Path f : files) {
      AudioFiles.Audio a = AudioFiles.read(f, AudioFiles.Format.WAV, null);
      if (a.sampleRateHz() != 8000) {
        continue;
      }
      byte[] ch = a.channels().get(0);
      if (a.encoding() == Encoding.MULAW) {
        out.write(ch, 0, ch.length);
      } else if (a.encoding() == Encoding.PCM_S16LE) {
        for (int i = 0; i + 1 < ch.length; i += 2) {
          out.write(G711.pcm16ToMulaw((short) ((ch[i] & 0xff) | (ch[i + 1] << 8))));
        }
      }
    }
    if (out.size() < 8000 * 60) {
      System.err.println(dir + " holds less than a minute of 8 kHz speech (" + out.size() / 8000 + " s)");
      System.exit(2);
    }
    return out.toByteArray();
  }

  /** CPU time and allocation of this JVM's live threads, by id and name. */
  private record Threads(Map<Long, String> names, Map<Long, Long> cpuNs, Map<Long, Long> allocBytes, long jitMs) {
    static Threads sample() {
      var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
      Map<Long, String> names = new HashMap<>();
      Map<Long, Long> cpu = new HashMap<>();
      Map<Long, Long> alloc = new HashMap<>();
      for (var info : mx.getThreadInfo(mx.getAllThreadIds())) {
        if (info == null) {
          continue;
        }
        long id = info.getThreadId();
        names.put(id, info.getThreadName());
        cpu.put(id, Math.max(0, mx.getThreadCpuTime(id)));
        alloc.put(id, Math.max(0, mx.getThreadAllocatedBytes(id)));
      }
      var jit = ManagementFactory.getCompilationMXBean();
      return new Threads(names, cpu, alloc, jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0);
    }

    double cpu(java.util.function.Predicate<String> which) {
      return names.entrySet().stream().filter(e -> which.test(e.getValue())).mapToLong(e -> cpuNs.getOrDefault(e.getKey(), 0L)).sum() / 1e9;
    }

    long alloc(java.util.function.Predicate<String> which) {
      return names.entrySet().stream().filter(e -> which.test(e.getValue())).mapToLong(e -> allocBytes.getOrDefault(e.getKey(), 0L)).sum();
    }

    /**
     * Process CPU between two samples by thread group (by name); "JIT compiler" is the JVM's
     * compilation time (CompilationMXBean: elapsed time in the compiler threads, an upper bound of
     * their CPU time when the cores are busy); "JVM and native"
     * is what neither accounts for: GC threads, ONNX Runtime's own pool threads, RocksDB's
     * background threads, and threads that ended in between.
     */
    static Map<String, Double> byGroup(Threads t0, Threads t1, double processCpu) {
      Map<String, Double> out = new LinkedHashMap<>();
      double java = 0;
      for (var e : t1.names.entrySet()) {
        double d = (t1.cpuNs.getOrDefault(e.getKey(), 0L) - t0.cpuNs.getOrDefault(e.getKey(), 0L)) / 1e9;
        out.merge(group(e.getValue()), d, Double::sum);
        java += d;
      }
      double jit = (t1.jitMs - t0.jitMs) / 1e3;
      out.put("JIT compiler", jit);
      out.put("JVM and native", Math.max(0, processCpu - java - jit));
      Map<String, Double> sorted = new LinkedHashMap<>();
      out.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).forEach(e -> sorted.put(e.getKey(), e.getValue()));
      return sorted;
    }

    static String group(String n) {
      if (player(n)) {
        return "player";
      }
      if (reader(n)) {
        return "reader";
      }
      if (n.startsWith("kafka-producer-network-thread") && n.contains("StreamThread")) {
        return "Streams producer I/O";
      }
      if (n.contains("StreamThread") && (n.contains("consumer") || n.contains("heartbeat")) || n.startsWith("kafka-coordinator-heartbeat")) {
        return "Streams consumer I/O";
      }
      if (stream(n)) {
        return "stream threads";
      }
      if (n.startsWith("callvec-batcher")) {
        return "batcher (model)";
      }
      return "other Java";
    }

    static boolean stream(String name) {
      return name.contains("StreamThread") && !name.contains("producer") && !name.contains("consumer");
    }

    static boolean player(String name) {
      return name.equals("main") || name.equals("kafka-producer-network-thread | producer-1");
    }

    static boolean reader(String name) {
      return name.equals("bench-reader");
    }
  }
}
