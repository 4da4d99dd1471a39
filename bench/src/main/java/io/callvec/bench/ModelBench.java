package io.callvec.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.callvec.model.EmbeddingModel;
import io.callvec.model.ExecutionProvider;
import io.callvec.model.InferenceException;
import io.callvec.model.ModelInfo;
import io.callvec.model.ModelLoadException;
import io.callvec.model.ModelOptions;
import io.callvec.model.internal.InputNormalizer;
import io.callvec.model.internal.Pooler;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * {@code bench/run model}: throughput of the full-size wav2vec2-large-robust architecture in audio
 * seconds per wall second ("x real time"), through callvec's runtime ({@link
 * EmbeddingModel#embedBatch}: normalisation, batch packing, run, pooling) and through a bare
 * {@code OrtSession.run} on the same session and the same (pre-normalised, pre-packed) inputs,
 * interleaved in the same run. The ratio runtime/bare should be about 1.0: the runtime must add
 * nothing measurable to the model's own cost.
 *
 * <p>Options: {@code --model PATH} (default models/wav2vec2-large-robust-random.onnx, searched from
 * the current folder upwards; build it with {@code /usr/bin/python3 model/tools/fixture.py --size
 * large}), {@code --threads N} intra-op threads (default: available processors), {@code --reps N}
 * timed (bare, runtime) pairs per cell (default 3), {@code --provider cpu|cuda[:n]|tensorrt|auto}
 * (default cpu), {@code --full} for the whole grid batch {1,2,4,8} x window {2,5,10} s (default:
 * batch {1,2,4,8} at 5 s plus batch 4 at 2 and 10 s), or {@code --cells 1x5,4x10} (batch x window
 * seconds; the 4 x 5 s cell of the RESULT line is always added).
 *
 * <p>Last line: {@code RESULT scenario=model xrt_bare=<n> xrt_runtime=<n> ratio=<n>} for batch 4
 * x 5 s windows.
 *
 * <p>{@code --layers}: 24 vs 12 transformer layers and fetching only hidden_states_12 from the
 * uncut export, plus Silero VAD's cost against the model's ({@link LayerBench}); models {@code
 * --uncut PATH} and {@code --cut PATH} (defaults {@value LayerBench#UNCUT}, {@value
 * LayerBench#CUT}), cells default 1x5,4x5.
 */
public final class ModelBench {
  private static final String DEFAULT_MODEL = "models/wav2vec2-large-robust-random.onnx";
  private static final int SAMPLE_RATE_HZ = 16_000;
  private static final int RESULT_BATCH = 4;
  private static final double RESULT_SECONDS = 5.0;

  private ModelBench() {}

  private record Cell(int batch, double windowSeconds) {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = parse(args);
    int threads = Integer.parseInt(opts.getOrDefault("--threads",
        String.valueOf(Runtime.getRuntime().availableProcessors())));
    int reps = Integer.parseInt(opts.getOrDefault("--reps", "3"));
    boolean full = opts.containsKey("--full");
    ExecutionProvider provider = ExecutionProvider.parse(opts.getOrDefault("--provider", "cpu"));
    if (reps < 1 || threads < 1) {
      usage("--reps and --threads must be >= 1");
    }
    if (opts.containsKey("--layers")) {
      List<int[]> layerCells = new ArrayList<>();
      for (String spec : opts.getOrDefault("--cells", "1x5,4x5").split(",")) {
        String[] bs = spec.trim().split("x");
        if (bs.length != 2) {
          usage("--cells expects BATCHxSECONDS,... e.g. 1x5,4x5; got " + spec);
        }
        layerCells.add(new int[] {Integer.parseInt(bs[0]), Integer.parseInt(bs[1])});
      }
      LayerBench.run(resolve(opts.get("--uncut"), LayerBench.UNCUT),
          resolve(opts.get("--cut"), LayerBench.CUT), threads, reps, provider, layerCells);
      return;
    }
    Path model = resolveModel(opts.get("--model"));

    List<Cell> cells = new ArrayList<>();
    if (opts.containsKey("--cells")) {
      for (String spec : opts.get("--cells").split(",")) {
        String[] bs = spec.trim().split("x");
        if (bs.length != 2) {
          usage("--cells expects BATCHxSECONDS,... e.g. 1x5,4x5; got " + spec);
        }
        cells.add(new Cell(Integer.parseInt(bs[0]), Double.parseDouble(bs[1])));
      }
    } else if (full) {
      for (double s : new double[] {2, 5, 10}) {
        for (int b : new int[] {1, 2, 4, 8}) {
          cells.add(new Cell(b, s));
        }
      }
    } else {
      for (int b : new int[] {1, 2, 4, 8}) {
        cells.add(new Cell(b, 5));
      }
      cells.add(new Cell(4, 2));
      cells.add(new Cell(4, 10));
    }
    if (!cells.contains(new Cell(RESULT_BATCH, RESULT_SECONDS))) {
      cells.add(new Cell(RESULT_BATCH, RESULT_SECONDS)); // the RESULT line's cell
    }

    ModelOptions options =
        ModelOptions.builder().provider(provider).intraOpThreads(threads).build();
    EmbeddingModel loaded;
    try {
      loaded = EmbeddingModel.load(model, options);
    } catch (ModelLoadException e) {
      System.err.println("model bench: " + e.getMessage());
      System.exit(1);
      return;
    }
    try (EmbeddingModel em = loaded) {
      ModelInfo info = em.info();
      System.out.printf(Locale.ROOT,
          "model %s (%s @ %s), provider %s, %d intra-op threads, hidden %d, %d timed (bare, runtime) "
              + "pairs per cell, interleaved%n",
          model, info.modelId(), info.revision(), info.provider(), threads, info.hiddenSize(),
          reps);
      System.out.printf(Locale.ROOT, "%5s %9s %8s %10s %10s %9s %11s %7s %9s %8s%n", "batch",
          "window_s", "audio_s", "bare_s", "runtime_s", "xrt_bare", "xrt_runtime", "ratio",
          "cpu_ratio", "prep_ms");
      String result = null;
      for (Cell c : cells) {
        Timing t = measure(em, c, reps);
        double audio = c.batch() * c.windowSeconds();
        double xrtBare = audio / t.bareSeconds();
        double xrtRuntime = audio / t.runtimeSeconds();
        System.out.printf(Locale.ROOT,
            "%5d %9.1f %8.1f %10.3f %10.3f %9.2f %11.2f %7.3f %9.3f %8.2f%n",
            c.batch(), c.windowSeconds(), audio, t.bareSeconds(), t.runtimeSeconds(), xrtBare,
            xrtRuntime, t.ratio(), t.cpuRatio(), t.prepMillis());
        System.out.flush();
        if (c.batch() == RESULT_BATCH && c.windowSeconds() == RESULT_SECONDS) {
          result = String.format(Locale.ROOT,
              "RESULT scenario=model xrt_bare=%.2f xrt_runtime=%.2f ratio=%.3f",
              xrtBare, xrtRuntime, t.ratio());
        }
      }
      System.out.println("(bare_s, runtime_s: median wall seconds per run; xrt: audio seconds per "
          + "wall second; ratio: median over adjacent pairs of bare_s / runtime_s; cpu_ratio: the "
          + "same with process CPU seconds, less sensitive to other jobs; prep_ms: the runtime's "
          + "own normalise + pack + pool work per batch, timed alone)");
      System.out.println(result);
    }
  }

  /** Timings of one cell: medians over the interleaved pairs, and the runtime's own work. */
  private record Timing(
      double bareSeconds, double runtimeSeconds, double ratio, double cpuRatio,
      double prepMillis) {}

  /**
   * Runs one untimed warm-up (the first run of a shape allocates in ONNX Runtime), then {@code
   * reps} adjacent (bare, runtime) pairs in alternating order. Medians resist other jobs on a
   * shared machine; the ratio is the median of the per-pair ratios bare_s / runtime_s.
   */
  private static Timing measure(EmbeddingModel em, Cell c, int reps)
      throws OrtException, InferenceException {
    int len = (int) Math.round(c.windowSeconds() * SAMPLE_RATE_HZ);
    List<float[]> windows = new ArrayList<>();
    for (int i = 0; i < c.batch(); i++) {
      windows.add(speechLike(1000L * c.batch() + 10L * len + i, len));
    }
    Bare bare = new Bare(em, windows);
    em.embedBatch(windows);
    double[] b = new double[reps];
    double[] r = new double[reps];
    double[] ratio = new double[reps];
    double[] cpuRatio = new double[reps];
    for (int k = 0; k < reps; k++) {
      boolean bareFirst = k % 2 == 0; // alternate the order so that drift cancels out
      double cpuBare = 0;
      double cpuRuntime = 0;
      for (int j = 0; j < 2; j++) {
        long t0 = System.nanoTime();
        long c0 = processCpuNanos();
        if ((j == 0) == bareFirst) {
          bare.run();
          b[k] = (System.nanoTime() - t0) / 1e9;
          cpuBare = processCpuNanos() - c0;
        } else {
          float[][] v = em.embedBatch(windows);
          r[k] = (System.nanoTime() - t0) / 1e9;
          cpuRuntime = processCpuNanos() - c0;
          if (v.length != windows.size()) {
            throw new IllegalStateException("expected " + windows.size() + " vectors");
          }
        }
      }
      ratio[k] = b[k] / r[k];
      cpuRatio[k] = cpuBare / cpuRuntime;
    }
    return new Timing(median(b), median(r), median(ratio), median(cpuRatio),
        prepMillis(em, windows));
  }

  /**
   * Wall milliseconds of the runtime's own work for one batch, measured alone (median of 15):
   * normalising and packing the windows into a direct buffer and pooling a batch-sized output.
   * This is what {@code embedBatch} adds to {@code OrtSession.run}, free of the model's noise.
   */
  private static double prepMillis(EmbeddingModel em, List<float[]> windows) {
    ModelInfo info = em.info();
    int n = windows.size();
    int len = windows.get(0).length;
    int frames = info.framesFor(len);
    int hidden = info.hiddenSize();
    FloatBuffer in = ByteBuffer.allocateDirect(4 * n * len).order(ByteOrder.nativeOrder())
        .asFloatBuffer();
    FloatBuffer out = ByteBuffer.allocateDirect(4 * n * frames * hidden)
        .order(ByteOrder.nativeOrder()).asFloatBuffer();
    for (int i = 0; i < n * frames * hidden; i++) {
      out.put(i, (float) Math.sin(i * 1e-3));
    }
    double[] t = new double[15];
    float sink = 0;
    for (int k = 0; k < t.length; k++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        InputNormalizer.write(windows.get(i), info.inputNormalized(), in, i * len);
      }
      for (int i = 0; i < n; i++) {
        sink += Pooler.pool(out, i * frames * hidden, frames, hidden, info.pooling(),
            info.l2Normalized())[0];
      }
      t[k] = (System.nanoTime() - t0) / 1e6;
    }
    if (Float.isNaN(sink)) {
      throw new IllegalStateException("NaN in pooled test output");
    }
    return median(t);
  }

  /** CPU time of the whole process (all threads, ONNX Runtime's native ones included), in ns. */
  static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os =
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean
        ? ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime()
        : -1;
  }

  static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    int m = s.length / 2;
    return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
  }

  /** The baseline: one OrtSession.run on inputs normalised and packed before timing. */
  private static final class Bare {
    private final OrtSession session;
    private final OrtEnvironment env = EmbeddingModel.ortEnvironment();
    private final FloatBuffer input;
    private final LongBuffer mask;
    private final long[] shape;

    Bare(EmbeddingModel em, List<float[]> windows) {
      this.session = em.ortSession();
      int n = windows.size();
      int len = windows.get(0).length;
      shape = new long[] {n, len};
      input = ByteBuffer.allocateDirect(4 * n * len).order(ByteOrder.nativeOrder())
          .asFloatBuffer();
      for (int i = 0; i < n; i++) {
        InputNormalizer.write(windows.get(i), true, input, i * len);
      }
      input.rewind();
      if (em.info().attentionMask()) {
        mask = ByteBuffer.allocateDirect(8 * n * len).order(ByteOrder.nativeOrder())
            .asLongBuffer();
        for (int i = 0; i < n * len; i++) {
          mask.put(i, 1L);
        }
      } else {
        mask = null;
      }
    }

    void run() throws OrtException {
      try (OnnxTensor in = OnnxTensor.createTensor(env, input, shape);
          OnnxTensor m = mask == null ? null : OnnxTensor.createTensor(env, mask, shape)) {
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        feed.put("input_values", in);
        if (m != null) {
          feed.put("attention_mask", m);
        }
        try (OrtSession.Result r = session.run(feed)) {
          if (r.size() < 1) {
            throw new IllegalStateException("no output");
          }
        }
      }
    }
  }

  /** Harmonics of a wandering pitch with syllable-rate envelope and noise, deterministic. */
  static float[] speechLike(long seed, int samples) {
    Random rnd = new Random(seed);
    float[] w = new float[samples];
    double phase = 0;
    double f0 = 100 + 100 * rnd.nextDouble();
    for (int i = 0; i < samples; i++) {
      double t = (double) i / SAMPLE_RATE_HZ;
      phase += 2 * Math.PI * f0 * (1 + 0.1 * Math.sin(2 * Math.PI * 0.7 * t)) / SAMPLE_RATE_HZ;
      double env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
      double v = 0;
      for (int h = 1; h <= 10; h++) {
        v += Math.sin(h * phase) / h;
      }
      w[i] = (float) (0.2 * env * v + 0.01 * rnd.nextGaussian());
    }
    return w;
  }

  /** {@code given}, or {@code dflt} searched from the current folder upwards (as is if absent). */
  private static Path resolve(String given, String dflt) {
    if (given != null) {
      return Path.of(given);
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path p = dir.resolve(dflt);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    return Path.of(dflt);
  }

  private static Path resolveModel(String given) {
    if (given != null) {
      Path p = Path.of(given);
      if (!Files.isRegularFile(p)) {
        missing(p);
      }
      return p;
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path p = dir.resolve(DEFAULT_MODEL);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    missing(Path.of(DEFAULT_MODEL));
    return null;
  }

  private static void missing(Path p) {
    System.err.println("model file not found: " + p.toAbsolutePath());
    System.err.println("build the full-size random-weight benchmark model (1.26 GB, about a "
        + "minute, needs Debian's python3-torch python3-torchaudio python3-onnx) from the "
        + "repository root with:");
    System.err.println("  /usr/bin/python3 model/tools/fixture.py --size large");
    System.err.println("or pass --model PATH (e.g. a model exported with model/tools/export.py)");
    System.exit(2);
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--full":
        case "--layers":
          m.put(a, "true");
          break;
        case "--model":
        case "--threads":
        case "--reps":
        case "--provider":
        case "--cells":
        case "--uncut":
        case "--cut":
          if (i + 1 >= args.length) {
            usage(a + " needs a value");
          }
          m.put(a, args[++i]);
          break;
        case "-h":
        case "--help":
          usage(null);
          break;
        default:
          usage("unknown option " + a);
      }
    }
    return m;
  }

  private static void usage(String error) {
    if (error != null) {
      System.err.println("model bench: " + error);
    }
    System.err.println("usage: bench/run model [--model PATH] [--threads N] [--reps N] "
        + "[--provider cpu|auto|cuda[:n]|tensorrt] [--full | --cells BxS,...]\n"
        + "       bench/run model --layers [--uncut PATH] [--cut PATH] [--threads N] [--reps N] "
        + "[--cells BxS,...]   (24 vs 12 layers, fetch-only hidden_states_12, Silero VAD cost)");
    System.exit(error == null ? 0 : 2);
  }
}
