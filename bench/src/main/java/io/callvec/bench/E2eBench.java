package io.callvec.bench;

import io.callvec.app.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code bench/run e2e}: callvec end to end through a real broker, in two parts.
 *
 * <p><b>Capacity at real time.</b> N synthetic two-channel calls (2N call × channel streams) are
 * played at real-time pace as 20 ms μ-law chunks, the calls' starts spread evenly over one segment
 * window (call k starts k × window / N later, as calls arrive independently in production). A trial
 * is <i>sustained</i> when every segment arrives and the backlog stays bounded: the p99 latency is at
 * most {@code --max-latency-ms} (default: one window, i.e. a segment's embedding is visible before
 * the same stream's next segment ends), the latency does not grow over the trial (least-squares
 * slope of latency over segment end time at most {@code --max-slope}, default 0.05 s per s: an
 * instance 5% over its capacity would grow by that) and the player kept real time (never more than
 * 1 s late). N is searched upwards from 1, each next N projected from the last trial's utilisation
 * (target 90%), bracketed by the largest sustained and the smallest failed N. Latency is measured
 * per segment from its end (the Kafka timestamp of its last chunk, {@code
 * SegmentEmbedding.lastChunkTimestampMs}) to its embedding being visible to a read_committed
 * consumer (the wall time at which the reader's poll returned it).
 *
 * <p><b>Saturation throughput.</b> For each batch size B of {@code --batches}, an app with {@code
 * callvec.batch.max.windows=B} is sent calls as fast as the producer goes; its steady throughput
 * (audio seconds embedded per wall second, from the first to the last embedding visible) is
 * compared with the bare model on the same session in the same run: a loop of {@code
 * EmbeddingModel.embedBatch} on batches of B windows of the segment length, half before and half
 * after the end-to-end run, the same number of windows in all. CPU seconds per audio second (of the
 * whole process) are compared too: less disturbed by other jobs on a shared machine.
 *
 * <p>Writes {@code e2e-throughput-<model>.png} (throughput against batch size) and {@code
 * e2e-latency-<model>.png} (latency distribution per N), with CSVs of the same data, to {@code
 * --plots} (default bench/plots).
 *
 * <p>Last line: {@code RESULT scenario=e2e model=<large|fixture|file> sustained_calls=<N>
 * latency_p50_ms=.. latency_p95_ms=.. latency_p99_ms=.. batch=<B> e2e_xrt=.. bare_xrt=.. ratio=..
 * cpu_ratio=..}, ratio = end-to-end / bare throughput at the default batch size (goal >= 0.95).
 */
public final class E2eBench {
  private static final String USAGE = String.join("\n",
      "usage: bench/run e2e [options]",
      "  --model PATH|fixture   ONNX model (default models/wav2vec2-large-robust-random.onnx; fixture = the bundled tiny",
      "                         model, where the pipeline's own cost dominates)",
      "  --calls N              one real-time trial at N calls instead of the search",
      "  --max-calls N          upper bound of the search (default 16; fixture 400)",
      "  --max-trials N         real-time trials at most (default 4; fixture 6)",
      "  --duration-s S         length of each call in a real-time trial, seconds (default 30)",
      "  --max-latency-ms MS    p99 latency bound of a sustained trial (default: the window, 5000)",
      "  --max-slope X          latency growth bound of a sustained trial, s per s (default 0.05)",
      "  --batches LIST         batch sizes of the saturation runs (default 1,2,4,8)",
      "  --batch B              batch size of the real-time trials and of the RESULT ratio (default: callvec's, 8)",
      "  --sat-windows N        windows per saturation run at least (default 8; fixture 480); at least 3 B are played",
      "  --partitions N         partitions of each topic (default 4)",
      "  --only sustain|saturation   run one part",
      "  --plots DIR            where PNG and CSV files go (default bench/plots; 'none' to skip)",
      "  --set KEY=VALUE        any callvec or Kafka Streams setting of the app (repeatable)");

  private static final long SAT_DURATION_MS = 20_000;
  private static final long MAX_PLAYER_LATE_MS = 1_000;
  /** Largest step up of the search: the next N is at most this many times the last sustained one. */
  private static final int GROWTH = 4;

  private E2eBench() {}

  /** One real-time trial and its verdict. */
  record Trial(int calls, Pipeline.Phase phase, int expectedSegments, double p50, double p95, double p99, double max,
      double slope, double toEmbeddedP50, double toVisibleP50, boolean sustained, String why) {}

  /** One saturation run at one batch size with its bare brackets. */
  record Saturation(int batch, int windows, Pipeline.Phase e2e, Pipeline.Bare bareBefore, Pipeline.Bare bareAfter) {
    double bareThroughput() {
      return (bareBefore.audioSeconds() + bareAfter.audioSeconds()) / (bareBefore.wallSeconds() + bareAfter.wallSeconds());
    }

    double bareCpuPerAudio() {
      return (bareBefore.cpuSeconds() + bareAfter.cpuSeconds()) / (bareBefore.audioSeconds() + bareAfter.audioSeconds());
    }

    double e2eThroughput() {
      return e2e.steadyThroughput();
    }

    double e2eCpuPerAudio() {
      return e2e.cpuSeconds() / e2e.audioSeconds();
    }

    double ratio() {
      return e2eThroughput() / bareThroughput();
    }

    /** Bare CPU per audio second over end-to-end CPU per audio second (1 = no CPU added). */
    double cpuRatio() {
      return bareCpuPerAudio() / e2eCpuPerAudio();
    }
  }

  public static void main(String[] args) throws Exception {
    BenchOptions o = BenchOptions.parse("e2e", args,
        Set.of("model", "calls", "max-calls", "max-trials", "duration-s", "max-latency-ms", "max-slope", "batches",
            "batch", "sat-windows", "partitions", "only", "plots"),
        Set.of(), USAGE);
    String modelPath = BenchEnv.modelPath(o.get("model", null));
    boolean fixture = modelPath.equals(BenchEnv.FIXTURE);
    String modelKey = fixture ? "fixture" : o.has("model") ? "custom" : "large";
    String only = o.get("only", "all");
    if (!Set.of("all", "sustain", "saturation").contains(only)) {
      o.fail("--only expects sustain or saturation, got '" + only + "'");
    }
    Map<String, String> sets = new LinkedHashMap<>(o.sets());
    int defaultBatch = Integer.parseInt(sets.getOrDefault(Settings.BATCH_MAX_WINDOWS.key(), Settings.BATCH_MAX_WINDOWS.defaultValue()));
    int batch = o.integer("batch", defaultBatch, 1);
    int fixedCalls = o.integer("calls", 0, 1);
    int maxCalls = o.integer("max-calls", fixture ? 400 : 16, 1);
    int maxTrials = o.integer("max-trials", fixture ? 6 : 4, 1);
    long durationMs = o.integer("duration-s", 30, 1) * 1000L;
    double maxSlope = o.decimal("max-slope", 0.05, 0);
    List<Integer> batches = o.integers("batches", List.of(1, 2, 4, 8));
    int satWindows = o.integer("sat-windows", fixture ? 480 : 8, 1);
    int partitions = o.integer("partitions", 4, 1);
    String plots = o.get("plots", BenchEnv.root().resolve("bench/plots").toString());
    if (!batches.contains(batch) && !only.equals("sustain")) {
      batches = new ArrayList<>(batches);
      batches.add(batch);
    }
    List<Integer> appBatches = new ArrayList<>(only.equals("sustain") ? List.of(batch) : batches);
    if (!only.equals("saturation") && !appBatches.contains(batch)) {
      appBatches.add(batch);
    }
    appBatches.sort(null);

    System.out.println("e2e: callvec end to end through a real Kafka broker (single node, in this JVM)");
    System.out.println("machine: " + BenchEnv.machine());
    System.out.printf(Locale.ROOT, "model: %s; %d partitions; settings: %s%n", BenchEnv.modelLabel(modelPath), partitions,
        sets.isEmpty() ? "callvec defaults" : sets);
    System.out.flush();

    List<Trial> trials = new ArrayList<>();
    double idleShare = Double.NaN;
    Map<Integer, Saturation> sats = new TreeMap<>();
    double cpu0 = BenchEnv.processCpuSeconds();
    long t0 = System.nanoTime();
    try (Pipeline rig = Pipeline.start(partitions)) {
      double rigIdle = Pipeline.idleCpuShare(Duration.ofSeconds(3));
      if (fixture && !only.equals("sustain")) {
        // with the fixture model the JVM's first apps ran up to 2x slower (JIT and broker warm-up):
        // one untimed saturation run on a throwaway app first
        try (Pipeline.Run run = rig.startApp("e2e-warmup", modelPath, sets)) {
          int perStream = (int) (SAT_DURATION_MS / run.windowMs());
          run.saturate("sat", Math.max(1, satWindows / (2 * perStream)), SAT_DURATION_MS, 2, Duration.ofMinutes(10));
        }
      }
      for (int b : appBatches) {
        Map<String, String> cfg = new LinkedHashMap<>(sets);
        cfg.put(Settings.BATCH_MAX_WINDOWS.key(), String.valueOf(b));
        try (Pipeline.Run run = rig.startApp("e2e-b" + b, modelPath, cfg)) {
          long windowMs = run.windowMs();
          long maxLatencyMs = o.integer("max-latency-ms", (int) windowMs, 1);
          List<float[]> windows = run.windows(b);
          run.bare(b, 1, windows); // warm-up: the first run of a batch shape allocates
          // warm-up: JIT, topics, transactions; with the fixture model a quarter of a saturation run's
          // records (the first app of the JVM was measurably slower after a 2-window warm-up), with the
          // large model 1 window per stream (its inference, not the JIT, dominates)
          int warmCalls = fixture ? Math.max(1, satWindows / (8 * (int) (SAT_DURATION_MS / windowMs))) : 1;
          run.saturate("warm", warmCalls, fixture ? SAT_DURATION_MS : windowMs, 1, Duration.ofMinutes(5));
          if (b == batch && !only.equals("saturation")) {
            System.out.printf(Locale.ROOT, "%ncapacity at real time: batch %d, max delay %s ms, %d s calls, starts spread"
                    + " over %d ms; sustained = all segments, p99 <= %d ms, slope <= %.2f, player late <= %d ms%n",
                b, run.config.get(Settings.BATCH_MAX_DELAY_MS), durationMs / 1000, windowMs, maxLatencyMs, maxSlope,
                MAX_PLAYER_LATE_MS);
            idleShare = run.idleCpuShare(Duration.ofSeconds(3));
            System.out.printf(Locale.ROOT, "idle CPU: broker + producer %.2f cores; with the app and its reader running (no"
                + " calls) %.2f cores%n", rigIdle * BenchEnv.cores(), idleShare * BenchEnv.cores());
            printTrialHeader();
            search(run, trials, fixedCalls, maxCalls, maxTrials, durationMs, maxLatencyMs, maxSlope, idleShare);
          }
          if (batches.contains(b) && !only.equals("sustain")) {
            int w = Math.max(satWindows, 3 * b);
            int perStream = (int) (SAT_DURATION_MS / windowMs);
            int calls = Math.max(1, (w + 2 * perStream - 1) / (2 * perStream));
            int total = calls * 2 * perStream;
            int bareBatches = Math.max(1, (total / b + 1) / 2);
            Pipeline.Bare before = run.bare(b, bareBatches, windows);
            Pipeline.Phase e2e = run.saturate("sat", calls, SAT_DURATION_MS, 2, Duration.ofMinutes(10));
            Pipeline.Bare after = run.bare(b, bareBatches, windows);
            Saturation sat = new Saturation(b, total, e2e, before, after);
            sats.put(b, sat);
            if (sats.size() == 1) {
              System.out.printf(Locale.ROOT, "%nsaturation throughput (calls played as fast as possible; audio seconds per wall"
                  + " second = x real time), end to end vs bare model (embedBatch loop, same session, same run)%n");
              printSaturationHeader();
            }
            printSaturation(sat);
          }
        }
      }
    }
    double totalWall = (System.nanoTime() - t0) / 1e9;
    double totalCpu = BenchEnv.processCpuSeconds() - cpu0;

    Trial best = null;
    for (Trial t : trials) {
      if (t.sustained() && (best == null || t.calls() > best.calls())) {
        best = t;
      }
    }
    if (!trials.isEmpty()) {
      System.out.println();
      if (best == null) {
        System.out.println("no trial was sustained: this instance does not keep up with even the smallest N tried");
      } else {
        System.out.printf(Locale.ROOT, "largest sustained: %d calls (%d streams); latency, segment end -> embedding visible"
                + " (read_committed): p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms (p50 split: %.0f ms to embedded,"
                + " %.0f ms embedded -> visible)%n",
            best.calls(), 2 * best.calls(), best.p50(), best.p95(), best.p99(), best.max(), best.toEmbeddedP50(),
            best.toVisibleP50());
      }
      double cores = BenchEnv.cores();
      double idleCores = idleShare * cores;
      Trial largest = trials.stream().max((a, z) -> Integer.compare(a.calls(), z.calls())).orElseThrow();
      double perCall = (largest.phase().cpuShare() * cores - idleCores) / largest.calls();
      if (perCall * largest.calls() < 0.1) {
        System.out.printf(Locale.ROOT, "CPU (whole JVM: broker + player + reader + app): %.2f cores idle; the calls'"
            + " own CPU at N=%d is below what this run can resolve%n", idleCores, largest.calls());
      } else {
        System.out.printf(Locale.ROOT, "CPU (whole JVM: broker + player + reader + app): %.2f cores idle + %.4f cores per"
                + " call (measured at N=%d); at that cost %d dedicated cores would carry about %.0f calls (CPU-time"
                + " projection; contention on a shared machine inflates CPU time too)%n",
            idleCores, perCall, largest.calls(), (int) cores, (cores - idleCores) / perCall);
      }
    }

    if (!sats.isEmpty()) {
      System.out.printf(Locale.ROOT, "%nsaturation throughput, all batch sizes:%n");
      printSaturationHeader();
      for (Saturation s : sats.values()) {
        printSaturation(s);
      }
      System.out.println("(e2e_xrt: steady state, first to last embedding visible; bare_xrt: embedBatch loop, half before"
          + " and half after; fill: mean batch / B; busy: time in the model / wall; cpu/as: CPU seconds of the whole"
          + " process per audio second; cpu_ratio = bare / e2e CPU per audio second)");
      Saturation s = sats.get(batch);
      if (s != null) {
        System.out.printf(Locale.ROOT, "at batch %d: end to end %.3f of the bare model's throughput (goal >= 0.95: %s) and"
                + " %.3f of its CPU efficiency; the model was busy %.1f%% of the end-to-end wall time; %.2f x RT ="
                + " %.2f two-channel calls at 100%% load%n",
            batch, s.ratio(), s.ratio() >= 0.95 ? "met" : "MISSED", s.cpuRatio(), 100 * s.e2e().busy(), s.e2eThroughput(),
            s.e2eThroughput() / 2);
      }
    }
    System.out.printf(Locale.ROOT, "%ntotal: %.0f s wall, %.0f s CPU (%.2f of %d cores); load average now %s%n", totalWall,
        totalCpu, totalCpu / totalWall / BenchEnv.cores(), BenchEnv.cores(), BenchEnv.loadAverage());

    if (!plots.equals("none")) {
      writePlots(Path.of(plots), modelKey, trials, best, sats);
    }

    Saturation atB = sats.get(batch);
    StringBuilder r = new StringBuilder("RESULT scenario=e2e model=" + modelKey);
    if (!trials.isEmpty()) {
      r.append(" sustained_calls=").append(best == null ? 0 : best.calls());
      r.append(String.format(Locale.ROOT, " latency_p50_ms=%.0f latency_p95_ms=%.0f latency_p99_ms=%.0f",
          best == null ? Double.NaN : best.p50(), best == null ? Double.NaN : best.p95(),
          best == null ? Double.NaN : best.p99()));
    }
    if (atB != null) {
      r.append(String.format(Locale.ROOT, " batch=%d e2e_xrt=%.2f bare_xrt=%.2f ratio=%.3f cpu_ratio=%.3f busy=%.3f", batch,
          atB.e2eThroughput(), atB.bareThroughput(), atB.ratio(), atB.cpuRatio(), atB.e2e().busy()));
    }
    System.out.println(r);
  }

  private static void printSaturationHeader() {
    System.out.printf(Locale.ROOT, "%5s %7s %9s %9s %7s %10s %6s %6s %11s %11s %9s%n", "batch", "windows", "e2e_xrt",
        "bare_xrt", "ratio", "e2e_wall_s", "fill", "busy", "e2e_cpu/as", "bare_cpu/as", "cpu_ratio");
    System.out.flush();
  }

  private static void printSaturation(Saturation s) {
    System.out.printf(Locale.ROOT, "%5d %7d %9.2f %9.2f %7.3f %10.1f %6.2f %6.3f %11.3f %11.3f %9.3f%n", s.batch(),
        s.windows(), s.e2eThroughput(), s.bareThroughput(), s.ratio(), s.e2e().wallSeconds(),
        s.e2e().meanBatch() / s.batch(), s.e2e().busy(), s.e2eCpuPerAudio(), s.bareCpuPerAudio(), s.cpuRatio());
    System.out.flush();
  }

  private static void printTrialHeader() {
    System.out.printf(Locale.ROOT, "%5s %7s %8s %7s %7s %7s %7s %7s %6s %6s %11s %6s %6s  %s%n", "calls", "streams",
        "segments", "p50_ms", "p95_ms", "p99_ms", "max_ms", "slope", "busy", "cpu", "cpu_s/call_s", "batch", "late", "verdict");
    System.out.flush();
  }

  /**
   * Real-time trials: N = 1 first (or {@code fixedCalls}), then each next N projected from the last
   * trial to 90% utilisation of the inference worker or of the cores above the idle share, whichever
   * comes first; at most {@value #GROWTH} times the last N after a sustained trial, at most halfway
   * into the bracket after a failed one, and always strictly between the largest sustained and the
   * smallest failed N.
   */
  private static void search(Pipeline.Run run, List<Trial> trials, int fixedCalls, int maxCalls, int maxTrials,
      long durationMs, long maxLatencyMs, double maxSlope, double idleShare) throws InterruptedException {
    int best = 0;
    int failed = maxCalls + 1;
    int n = fixedCalls > 0 ? fixedCalls : 1;
    for (int t = 1; t <= (fixedCalls > 0 ? 1 : maxTrials); t++) {
      Trial trial = trial(run, "rt" + t, n, durationMs, maxLatencyMs, maxSlope);
      trials.add(trial);
      printTrial(trial);
      if (trial.sustained()) {
        best = Math.max(best, n);
      } else {
        failed = Math.min(failed, n);
      }
      if (failed - best <= 1) {
        break;
      }
      // two projections to 90% utilisation: of the inference worker (busy grows with calls), and of
      // the cores (CPU share above the idle share grows with calls); the lower one wins. A load too
      // small to measure (both below 5%) says nothing: grow by GROWTH instead.
      double busy = trial.phase().busy();
      double marginal = trial.phase().cpuShare() - idleShare;
      int projected = n * GROWTH;
      if (busy >= 0.05 || marginal >= 0.05) {
        int byModel = busy >= 0.05 ? (int) Math.floor(n * 0.9 / busy) : Integer.MAX_VALUE;
        int byCpu = marginal >= 0.05 ? (int) Math.floor(n * (0.9 - idleShare) / marginal) : Integer.MAX_VALUE;
        projected = Math.min(byModel, byCpu);
      }
      int next = trial.sustained()
          ? Math.min(Math.max(n + 1, projected), n * GROWTH)
          : Math.min(projected, (best + failed) / 2);
      next = Math.max(best + 1, Math.min(failed - 1, next));
      if (next <= best || next >= failed) {
        break;
      }
      n = next;
    }
  }

  private static Trial trial(Pipeline.Run run, String prefix, int calls, long durationMs, long maxLatencyMs,
      double maxSlope) throws InterruptedException {
    long windowMs = run.windowMs();
    Duration timeout = Duration.ofMillis(durationMs).plusMinutes(5);
    Pipeline.Phase p = run.realTime(prefix, calls, durationMs, windowMs / calls, 100 + calls, timeout);
    int expected = p.expectedSegments();
    double[] lat = p.latenciesMs();
    double[] x = p.segments().stream().mapToDouble(s -> s.lastChunkTimestampMs() / 1000.0).toArray();
    double[] y = p.segments().stream().mapToDouble(s -> s.latencyMs() / 1000.0).toArray();
    double slope = Stats.slope(x, y);
    double p99 = Stats.percentile(lat, 0.99);
    double[] toEmbedded = p.segments().stream().mapToDouble(s -> s.embeddedAtMs() - s.lastChunkTimestampMs()).toArray();
    double[] toVisible = p.segments().stream().mapToDouble(s -> s.visibleAtMs() - s.embeddedAtMs()).toArray();
    String why;
    if (p.segments().size() < expected) {
      why = "missing segments";
    } else if (p99 > maxLatencyMs) {
      why = "p99 > " + maxLatencyMs + " ms";
    } else if (slope > maxSlope) {
      why = String.format(Locale.ROOT, "latency grows (slope %.3f)", slope);
    } else if (p.maxPlayerLateMs() > MAX_PLAYER_LATE_MS) {
      why = "player fell behind real time";
    } else {
      why = null;
    }
    return new Trial(calls, p, expected, Stats.percentile(lat, 0.5), Stats.percentile(lat, 0.95), p99,
        Stats.percentile(lat, 1.0), slope, Stats.percentile(toEmbedded, 0.5), Stats.percentile(toVisible, 0.5),
        why == null, why == null ? "sustained" : "NOT sustained: " + why);
  }

  private static void printTrial(Trial t) {
    Pipeline.Phase p = t.phase();
    double callSeconds = t.calls() * p.wallSeconds();
    System.out.printf(Locale.ROOT, "%5d %7d %4d/%-4d %7.0f %7.0f %7.0f %7.0f %7.3f %6.3f %6.3f %11.3f %6.2f %6d  %s%n",
        t.calls(), 2 * t.calls(), p.segments().size(), t.expectedSegments(), t.p50(), t.p95(), t.p99(), t.max(), t.slope(),
        p.busy(), p.cpuShare(), p.cpuSeconds() / callSeconds, p.meanBatch(), p.maxPlayerLateMs(), t.why());
    System.out.flush();
  }

  private static void writePlots(Path dir, String modelKey, List<Trial> trials, Trial best, Map<Integer, Saturation> sats)
      throws IOException {
    Files.createDirectories(dir);
    String when = java.time.LocalDate.now().toString();
    if (!sats.isEmpty()) {
      double[] b = sats.keySet().stream().mapToDouble(Integer::doubleValue).toArray();
      double[] e2e = sats.values().stream().mapToDouble(Saturation::e2eThroughput).toArray();
      double[] bare = sats.values().stream().mapToDouble(Saturation::bareThroughput).toArray();
      Path png = dir.resolve("e2e-throughput-" + modelKey + ".png");
      new Chart("Saturation throughput vs batch size (" + modelKey + " model)",
          String.format(Locale.ROOT, "%d cores, shared machine, %s; e2e = broker + Kafka Streams + batcher + model, bare ="
              + " embedBatch loop, same run", BenchEnv.cores(), when),
          "batch size (callvec.batch.max.windows)", "audio seconds per wall second (x real time)", Chart.XAxis.LOG2)
          .add(new Chart.Series("bare model (embedBatch loop)", b, bare, true, true))
          .add(new Chart.Series("end to end (e2e)", b, e2e, true, false))
          .write(png);
      StringBuilder csv = new StringBuilder("batch,windows,e2e_xrt,bare_xrt,ratio,fill,busy,e2e_cpu_per_audio_s,"
          + "bare_cpu_per_audio_s\n");
      for (Saturation s : sats.values()) {
        csv.append(String.format(Locale.ROOT, "%d,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f%n", s.batch(), s.windows(),
            s.e2eThroughput(), s.bareThroughput(), s.ratio(), s.e2e().meanBatch() / s.batch(), s.e2e().busy(),
            s.e2eCpuPerAudio(), s.bareCpuPerAudio()));
      }
      Files.writeString(dir.resolve("e2e-throughput-" + modelKey + ".csv"), csv);
      System.out.println("wrote " + png);
    }
    if (!trials.isEmpty()) {
      Chart c = new Chart("Latency, segment end -> embedding visible (" + modelKey + " model)",
          String.format(Locale.ROOT, "real-time calls, read_committed reader; %d cores, shared machine, %s%s",
              BenchEnv.cores(), when, best == null ? "" : String.format(Locale.ROOT, "; N=%d: p50 %.0f, p95 %.0f, p99 %.0f ms",
                  best.calls(), best.p50(), best.p95(), best.p99())),
          "latency (ms, log scale)", "fraction of segments at or below", Chart.XAxis.LOG10).yFrom(0).yTo(1);
      StringBuilder csv = new StringBuilder("calls,sustained,latency_ms,to_embedded_ms\n");
      for (Trial t : trials.stream().sorted((a, z) -> Integer.compare(a.calls(), z.calls())).toList()) {
        double[] lat = t.phase().latenciesMs();
        java.util.Arrays.sort(lat);
        // the empirical CDF as a step line: up at each value
        double[] xs = new double[2 * lat.length];
        double[] ys = new double[2 * lat.length];
        for (int i = 0; i < lat.length; i++) {
          xs[2 * i] = lat[i];
          ys[2 * i] = i / (double) lat.length;
          xs[2 * i + 1] = lat[i];
          ys[2 * i + 1] = (i + 1) / (double) lat.length;
        }
        c.add(new Chart.Series(String.format(Locale.ROOT, "N=%d calls (%s)", t.calls(),
            t.sustained() ? "sustained" : "not sustained"), xs, ys, false, !t.sustained()));
        for (Pipeline.Seen s : t.phase().segments()) {
          csv.append(t.calls()).append(',').append(t.sustained()).append(',').append(s.latencyMs()).append(',')
              .append(s.embeddedAtMs() - s.lastChunkTimestampMs()).append('\n');
        }
      }
      Path png = dir.resolve("e2e-latency-" + modelKey + ".png");
      c.write(png);
      Files.writeString(dir.resolve("e2e-latency-" + modelKey + ".csv"), csv);
      System.out.println("wrote " + png);
    }
  }
}
