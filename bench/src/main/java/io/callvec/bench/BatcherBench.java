package io.callvec.bench;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.callvec.model.InferenceException;
import io.callvec.model.Pooling;
import io.callvec.model.WindowEmbedder;
import io.callvec.model.batch.BatcherMetricNames;
import io.callvec.model.batch.BatchingEngine;
import io.callvec.model.batch.BatchingOptions;
import io.callvec.model.batch.RetryPolicy;
import io.callvec.model.internal.Pooler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code bench/run batcher}: the micro-batcher against bare ONNX Runtime on the same session.
 *
 * <ul>
 *   <li><b>bare</b>: one thread calls the embedder (session.run of a [B, samples] float tensor plus
 *       mean pooling) on a batch of B windows in a loop: the device's best throughput.
 *   <li><b>engine, saturated</b>: {@code --submitters} threads (default 2B) each submit one window
 *       and wait for its vector, again and again; one worker, max batch B. Rounds alternate with
 *       bare so that machine noise hits both alike.
 *   <li><b>engine, closed loop S=B</b>: exactly B submitters, with the default max delay and with
 *       max delay 0 (greedy): shows the fill cost of dispatching a lone window at once.
 *   <li><b>low load</b>: one window at a time; the added latency is measured around the embedder
 *       call (submit to call start, plus call end to the caller seeing the vector), so inference
 *       noise does not enter it.
 * </ul>
 *
 * <p>The embedder is bench-local (a minimal session wrapper); it runs the model on raw samples and
 * mean-pools the last hidden state, the same work for the bare loop and the engine.
 *
 * <p>Options: {@code --model PATH} (default models/wav2vec2-large-robust-random.onnx; any ONNX with
 * a float input [batch, samples] and output [batch, frames, hidden]), {@code --batch B} (4), {@code
 * --window-s} (5.0), {@code --max-delay-ms} (10), {@code --batches} per measurement (3), {@code
 * --rounds} (3), {@code --submitters} (2B), {@code --low-load-windows} (8), {@code --threads}
 * intra-op threads (all cores), {@code --spin} ORT pool spin-waiting (true, ORT's default and the
 * production runtime's).
 *
 * <p>Last line: {@code RESULT scenario=batcher ratio=<engine/bare> fill=<mean fill>
 * low_load_added_ms=<mean added latency> device_busy=<time in embedBatch / wall time under the
 * engine>}. On a shared machine the throughput ratio carries the noise of other processes (rounds
 * are interleaved to spread it); device_busy does not: with the same per-batch speed, ratio =
 * device_busy, so 1 - device_busy is the engine's own cost.
 */
public final class BatcherBench {
  private static final int SAMPLE_RATE_HZ = 16_000;

  private BatcherBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = parse(args);
    Path model = Path.of(opt.getOrDefault("model", "models/wav2vec2-large-robust-random.onnx"));
    int batch = Integer.parseInt(opt.getOrDefault("batch", "4"));
    double windowSeconds = Double.parseDouble(opt.getOrDefault("window-s", "5.0"));
    long maxDelayMs = Long.parseLong(opt.getOrDefault("max-delay-ms", "10"));
    int batches = Integer.parseInt(opt.getOrDefault("batches", "3"));
    int rounds = Integer.parseInt(opt.getOrDefault("rounds", "3"));
    int submitters = Integer.parseInt(opt.getOrDefault("submitters", String.valueOf(2 * batch)));
    int lowLoadWindows = Integer.parseInt(opt.getOrDefault("low-load-windows", "8"));
    int threads =
        Integer.parseInt(
            opt.getOrDefault(
                "threads", String.valueOf(Runtime.getRuntime().availableProcessors())));
    if (!Files.isRegularFile(model)) {
      System.err.println(
          "model file not found: "
              + model.toAbsolutePath()
              + " (generate it with `/usr/bin/python3 model/tools/fixture.py --size large`, or pass"
              + " --model PATH)");
      System.exit(2);
    }
    if (batch < 1 || batches < 1 || rounds < 1 || submitters < 1 || lowLoadWindows < 1) {
      System.err.println(
          "--batch, --batches, --rounds, --submitters, --low-load-windows must be >= 1");
      System.exit(2);
    }
    boolean spin = Boolean.parseBoolean(opt.getOrDefault("spin", "true"));
    int samples = (int) Math.round(windowSeconds * SAMPLE_RATE_HZ);
    Duration maxDelay = Duration.ofMillis(maxDelayMs);

    List<float[]> pool = new ArrayList<>();
    Random rnd = new Random(42);
    for (int i = 0; i < Math.max(2 * batch, submitters); i++) {
      pool.add(signal(samples, rnd));
    }
    List<float[]> fullBatch = pool.subList(0, batch);

    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (SessionEmbedder bare = new SessionEmbedder(env, model, threads, spin)) {
      TimedEmbedder timed = new TimedEmbedder(bare);
      System.out.printf(
          Locale.ROOT,
          "model %s (%s -> %s), hidden %d, %d intra-op threads (spinning %s); window %.2f s"
              + " (%d samples), B=%d, max delay %d ms, %d submitters%n",
          model.getFileName(),
          bare.inputName,
          bare.outputName,
          bare.dimension(),
          threads,
          spin ? "on" : "off",
          windowSeconds,
          samples,
          batch,
          maxDelayMs,
          submitters);
      // Warm-up: allocator arenas and kernels for both batch shapes.
      bare.embedBatch(fullBatch);
      bare.embedBatch(pool.subList(0, 1));

      double bareSeconds = 0;
      double engineSeconds = 0;
      long bareWindows = 0;
      long engineWindows = 0;
      double fillSum = 0;
      long fillCount = 0;
      double engineCallSeconds = 0;
      List<String[]> rows = new ArrayList<>();
      for (int r = 1; r <= rounds; r++) {
        long callNanosBefore = timed.totalCallNanos.get();
        long t0 = System.nanoTime();
        for (int i = 0; i < batches; i++) {
          timed.embedBatch(fullBatch);
        }
        long t1 = System.nanoTime();
        double s = (t1 - t0) / 1e9;
        bareSeconds += s;
        bareWindows += (long) batches * batch;
        double bareBusy = (timed.totalCallNanos.get() - callNanosBefore) / (double) (t1 - t0);
        rows.add(
            row(
                "bare B=" + batch + " (round " + r + ")",
                batches * batch,
                s,
                windowSeconds,
                1.0,
                bareBusy));

        Run run = saturate(timed, pool, batch, maxDelay, submitters, batches * batch);
        engineSeconds += run.seconds;
        engineWindows += run.windows;
        fillSum += run.fillSum;
        fillCount += run.fillCount;
        engineCallSeconds += run.busy * run.seconds;
        rows.add(
            row(
                "engine S=" + submitters + " (round " + r + ")",
                run.windows,
                run.seconds,
                windowSeconds,
                run.meanFill(),
                run.busy));
      }
      Run exact = saturate(timed, pool, batch, maxDelay, batch, batches * batch);
      rows.add(
          row(
              "engine S=" + batch + " closed loop, delay " + maxDelayMs + " ms",
              exact.windows,
              exact.seconds,
              windowSeconds,
              exact.meanFill(),
              exact.busy));
      Run greedy = saturate(timed, pool, batch, Duration.ZERO, batch, batches * batch);
      rows.add(
          row(
              "engine S=" + batch + " closed loop, delay 0 (greedy)",
              greedy.windows,
              greedy.seconds,
              windowSeconds,
              greedy.meanFill(),
              greedy.busy));

      double bareThroughput = bareWindows / bareSeconds;
      double engineThroughput = engineWindows / engineSeconds;
      double ratio = engineThroughput / bareThroughput;
      double fill = fillSum / fillCount;
      double engineBusy = engineCallSeconds / engineSeconds;

      System.out.println();
      System.out.printf(
          Locale.ROOT,
          "%-44s %8s %9s %10s %8s %6s %8s%n",
          "throughput",
          "windows",
          "seconds",
          "windows/s",
          "x RT",
          "fill",
          "busy");
      for (String[] rw : rows) {
        System.out.printf(Locale.ROOT, "%-44s %8s %9s %10s %8s %6s %8s%n", (Object[]) rw);
      }
      System.out.println(
          "busy = time inside embedBatch / wall time; 1 - busy = device idle between batches"
              + " (engine overhead and thread wake-ups), unaffected by inference speed noise");

      LowLoad withDelay = lowLoad(timed, pool.get(0), batch, maxDelay, lowLoadWindows);
      LowLoad withoutDelay = lowLoad(timed, pool.get(0), batch, Duration.ZERO, lowLoadWindows);
      double bareOneMs = 0;
      for (int i = 0; i < lowLoadWindows; i++) {
        long t0 = System.nanoTime();
        bare.embedBatch(pool.subList(0, 1));
        bareOneMs += (System.nanoTime() - t0) / 1e6;
      }
      bareOneMs /= lowLoadWindows;

      System.out.println();
      System.out.printf(
          Locale.ROOT,
          "%-44s %10s %10s %10s %14s%n",
          "low load (one window at a time)",
          "added ms",
          "median",
          "max",
          "end-to-end ms");
      System.out.printf(
          Locale.ROOT,
          "%-44s %10s %10s %10s %14.1f%n",
          "bare batch of 1",
          "-",
          "-",
          "-",
          bareOneMs);
      System.out.printf(
          Locale.ROOT,
          "%-44s %10.2f %10.2f %10.2f %14.1f%n",
          "engine, max delay " + maxDelayMs + " ms",
          withDelay.meanAddedMs,
          withDelay.medianAddedMs,
          withDelay.maxAddedMs,
          withDelay.meanEndToEndMs);
      System.out.printf(
          Locale.ROOT,
          "%-44s %10.2f %10.2f %10.2f %14.1f%n",
          "engine, max delay 0 (greedy)",
          withoutDelay.meanAddedMs,
          withoutDelay.medianAddedMs,
          withoutDelay.maxAddedMs,
          withoutDelay.meanEndToEndMs);

      System.out.println();
      System.out.printf(
          Locale.ROOT,
          "goals: ratio %.3f (>= 0.95: %s; device busy under the engine %.4f), fill %.3f (>= 0.9:"
              + " %s), low-load added (mean) %.2f ms (<= %d ms: %s)%n",
          ratio,
          ratio >= 0.95 ? "met" : "MISSED",
          engineBusy,
          fill,
          fill >= 0.9 ? "met" : "MISSED",
          withDelay.meanAddedMs,
          maxDelayMs + 1,
          withDelay.meanAddedMs <= maxDelayMs + 1 ? "met" : "MISSED");
      System.out.printf(
          Locale.ROOT,
          "RESULT scenario=batcher ratio=%.3f fill=%.3f low_load_added_ms=%.2f device_busy=%.4f%n",
          ratio,
          fill,
          withDelay.meanAddedMs,
          engineBusy);
    }
  }

  private static String[] row(
      String name, long windows, double seconds, double windowS, double fill, double busy) {
    double perSecond = windows / seconds;
    return new String[] {
      name,
      String.valueOf(windows),
      String.format(Locale.ROOT, "%.2f", seconds),
      String.format(Locale.ROOT, "%.3f", perSecond),
      String.format(Locale.ROOT, "%.2f", perSecond * windowS),
      String.format(Locale.ROOT, "%.3f", fill),
      String.format(Locale.ROOT, "%.4f", busy)
    };
  }

  /** Result of one engine throughput run. */
  private static final class Run {
    long windows;
    double seconds;
    double fillSum;
    long fillCount;
    double busy;

    double meanFill() {
      return fillCount == 0 ? 0 : fillSum / fillCount;
    }
  }

  /**
   * {@code submitters} threads each submit a window and wait for it, until {@code total} are done.
   */
  private static Run saturate(
      TimedEmbedder embedder,
      List<float[]> pool,
      int batch,
      Duration maxDelay,
      int submitters,
      int total)
      throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    BatchingEngine engine =
        new BatchingEngine(
            embedder,
            BatchingOptions.builder()
                .modelName("bench")
                .maxBatchWindows(batch)
                .maxDelay(maxDelay)
                .queueCapacityWindows(Math.max(batch, submitters))
                .submitTimeout(Duration.ofMinutes(10))
                .retryPolicy(RetryPolicy.none())
                .meterRegistry(registry)
                .build());
    try {
      AtomicInteger tickets = new AtomicInteger();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int s = 0; s < submitters; s++) {
        Thread t =
            new Thread(
                () -> {
                  try {
                    start.await();
                    int i;
                    while ((i = tickets.getAndIncrement()) < total) {
                      engine.submit(pool.get(i % pool.size())).join();
                    }
                  } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                  }
                },
                "bench-submitter-" + s);
        threads.add(t);
        t.start();
      }
      long callNanosBefore = embedder.totalCallNanos.get();
      long t0 = System.nanoTime();
      start.countDown();
      for (Thread t : threads) {
        t.join();
      }
      long t1 = System.nanoTime();
      if (failure.get() != null) {
        throw new IllegalStateException("a submitter failed", failure.get());
      }
      Run run = new Run();
      run.windows = total;
      run.seconds = (t1 - t0) / 1e9;
      run.busy = (embedder.totalCallNanos.get() - callNanosBefore) / (double) (t1 - t0);
      var fill = registry.get(BatcherMetricNames.BATCH_FILL).summary();
      run.fillSum = fill.totalAmount();
      run.fillCount = fill.count();
      return run;
    } finally {
      engine.shutdown(Duration.ofMinutes(5));
    }
  }

  private static final class LowLoad {
    double medianAddedMs;
    double meanAddedMs;
    double maxAddedMs;
    double meanEndToEndMs;
  }

  /** One window at a time; added latency = (call start - submit) + (vector seen - call end). */
  private static LowLoad lowLoad(
      TimedEmbedder timed, float[] window, int batch, Duration maxDelay, int n) throws Exception {
    BatchingEngine engine =
        new BatchingEngine(
            timed,
            BatchingOptions.builder()
                .modelName("bench-low")
                .maxBatchWindows(batch)
                .maxDelay(maxDelay)
                .retryPolicy(RetryPolicy.none())
                .build());
    LowLoad result = new LowLoad();
    double[] added = new double[n];
    try {
      for (int i = 0; i < 2; i++) { // warm-up: class loading and JIT of the submit/complete path
        engine.submit(window).get(10, TimeUnit.MINUTES);
      }
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        engine.submit(window).get(10, TimeUnit.MINUTES);
        long t1 = System.nanoTime();
        added[i] = ((timed.lastStartNanos - t0) + (t1 - timed.lastEndNanos)) / 1e6;
        if (System.getenv("BENCH_TRACE") != null) {
          System.err.printf(
              Locale.ROOT,
              "low-load %d: wait %.3f ms, return %.3f ms%n",
              i,
              (timed.lastStartNanos - t0) / 1e6,
              (t1 - timed.lastEndNanos) / 1e6);
        }
        result.meanAddedMs += added[i] / n;
        result.maxAddedMs = Math.max(result.maxAddedMs, added[i]);
        result.meanEndToEndMs += (t1 - t0) / 1e6 / n;
      }
    } finally {
      engine.shutdown(Duration.ofMinutes(5));
    }
    double[] sorted = added.clone();
    java.util.Arrays.sort(sorted);
    result.medianAddedMs = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    return result;
  }

  /** Speech-like enough for a throughput test: a few harmonics under noise, in [-1, 1). */
  private static float[] signal(int samples, Random rnd) {
    double f0 = 90 + rnd.nextInt(160);
    float[] w = new float[samples];
    for (int i = 0; i < samples; i++) {
      double t = (double) i / SAMPLE_RATE_HZ;
      double v = 0;
      for (int h = 1; h <= 5; h++) {
        v += Math.sin(2 * Math.PI * f0 * h * t) / (h * 4.0);
      }
      w[i] = (float) Math.max(-0.99, Math.min(0.99, v + 0.05 * rnd.nextGaussian()));
    }
    return w;
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> m = new java.util.HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("expected --name value, found '" + a + "'");
      }
      String key = a.substring(2);
      String value;
      int eq = key.indexOf('=');
      if (eq >= 0) {
        value = key.substring(eq + 1);
        key = key.substring(0, eq);
      } else {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("option --" + key + " needs a value");
        }
        value = args[++i];
      }
      m.put(key, value);
    }
    return m;
  }

  /** Records the start and end of the latest call, for the low-load measurement (one at a time). */
  private static final class TimedEmbedder implements WindowEmbedder {
    private final WindowEmbedder delegate;
    volatile long lastStartNanos;
    volatile long lastEndNanos;
    final java.util.concurrent.atomic.AtomicLong totalCallNanos =
        new java.util.concurrent.atomic.AtomicLong();

    TimedEmbedder(WindowEmbedder delegate) {
      this.delegate = delegate;
    }

    @Override
    public float[][] embedBatch(List<float[]> windows) throws InferenceException {
      long start = System.nanoTime();
      lastStartNanos = start;
      try {
        return delegate.embedBatch(windows);
      } finally {
        long end = System.nanoTime();
        lastEndNanos = end;
        totalCallNanos.addAndGet(end - start);
      }
    }

    @Override
    public boolean acceptsMixedLengths() {
      return delegate.acceptsMixedLengths();
    }

    @Override
    public int dimension() {
      return delegate.dimension();
    }
  }

  /**
   * Bench-local minimal embedder: session.run on a [n, samples] float tensor from a direct buffer,
   * then the mean over frames of the [n, frames, hidden] output ({@link Pooler}). No input
   * normalisation (the production runtime does that); the same code serves the bare loop and the
   * engine.
   */
  static final class SessionEmbedder implements WindowEmbedder, AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    final String inputName;
    final String outputName;
    private final int hidden;

    SessionEmbedder(OrtEnvironment env, Path model, int intraOpThreads, boolean spin)
        throws OrtException {
      this.env = env;
      try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
        so.setIntraOpNumThreads(intraOpThreads);
        // ORT's pool threads busy-wait for more work after each run unless told not to; on a few
        // cores that steals the CPU from the batcher's worker and the submitters waking up.
        so.addConfigEntry("session.intra_op.allow_spinning", spin ? "1" : "0");
        so.addConfigEntry("session.inter_op.allow_spinning", spin ? "1" : "0");
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        this.session = env.createSession(model.toString(), so);
      }
      try {
        if (session.getNumInputs() != 1) {
          throw new IllegalArgumentException(
              "expected a model with 1 input [batch, samples], found " + session.getInputNames());
        }
        this.inputName = session.getInputNames().iterator().next();
        Map.Entry<String, NodeInfo> out = session.getOutputInfo().entrySet().iterator().next();
        this.outputName = out.getKey();
        long[] shape = ((TensorInfo) out.getValue().getInfo()).getShape();
        if (shape.length != 3 || shape[2] <= 0) {
          throw new IllegalArgumentException(
              "expected output [batch, frames, hidden] with a fixed hidden size, found "
                  + java.util.Arrays.toString(shape));
        }
        this.hidden = (int) shape[2];
      } catch (OrtException | RuntimeException e) {
        session.close();
        throw e;
      }
    }

    @Override
    public float[][] embedBatch(List<float[]> windows) throws InferenceException {
      int n = windows.size();
      int len = windows.get(0).length;
      FloatBuffer buf =
          ByteBuffer.allocateDirect(n * len * Float.BYTES)
              .order(ByteOrder.nativeOrder())
              .asFloatBuffer();
      for (float[] w : windows) {
        if (w.length != len) {
          throw new IllegalArgumentException("mixed window lengths " + len + " and " + w.length);
        }
        buf.put(w);
      }
      buf.rewind();
      try (OnnxTensor input = OnnxTensor.createTensor(env, buf, new long[] {n, len});
          OrtSession.Result result = session.run(Map.of(inputName, input))) {
        OnnxTensor out = (OnnxTensor) result.get(0);
        long[] shape = out.getInfo().getShape();
        int frames = (int) shape[1];
        FloatBuffer fb = out.getFloatBuffer();
        float[][] vectors = new float[n][];
        for (int b = 0; b < n; b++) {
          vectors[b] = Pooler.pool(fb, b * frames * hidden, frames, hidden, Pooling.MEAN, false);
        }
        return vectors;
      } catch (OrtException e) {
        throw new InferenceException("session.run failed: " + e.getMessage(), e, false);
      }
    }

    @Override
    public boolean acceptsMixedLengths() {
      return false;
    }

    @Override
    public int dimension() {
      return hidden;
    }

    @Override
    public void close() throws OrtException {
      session.close();
    }
  }
}
