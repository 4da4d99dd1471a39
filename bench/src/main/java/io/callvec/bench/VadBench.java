package io.callvec.bench;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.audio.AudioWindow;
import io.callvec.audio.Encoding;
import io.callvec.audio.G711;
import io.callvec.audio.WavFile;
import io.callvec.audio.WavWriter;
import io.callvec.model.EmbeddingModel;
import io.callvec.model.ModelOptions;
import io.callvec.model.vad.SileroVad;
import io.callvec.schemas.AudioEncoding;
import io.callvec.topology.SpeechDetection;
import io.callvec.topology.TopologyMetrics;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.VadSettings;
import io.callvec.topology.chunks.OfflineWindows;
import io.callvec.topology.chunks.Recording;
import io.callvec.topology.internals.SpeechGate;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code bench/run vad}: what the stream's voice activity detection saves on telephone-like
 * channels built from real recordings. Each channel alternates talk turns (Debian's Asterisk
 * prompts, 8 kHz PCM16, back to back for 2–8 s) with listening gaps of 2–12 s (digital silence on
 * even channels, telephone line noise on odd ones), μ-law coded. The channel goes through the
 * stream's own front end (the same windows as {@code callvec run}) and {@link SpeechGate} (the
 * stream's VAD logic, Silero VAD v5 at 16 kHz); then the model embeds every window once, batch 1,
 * so the model time of the windows the gate skips is measured, not assumed.
 *
 * <p>Figures: windows skipped / windows; the model's CPU and wall time on the skipped windows as a
 * share of all (the saving); the VAD's CPU time as a share of the model's; and how often the
 * skip decision agrees with the layout's truth (a window is truly silent when less than
 * {@code callvec.vad.min.speech.fraction} of it is inside a prompt). Last line: {@code RESULT
 * scenario=vad windows=… skipped=… skipped_fraction=… saved_cpu_fraction=… saved_wall_fraction=…
 * vad_cpu_fraction_of_model=… decision_agreement=…}.
 */
final class VadBench {
  static final String DEFAULT_MODEL = "models/wav2vec2-large-robust-random-cut12.onnx";
  private static final int RATE = 8_000;

  private VadBench() {}

  /** One channel: its 8 kHz samples and the prompts' spans [start, end) in 8 kHz samples. */
  record Layout(float[] pcm, List<long[]> speech, boolean noise) {}

  public static void main(String[] args) throws Exception {
    BenchOptions o = BenchOptions.parse("vad", args,
        Set.of("model", "channels", "duration-s", "seed", "threads", "noise-dbfs", "write-wav"), Set.of(),
        "bench/run vad [--model PATH|fixture] [--channels 6] [--duration-s 60] [--seed 1] [--threads 2] [--noise-dbfs -45]"
            + " [--write-wav DIR] [--set callvec.vad.KEY=VALUE ...]\n"
            + "  default model " + DEFAULT_MODEL + " (/usr/bin/python3 model/tools/fixture.py --size large --truncate-after 12"
            + " --out " + DEFAULT_MODEL + ")");
    String modelPath = o.get("model", DEFAULT_MODEL);
    int channels = o.integer("channels", 6, 1);
    int durationS = o.integer("duration-s", 60, 10);
    long seed = o.integer("seed", 1, 0);
    int threads = o.integer("threads", 2, 1);
    double noiseDbfs = o.decimal("noise-dbfs", -45, Double.NEGATIVE_INFINITY);
    if (!modelPath.equals("fixture") && !Files.exists(Path.of(modelPath))) {
      System.err.println("model " + modelPath + " not found: /usr/bin/python3 model/tools/fixture.py --size large --truncate-after 12 --out "
          + DEFAULT_MODEL + " (or --model fixture)");
      System.exit(2);
    }
    Map<String, String> overrides = new LinkedHashMap<>(o.sets());
    overrides.put("callvec.vad.enabled", "true");
    CallvecConfig cfg = CallvecConfig.builder().overrides(overrides).build();
    TopologySettings settings = TopologySettings.from(cfg);
    VadSettings vadSettings = VadSettings.from(cfg);
    List<Path> prompts = prompts();

    List<Layout> layouts = new ArrayList<>();
    Random r = new Random(seed);
    for (int c = 0; c < channels; c++) {
      layouts.add(layout(prompts, r, durationS, c % 2 == 1, noiseDbfs));
    }
    if (o.has("write-wav")) {
      Path dir = Path.of(o.get("write-wav", "."));
      Files.createDirectories(dir);
      for (int c = 0; c < channels; c++) {
        WavWriter.write(dir.resolve("vad-channel-" + c + ".wav"), RATE, WavWriter.SampleFormat.PCM16, layouts.get(c).pcm());
      }
      System.out.println("wrote " + channels + " layouts to " + dir + " (vad-channel-<n>.wav, 8 kHz PCM16)");
    }

    ModelOptions mo = ModelOptions.builder().provider("cpu").intraOpThreads(threads).build();
    try (SileroVad vad = SileroVad.load(); EmbeddingModel model = CallvecApp.openModel(modelPath, mo)) {
      System.out.printf(Locale.ROOT, "model %s (dim %d, layer %d, %d layers computed), %d intra-op threads; VAD: min speech fraction %.2f, %s%n",
          model.info().source(), model.info().dimension(), model.info().layer(), model.info().layersComputed(), threads,
          vadSettings.minSpeechFraction(), vadSettings.options());
      SpeechGate gate = new SpeechGate(new SpeechDetection(vadSettings, vad), new TopologyMetrics(new SimpleMeterRegistry()),
          settings.frontEnd().hopSamples());
      model.embed(new float[settings.frontEnd().windowSamples()]); // warm-up
      System.out.printf(Locale.ROOT, "%7s %6s %7s %9s %7s %7s %9s %11s %11s %9s%n", "channel", "gaps", "audio_s", "speech_%", "windows",
          "skipped", "agree", "model_cpu_s", "saved_cpu_s", "vad_cpu_s");
      Tally all = new Tally();
      for (int c = 0; c < channels; c++) {
        Layout l = layouts.get(c);
        Recording rec = new Recording("bench-vad", c, "ch" + c, AudioEncoding.MULAW, RATE, G711.encode(Encoding.MULAW, l.pcm()));
        List<AudioWindow> windows = OfflineWindows.of(rec, settings.frontEnd());
        byte[] state = null;
        Tally ch = new Tally();
        ch.windows = windows.size();
        for (AudioWindow w : windows) {
          long c0 = ModelBench.processCpuNanos();
          SpeechGate.Step step = gate.step(state, w.startSample(), w.samples());
          ch.vadCpuS += (ModelBench.processCpuNanos() - c0) / 1e9;
          state = step.state();
          long t0 = System.nanoTime();
          c0 = ModelBench.processCpuNanos();
          model.embed(w.samples());
          double cpu = (ModelBench.processCpuNanos() - c0) / 1e9;
          double wall = (System.nanoTime() - t0) / 1e9;
          ch.modelCpuS += cpu;
          ch.wallS += wall;
          boolean trulySilent = truthSpeech16k(l, w.startSample(), w.endSample()) < vadSettings.minSpeechFraction() * w.length();
          if (step.decision().skip()) {
            ch.skipped++;
            ch.savedCpuS += cpu;
            ch.savedWallS += wall;
          }
          if (step.decision().skip() == trulySilent) {
            ch.agree++;
          }
        }
        double speechPct = 100.0 * l.speech().stream().mapToLong(s -> s[1] - s[0]).sum() / l.pcm().length;
        System.out.printf(Locale.ROOT, "%7d %6s %7.1f %9.1f %7d %7d %9.3f %11.2f %11.2f %9.3f%n", c, l.noise() ? "noise" : "silent",
            l.pcm().length / (double) RATE, speechPct, ch.windows, ch.skipped, ch.agree / (double) ch.windows, ch.modelCpuS,
            ch.savedCpuS, ch.vadCpuS);
        System.out.flush();
        all.add(ch);
      }
      System.out.printf(Locale.ROOT, "total: %d / %d windows skipped (%.1f %%); model CPU %.2f s of which %.2f s on skipped windows (%.1f %%),"
              + " wall %.1f %%; VAD CPU %.3f s = %.2f %% of the model's CPU on all windows; skip decision agrees with the layout on %.1f %%%n",
          all.skipped, all.windows, 100.0 * all.skipped / all.windows, all.modelCpuS, all.savedCpuS, 100 * all.savedCpuS / all.modelCpuS,
          100 * all.savedWallS / all.wallS, all.vadCpuS, 100 * all.vadCpuS / all.modelCpuS, 100.0 * all.agree / all.windows);
      System.out.printf(Locale.ROOT, "RESULT scenario=vad windows=%d skipped=%d skipped_fraction=%.3f saved_cpu_fraction=%.3f saved_wall_fraction=%.3f"
              + " vad_cpu_fraction_of_model=%.4f decision_agreement=%.3f%n",
          all.windows, all.skipped, all.skipped / (double) all.windows, all.savedCpuS / all.modelCpuS, all.savedWallS / all.wallS,
          all.vadCpuS / all.modelCpuS, all.agree / (double) all.windows);
    }
  }

  /** Windows, skip decisions and seconds of CPU and wall time, of one channel or of all. */
  private static final class Tally {
    int windows;
    int skipped;
    /** Windows whose skip decision matches the layout's truth. */
    int agree;
    double modelCpuS;
    /** Model CPU seconds spent on windows the gate skips. */
    double savedCpuS;
    double vadCpuS;
    double wallS;
    double savedWallS;

    void add(Tally t) {
      windows += t.windows;
      skipped += t.skipped;
      agree += t.agree;
      modelCpuS += t.modelCpuS;
      savedCpuS += t.savedCpuS;
      vadCpuS += t.vadCpuS;
      wallS += t.wallS;
      savedWallS += t.savedWallS;
    }
  }

  /** Samples of [start16k, end16k) inside a prompt, at 16 kHz. */
  private static long truthSpeech16k(Layout l, long start16k, long end16k) {
    long n = 0;
    for (long[] s : l.speech()) {
      n += Math.max(0, Math.min(end16k, 2 * s[1]) - Math.max(start16k, 2 * s[0]));
    }
    return n;
  }

  static List<Path> prompts() throws java.io.IOException {
    for (Path dir : List.of(Path.of("/usr/share/asterisk/sounds/en_US_f_Allison"), Path.of("/usr/share/asterisk/sounds/en"))) {
      if (Files.isDirectory(dir)) {
        try (Stream<Path> s = Files.list(dir)) {
          List<Path> wavs = s.filter(p -> p.toString().endsWith(".wav")).sorted().toList();
          if (!wavs.isEmpty()) {
            return wavs;
          }
        }
      }
    }
    System.err.println("Asterisk prompts not found: apt-get install asterisk-core-sounds-en-wav");
    System.exit(2);
    return List.of();
  }

  /**
   * Talk turns of 2–8 s (prompts back to back; each prompt's whole file counts as speech, its own
   * short leading and trailing silence included) and gaps of 2–12 s, for {@code durationS}.
   */
  static Layout layout(List<Path> prompts, Random r, int durationS, boolean noise, double noiseDbfs) throws java.io.IOException {
    int total = durationS * RATE;
    float[] pcm = new float[total];
    List<long[]> speech = new ArrayList<>();
    int at = r.nextBoolean() ? 0 : (2 + r.nextInt(10)) * RATE;
    fillGap(pcm, 0, at, noise, noiseDbfs, r);
    while (at < total) {
      int turnEnd = Math.min(total, at + (2 + r.nextInt(7)) * RATE);
      while (at < turnEnd) {
        WavFile w = WavFile.read(prompts.get(r.nextInt(prompts.size())));
        if (w.sampleRateHz() != RATE) {
          continue;
        }
        float[] p = w.decodeChannel(0);
        int n = Math.min(p.length, total - at);
        System.arraycopy(p, 0, pcm, at, n);
        speech.add(new long[] {at, at + n});
        at += n;
      }
      int gapEnd = Math.min(total, at + (2 + r.nextInt(11)) * RATE);
      fillGap(pcm, at, gapEnd, noise, noiseDbfs, r);
      at = gapEnd;
    }
    return new Layout(pcm, speech, noise);
  }

  /** Digital silence, or line noise: high-passed (≈ 300 Hz) white noise plus a 50 Hz hum at {@code dbfs} RMS. */
  private static void fillGap(float[] pcm, int from, int to, boolean noise, double dbfs, Random r) {
    if (!noise) {
      return;
    }
    double a = Math.exp(-2 * Math.PI * 300.0 / RATE);
    double rms = Math.pow(10, dbfs / 20);
    double prevIn = 0;
    double prevOut = 0;
    for (int i = from; i < to; i++) {
      double x = r.nextGaussian();
      double y = a * (prevOut + x - prevIn);
      prevIn = x;
      prevOut = y;
      pcm[i] = (float) (rms * (0.9 * y + 0.45 * Math.sin(2 * Math.PI * 50 * i / RATE)));
    }
  }
}
