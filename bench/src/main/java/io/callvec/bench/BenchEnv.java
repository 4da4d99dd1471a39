package io.callvec.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Where a benchmark runs: the repository root, the model to use, the machine, and this process's
 * CPU time (the machine may be shared with other jobs: CPU seconds are less disturbed by them than
 * wall seconds).
 */
final class BenchEnv {
  /** The full-size random-weight model that {@code model/tools/fixture.py --size large} writes. */
  static final String LARGE_MODEL = "models/wav2vec2-large-robust-random.onnx";

  /** {@code callvec.model.path} of the bundled tiny fixture model. */
  static final String FIXTURE = "classpath:fixture";

  private BenchEnv() {}

  /**
   * The repository root: the system property {@code bench.root} (set by {@code bench/run}), else
   * the nearest folder at or above the current one that holds {@code bench/run}, else the current
   * folder.
   */
  static Path root() {
    String p = System.getProperty("bench.root");
    if (p != null && !p.isBlank()) {
      return Path.of(p).toAbsolutePath();
    }
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("bench/run"))) {
        return d;
      }
    }
    return Path.of("").toAbsolutePath();
  }

  /**
   * The value for {@code callvec.model.path}: {@code fixture} → the bundled tiny model; a path →
   * that file; absent → {@value #LARGE_MODEL} under the repository root. A missing file ends the
   * program (exit status 2) with the command that generates the full-size model.
   */
  static String modelPath(String option) {
    if (option != null && (option.equals("fixture") || option.equals(FIXTURE))) {
      return FIXTURE;
    }
    Path p = option == null ? root().resolve(LARGE_MODEL) : Path.of(option).toAbsolutePath();
    if (!Files.isRegularFile(p)) {
      System.err.println("model file not found: " + p);
      if (option == null) {
        System.err.println("generate the full-size random-weight model (wav2vec2-large-robust"
            + " architecture, 1.26 GB, about a minute; needs Debian's python3-torch"
            + " python3-torchaudio python3-onnx) from the repository root with:");
        System.err.println("  /usr/bin/python3 model/tools/fixture.py --size large");
        System.err.println("or run with --model fixture (the bundled tiny model: measures the"
            + " pipeline's own cost) or --model PATH");
      }
      System.exit(2);
    }
    return p.toString();
  }

  /** A short name for tables: {@code fixture} or the file name. */
  static String modelLabel(String modelPath) {
    return modelPath.equals(FIXTURE) ? "fixture (bundled tiny model)" : Path.of(modelPath).getFileName().toString();
  }

  /** CPU seconds used by this process so far (all threads, native ones included). */
  static double processCpuSeconds() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      long ns = sun.getProcessCpuTime();
      if (ns >= 0) {
        return ns / 1e9;
      }
    }
    return Double.NaN;
  }

  static int cores() {
    return Runtime.getRuntime().availableProcessors();
  }

  /** The 1, 5 and 15 minute load averages, or "n/a". */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "n/a";
    }
  }

  /** One line about the machine: CPU model, cores, memory, load, Java. */
  static String machine() {
    String cpu = "unknown CPU";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          cpu = line.substring(line.indexOf(':') + 1).trim();
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      // keep "unknown CPU"
    }
    long memGiB = -1;
    var os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      memGiB = Math.round(sun.getTotalMemorySize() / (1024.0 * 1024 * 1024));
    }
    return String.format(Locale.ROOT, "%s, %d cores, %d GiB, load average %s (before the run), Java %s",
        cpu, cores(), memGiB, loadAverage(), System.getProperty("java.version"));
  }
}
