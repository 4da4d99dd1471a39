package io.callvec.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.callvec.model.EmbeddingModel;
import io.callvec.model.ExecutionProvider;
import io.callvec.model.ModelLoadException;
import io.callvec.model.ModelOptions;
import io.callvec.model.internal.InputNormalizer;
import io.callvec.model.vad.SileroVad;
import io.callvec.model.vad.VadState;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code bench/run model --layers}: the full-size architecture computing 24 vs 12 transformer
 * layers, and what fetching only {@code hidden_states_12} from the uncut export costs, in one
 * run, interleaved; then Silero VAD v5's cost per audio second against the same models' (the VAD
 * budget is 2 % of the large model). Three timed variants per cell, rotated each repetition:
 *
 * <ul>
 *   <li>{@code uncut_lhs}: the uncut export (24 layers; outputs last_hidden_state and
 *       hidden_states_12), fetching last_hidden_state;
 *   <li>{@code uncut_hs12}: the same session, fetching only hidden_states_12 (does ONNX Runtime
 *       skip layers 13..24?);
 *   <li>{@code cut12}: the export cut after layer 12 by model/tools/truncate.py.
 * </ul>
 *
 * <p>Last line: {@code RESULT scenario=model-layers speedup_cut12=<uncut_lhs/cut12>
 * speedup_fetch_hs12=<uncut_lhs/uncut_hs12> vad_cost_vs_24=<…> vad_cost_vs_12=<…>} for the
 * batch 4 × 5 s cell (ratios of CPU seconds per audio second).
 */
final class LayerBench {
  static final String UNCUT = "models/wav2vec2-large-robust-random-hs12.onnx";
  static final String CUT = "models/wav2vec2-large-robust-random-cut12.onnx";
  private static final int RATE = 16_000;
  private static final String[] NAMES = {"uncut_lhs", "uncut_hs12", "cut12"};

  private LayerBench() {}

  static void run(Path uncut, Path cut, int threads, int reps, ExecutionProvider provider,
      List<int[]> cells) throws Exception {
    ModelOptions base = ModelOptions.builder().provider(provider).intraOpThreads(threads).build();
    try (EmbeddingModel full = load(uncut, base);
        EmbeddingModel half = load(cut, base.toBuilder().layer(12).build())) {
      System.out.printf(Locale.ROOT, "uncut %s: %d layers computed, outputs %s%ncut   %s: %d "
              + "layers computed, pooled %s (layer %d); %d intra-op threads, provider %s, %d "
              + "timed repetitions per cell, variants rotated%n",
          uncut, full.info().layersComputed(), full.ortSession().getOutputNames(), cut,
          half.info().layersComputed(), half.info().outputName(), half.info().layer(), threads,
          full.info().provider(), reps);
      System.out.printf(Locale.ROOT, "%5s %8s %11s %11s %11s %9s %9s %9s %12s %12s%n", "batch",
          "window_s", "uncut_lhs_s", "uncut_hs12_s", "cut12_s", "xrt_24", "xrt_hs12", "xrt_cut12",
          "cut12_speed", "hs12_speed");
      double[] resultCpu = null;
      for (int[] c : cells) {
        Measured m = measure(full, half, c[0], c[1], reps);
        double audio = c[0] * (double) c[1];
        System.out.printf(Locale.ROOT, "%5d %8d %11.3f %12.3f %11.3f %9.2f %9.2f %9.2f %12.3f %12.3f%n",
            c[0], c[1], m.wall[0], m.wall[1], m.wall[2], audio / m.wall[0], audio / m.wall[1],
            audio / m.wall[2], m.wall[0] / m.wall[2], m.wall[0] / m.wall[1]);
        System.out.printf(Locale.ROOT, "%5s %8s %11.3f %12.3f %11.3f %9s %9s %9s %12.3f %12.3f"
                + "   (process CPU s)%n", "", "", m.cpu[0], m.cpu[1], m.cpu[2], "", "", "",
            m.cpu[0] / m.cpu[2], m.cpu[0] / m.cpu[1]);
        System.out.flush();
        if (c[0] == 4 && c[1] == 5) {
          resultCpu = new double[] {m.cpu[0] / audio, m.cpu[1] / audio, m.cpu[2] / audio,
              m.wall[0] / m.wall[2], m.wall[0] / m.wall[1]};
        }
      }
      System.out.println("(*_s: median wall seconds per run; xrt: audio seconds per wall second; "
          + "*_speed: uncut_lhs / variant, >1 = faster; second row: the same with process CPU "
          + "seconds, less sensitive to other jobs)");
      Vad vad = measureVad(reps);
      System.out.printf(Locale.ROOT, "Silero VAD v5, 8 kHz, 1 intra-op thread: one stream %.5f "
              + "CPU s per audio s (%.0fx real time), %d streams batched %.5f CPU s per audio s "
              + "(%.0fx real time per core)%n", vad.single, 1 / vad.single, Vad.STREAMS,
          vad.batched, 1 / vad.batched);
      if (resultCpu != null) {
        double best = Math.min(vad.single, vad.batched);
        System.out.printf(Locale.ROOT, "VAD cost / model cost per audio second (CPU): vs 24 layers "
                + "%.4f, vs 12 layers %.4f (budget 0.02)%n", best / resultCpu[0],
            best / resultCpu[2]);
        System.out.printf(Locale.ROOT, "RESULT scenario=model-layers speedup_cut12=%.3f "
                + "speedup_fetch_hs12=%.3f cpu_speedup_cut12=%.3f cpu_speedup_fetch_hs12=%.3f "
                + "vad_cost_vs_24=%.4f vad_cost_vs_12=%.4f%n",
            resultCpu[3], resultCpu[4], resultCpu[0] / resultCpu[2], resultCpu[0] / resultCpu[1],
            best / resultCpu[0], best / resultCpu[2]);
      }
    }
  }

  private static EmbeddingModel load(Path p, ModelOptions o) {
    if (!Files.isRegularFile(p)) {
      System.err.println("model file not found: " + p.toAbsolutePath());
      System.err.println("build the uncut (1.26 GB) and the cut (0.66 GB) full-size models from "
          + "the repository root with:");
      System.err.println("  /usr/bin/python3 model/tools/fixture.py --size large --hidden-layers "
          + "12 --out " + UNCUT);
      System.err.println("  /usr/bin/python3 model/tools/truncate.py " + UNCUT + " " + CUT
          + " --layers 12");
      System.exit(2);
    }
    try {
      return EmbeddingModel.load(p, o);
    } catch (ModelLoadException e) {
      System.err.println("model bench: " + e.getMessage());
      System.exit(1);
      return null;
    }
  }

  private record Measured(double[] wall, double[] cpu) {}

  private static Measured measure(EmbeddingModel full, EmbeddingModel half, int batch,
      int seconds, int reps) throws OrtException {
    int len = seconds * RATE;
    FloatBuffer in = ByteBuffer.allocateDirect(4 * batch * len).order(ByteOrder.nativeOrder())
        .asFloatBuffer();
    for (int b = 0; b < batch; b++) {
      InputNormalizer.write(ModelBench.speechLike(77L * batch + b, len), true, in, b * len);
    }
    in.rewind();
    long[] shape = {batch, len};
    Runnable[] variants = {
      () -> fetch(full.ortSession(), in, shape, "last_hidden_state"),
      () -> fetch(full.ortSession(), in, shape, "hidden_states_12"),
      () -> fetch(half.ortSession(), in, shape, "hidden_states_12"),
    };
    for (Runnable v : variants) {
      v.run(); // warm-up: first run of a shape allocates
    }
    double[][] wall = new double[3][reps];
    double[][] cpu = new double[3][reps];
    for (int k = 0; k < reps; k++) {
      for (int j = 0; j < 3; j++) {
        int v = (j + k) % 3; // rotate the order so that drift spreads over all variants
        long t0 = System.nanoTime();
        long c0 = ModelBench.processCpuNanos();
        variants[v].run();
        wall[v][k] = (System.nanoTime() - t0) / 1e9;
        cpu[v][k] = (ModelBench.processCpuNanos() - c0) / 1e9;
      }
    }
    double[] w = new double[3];
    double[] c = new double[3];
    for (int v = 0; v < 3; v++) {
      w[v] = ModelBench.median(wall[v]);
      c[v] = ModelBench.median(cpu[v]);
    }
    return new Measured(w, c);
  }

  private static void fetch(OrtSession s, FloatBuffer in, long[] shape, String output) {
    OrtEnvironment env = EmbeddingModel.ortEnvironment();
    try (OnnxTensor t = OnnxTensor.createTensor(env, in, shape);
        OrtSession.Result r = s.run(Map.of("input_values", t), Set.of(output))) {
      if (r.get(output).isEmpty()) {
        throw new IllegalStateException("no output " + output);
      }
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
  }

  private record Vad(double single, double batched) {
    static final int STREAMS = 16;
  }

  /** CPU seconds per audio second of Silero VAD at 8 kHz: one stream, and 16 batched. */
  private static Vad measureVad(int reps) throws Exception {
    int seconds = 20;
    int frame = VadState.frameSamples(8_000);
    int frames = seconds * 8_000 / frame;
    float[] x = new float[frames * frame];
    float[] src = ModelBench.speechLike(5, 2 * x.length); // 16 kHz signal, every other sample
    for (int i = 0; i < x.length; i++) {
      x[i] = src[2 * i];
    }
    try (SileroVad vad = SileroVad.load()) {
      vad.process(VadState.initial(8_000), x, 0, 50 * frame); // warm-up
      double[] single = new double[reps];
      double[] batched = new double[reps];
      for (int k = 0; k < reps; k++) {
        long c0 = ModelBench.processCpuNanos();
        float[] p = vad.process(VadState.initial(8_000), x, 0, x.length);
        single[k] = (ModelBench.processCpuNanos() - c0) / 1e9 / seconds;
        if (p.length != frames) {
          throw new IllegalStateException("expected " + frames + " probabilities");
        }
        List<VadState> states = new ArrayList<>();
        for (int b = 0; b < Vad.STREAMS; b++) {
          states.add(VadState.initial(8_000));
        }
        c0 = ModelBench.processCpuNanos();
        for (int f = 0; f < frames; f++) {
          List<float[]> batch = new ArrayList<>(Vad.STREAMS);
          float[] fr = Arrays.copyOfRange(x, f * frame, (f + 1) * frame);
          for (int b = 0; b < Vad.STREAMS; b++) {
            batch.add(fr);
          }
          vad.step(states, batch);
        }
        batched[k] = (ModelBench.processCpuNanos() - c0) / 1e9 / (seconds * Vad.STREAMS);
      }
      return new Vad(ModelBench.median(single), ModelBench.median(batched));
    }
  }
}
