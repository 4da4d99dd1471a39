package io.callvec.bench;

import io.callvec.app.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code bench/run eos-cost}: what exactly-once costs. The end-to-end saturation run of {@code
 * e2e} (calls played as fast as the producer goes, steady throughput from the first to the last
 * embedding visible to a read_committed reader) with {@code processing.guarantee=exactly_once_v2}
 * (callvec's default) and with {@code at_least_once}, each on a fresh app in the same JVM and
 * against the same broker, in the order EOS, ALOS, ALOS, EOS, ... so that drift on a shared machine
 * hits both alike. After each saturation run, a short real-time trial ({@code --latency-calls}
 * calls) measures the latency from segment end to embedding visible: under exactly-once an
 * embedding becomes visible only when its transaction commits ({@code commit.interval.ms}, 100 by
 * callvec's default), under at-least-once as soon as it is written.
 *
 * <p>Last line: {@code RESULT scenario=eos-cost model=<..> ratio=<EOS/ALOS throughput>
 * cpu_ratio=<ALOS/EOS CPU per audio second> eos_xrt=.. alos_xrt=.. eos_p50_ms=.. alos_p50_ms=..
 * eos_p99_ms=.. alos_p99_ms=..}; a ratio of 1 means exactly-once costs nothing measurable.
 */
public final class EosCostBench {
  private static final String USAGE = String.join("\n",
      "usage: bench/run eos-cost [options]",
      "  --model PATH|fixture   ONNX model (default models/wav2vec2-large-robust-random.onnx; fixture = the bundled tiny",
      "                         model, where the pipeline's own cost, exactly-once included, dominates)",
      "  --batch B              callvec.batch.max.windows (default: callvec's, 8)",
      "  --sat-windows N        windows per saturation run at least (default 24; fixture 480)",
      "  --rounds N             pairs of runs, alternating the order (default 2: EOS, ALOS, ALOS, EOS)",
      "  --warmup-runs N        untimed saturation runs on a throwaway app first (default 0; fixture 1: the",
      "                         JVM's first apps ran up to 2x slower, JIT and broker warm-up)",
      "  --latency-calls N      calls of the real-time latency trial after each saturation run (default 1; 0: none)",
      "  --latency-duration-s S length of those calls, seconds (default 20)",
      "  --partitions N         partitions of each topic (default 4)",
      "  --set KEY=VALUE        any callvec or Kafka Streams setting of the app (repeatable)");

  private static final String EOS = "exactly_once_v2";
  private static final String ALOS = "at_least_once";
  private static final long SAT_DURATION_MS = 20_000;

  private EosCostBench() {}

  /** One app run under one guarantee. */
  record Measured(String guarantee, int round, Pipeline.Phase saturation, Pipeline.Phase latency) {
    double xrt() {
      return saturation.steadyThroughput();
    }

    double cpuPerAudio() {
      return saturation.cpuSeconds() / saturation.audioSeconds();
    }

    double latency(double q) {
      return latency == null ? Double.NaN : Stats.percentile(latency.latenciesMs(), q);
    }
  }

  public static void main(String[] args) throws Exception {
    BenchOptions o = BenchOptions.parse("eos-cost", args,
        Set.of("model", "batch", "sat-windows", "rounds", "warmup-runs", "latency-calls", "latency-duration-s", "partitions"), Set.of(),
        USAGE);
    String modelPath = BenchEnv.modelPath(o.get("model", null));
    boolean fixture = modelPath.equals(BenchEnv.FIXTURE);
    String modelKey = fixture ? "fixture" : o.has("model") ? "custom" : "large";
    Map<String, String> sets = new LinkedHashMap<>(o.sets());
    if (sets.containsKey("processing.guarantee")) {
      o.fail("processing.guarantee is what this benchmark varies: do not --set it");
    }
    int defaultBatch = Integer.parseInt(sets.getOrDefault(Settings.BATCH_MAX_WINDOWS.key(), Settings.BATCH_MAX_WINDOWS.defaultValue()));
    int batch = o.integer("batch", defaultBatch, 1);
    int satWindows = o.integer("sat-windows", fixture ? 480 : 24, 1);
    int rounds = o.integer("rounds", 2, 1);
    int warmupRuns = o.integer("warmup-runs", fixture ? 1 : 0, 0);
    int latencyCalls = o.integer("latency-calls", 1, 0);
    long latencyMs = o.integer("latency-duration-s", 20, 1) * 1000L;
    int partitions = o.integer("partitions", 4, 1);

    System.out.println("eos-cost: end-to-end saturation under exactly_once_v2 vs at_least_once (real broker in this JVM)");
    System.out.println("machine: " + BenchEnv.machine());
    System.out.printf(Locale.ROOT, "model: %s; batch %d; %d partitions; settings: %s%n", BenchEnv.modelLabel(modelPath), batch,
        partitions, sets.isEmpty() ? "callvec defaults" : sets);
    System.out.printf(Locale.ROOT, "%5s %-16s %7s %9s %10s %6s %6s %11s %8s %8s %8s%n", "round", "guarantee", "windows",
        "xrt", "wall_s", "fill", "busy", "cpu/audio_s", "p50_ms", "p95_ms", "p99_ms");
    System.out.flush();

    List<Measured> all = new ArrayList<>();
    double cpu0 = BenchEnv.processCpuSeconds();
    long t0 = System.nanoTime();
    try (Pipeline rig = Pipeline.start(partitions)) {
      for (int w = 1; w <= warmupRuns; w++) {
        Map<String, String> cfg = new LinkedHashMap<>(sets);
        cfg.put(Settings.BATCH_MAX_WINDOWS.key(), String.valueOf(batch));
        try (Pipeline.Run run = rig.startApp("eos-warmup" + w, modelPath, cfg)) {
          int perStream = (int) (SAT_DURATION_MS / run.windowMs());
          int calls = Math.max(1, (satWindows + 2 * perStream - 1) / (2 * perStream));
          Pipeline.Phase p = run.saturate("sat", calls, SAT_DURATION_MS, 2, Duration.ofMinutes(10));
          System.out.printf(Locale.ROOT, "%5s %-16s %7d %9.2f %10.1f  (warm-up run, not counted)%n", "-", EOS,
              p.segments().size(), p.steadyThroughput(), p.wallSeconds());
        }
      }
      int k = 0;
      for (int r = 1; r <= rounds; r++) {
        List<String> order = r % 2 == 1 ? List.of(EOS, ALOS) : List.of(ALOS, EOS);
        for (String g : order) {
          k++;
          Map<String, String> cfg = new LinkedHashMap<>(sets);
          cfg.put(Settings.BATCH_MAX_WINDOWS.key(), String.valueOf(batch));
          cfg.put("processing.guarantee", g);
          try (Pipeline.Run run = rig.startApp("eos" + k + "-" + (g.equals(EOS) ? "eos" : "alos"), modelPath, cfg)) {
            long windowMs = run.windowMs();
            int perStream = (int) (SAT_DURATION_MS / windowMs);
            int calls = Math.max(1, (satWindows + 2 * perStream - 1) / (2 * perStream));
            run.bare(batch, 1, run.windows(batch)); // warm-up: the first run of a batch shape allocates
            // warm-up: JIT, topics, transactions; with the fixture model a quarter of the saturation run
            // (the JVM's first app was measurably slower after a 2-window warm-up), with the large model
            // 1 window per stream (its inference, not the JIT, dominates)
            run.saturate("warm", fixture ? Math.max(1, calls / 4) : 1, fixture ? SAT_DURATION_MS : windowMs, 1,
                Duration.ofMinutes(5));
            Pipeline.Phase sat = run.saturate("sat", calls, SAT_DURATION_MS, 2, Duration.ofMinutes(10));
            Pipeline.Phase lat = latencyCalls == 0 ? null
                : run.realTime("lat", latencyCalls, latencyMs, windowMs / latencyCalls, 3, Duration.ofMillis(latencyMs).plusMinutes(5));
            Measured m = new Measured(g, r, sat, lat);
            all.add(m);
            System.out.printf(Locale.ROOT, "%5d %-16s %7d %9.2f %10.1f %6.2f %6.3f %11.3f %8.0f %8.0f %8.0f%n", r, g,
                sat.segments().size(), m.xrt(), sat.wallSeconds(), sat.meanBatch() / batch, sat.busy(), m.cpuPerAudio(),
                m.latency(0.5), m.latency(0.95), m.latency(0.99));
            System.out.flush();
          }
        }
      }
    }
    double totalWall = (System.nanoTime() - t0) / 1e9;
    double totalCpu = BenchEnv.processCpuSeconds() - cpu0;

    double eosXrt = mean(all, EOS, Measured::xrt);
    double alosXrt = mean(all, ALOS, Measured::xrt);
    double eosCpu = mean(all, EOS, Measured::cpuPerAudio);
    double alosCpu = mean(all, ALOS, Measured::cpuPerAudio);
    List<Double> eosLat = latencies(all, EOS);
    List<Double> alosLat = latencies(all, ALOS);
    double ratio = eosXrt / alosXrt;
    StringBuilder pairs = new StringBuilder();
    for (int r = 1; r <= rounds; r++) {
      final int round = r;
      double e = all.stream().filter(m -> m.round() == round && m.guarantee().equals(EOS)).mapToDouble(Measured::xrt).sum();
      double a = all.stream().filter(m -> m.round() == round && m.guarantee().equals(ALOS)).mapToDouble(Measured::xrt).sum();
      pairs.append(String.format(Locale.ROOT, "%s%.3f", r == 1 ? "" : ", ", e / a));
    }
    double cpuRatio = alosCpu / eosCpu;
    System.out.println();
    System.out.printf(Locale.ROOT, "throughput: exactly_once_v2 %.2f x RT, at_least_once %.2f x RT: ratio EOS/ALOS %.3f"
        + " (exactly-once costs %.1f%% of throughput; per round: %s)%n", eosXrt, alosXrt, ratio, 100 * (1 - ratio), pairs);
    System.out.printf(Locale.ROOT, "CPU per audio second (whole process): EOS %.4f s, ALOS %.4f s: ratio ALOS/EOS %.3f%n",
        eosCpu, alosCpu, cpuRatio);
    if (!eosLat.isEmpty()) {
      System.out.printf(Locale.ROOT, "latency at %d real-time call(s), segment end -> visible to read_committed: EOS p50 %.0f"
              + " / p95 %.0f / p99 %.0f ms, ALOS p50 %.0f / p95 %.0f / p99 %.0f ms (exactly-once adds %.0f ms at p50)%n",
          latencyCalls, Stats.percentile(eosLat, 0.5), Stats.percentile(eosLat, 0.95), Stats.percentile(eosLat, 0.99),
          Stats.percentile(alosLat, 0.5), Stats.percentile(alosLat, 0.95), Stats.percentile(alosLat, 0.99),
          Stats.percentile(eosLat, 0.5) - Stats.percentile(alosLat, 0.5));
    }
    System.out.printf(Locale.ROOT, "total: %.0f s wall, %.0f s CPU (%.2f of %d cores); load average now %s%n", totalWall,
        totalCpu, totalCpu / totalWall / BenchEnv.cores(), BenchEnv.cores(), BenchEnv.loadAverage());
    System.out.printf(Locale.ROOT, "RESULT scenario=eos-cost model=%s ratio=%.3f cpu_ratio=%.3f eos_xrt=%.2f alos_xrt=%.2f"
            + " eos_p50_ms=%.0f alos_p50_ms=%.0f eos_p99_ms=%.0f alos_p99_ms=%.0f%n",
        modelKey, ratio, cpuRatio, eosXrt, alosXrt, Stats.percentile(eosLat, 0.5), Stats.percentile(alosLat, 0.5),
        Stats.percentile(eosLat, 0.99), Stats.percentile(alosLat, 0.99));
  }

  private static double mean(List<Measured> all, String g, java.util.function.ToDoubleFunction<Measured> f) {
    return all.stream().filter(m -> m.guarantee().equals(g)).mapToDouble(f).average().orElse(Double.NaN);
  }

  private static List<Double> latencies(List<Measured> all, String g) {
    List<Double> out = new ArrayList<>();
    for (Measured m : all) {
      if (m.guarantee().equals(g) && m.latency() != null) {
        for (double v : m.latency().latenciesMs()) {
          out.add(v);
        }
      }
    }
    return out;
  }
}
