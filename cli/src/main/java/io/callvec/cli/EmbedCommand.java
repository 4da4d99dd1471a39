package io.callvec.cli;

import io.callvec.app.CallvecConfig;
import io.callvec.app.Settings;
import io.callvec.audio.AudioFormatException;
import io.callvec.audio.AudioWindow;
import io.callvec.audio.ChannelFrontEnd;
import io.callvec.audio.FrontEndConfig;
import io.callvec.audio.Resampler;
import io.callvec.model.EmbeddingModel;
import io.callvec.model.ExecutionProvider;
import io.callvec.model.InferenceException;
import io.callvec.model.ModelInfo;
import io.callvec.model.ModelLoadException;
import io.callvec.model.ModelOptions;
import io.callvec.model.Pooling;
import io.callvec.player.AudioFiles;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.Chunker;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code callvec embed}: embeds a recorded call offline through exactly the path a live stream takes
 * (for backfills of historical recordings, and to check the stream): the file is cut into chunks of
 * {@code --chunk-ms} with sequence numbers 0, 1, ... and media timestamps {@code k * chunk-ms}, fed to
 * the same {@link ChannelFrontEnd} (decode, reassemble, resample to 16 kHz, cut windows with the same
 * window planner), and the windows go through the same {@link EmbeddingModel#embedBatch} in batches of
 * up to {@code --batch} windows of equal length.
 *
 * <p>Output: one JSON object per line and window, in window order (all of channel 0 first, then
 * channel 1, ...): {@code index}, {@code start_sample}/{@code end_sample} (16 kHz samples since the
 * start of the file, end exclusive), {@code start_ms}/{@code end_ms} (the same, ms, rounded down as in
 * the SegmentEmbedding records), {@code partial}, {@code dimension}, {@code vector} (floats printed by
 * {@link Float#toString}, which reads back to the same float), {@code model} ({@code id}, {@code
 * revision}, {@code sha256}) and {@code pooling}; multi-channel WAV input adds {@code channel}. The
 * file is written under a temporary name and renamed when complete, so a failed run leaves no partial
 * output behind.
 *
 * <p>Settings: the front-end and model settings of the streaming app's configuration ({@code
 * --config}, {@code CALLVEC_*}, {@code --set}, as {@code callvec run} reads them), overridden by this
 * command's options. Exit codes: 0 done, 1 a failure (unreadable audio, model, inference, output), 2
 * bad usage.
 */
@Command(
    name = "embed",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Embed a recorded call offline, exactly as the stream would: the file is fed in --chunk-ms chunks through the same"
          + " audio front end, windowing and model runtime, and each window's vector is written as one JSON line.",
      "Window and model settings default to the app's configuration (--config, CALLVEC_*, --set); the options here win.",
      "Example: callvec embed --model models/w2v2.onnx --in call.wav --out call.jsonl"
    })
public final class EmbedCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(EmbedCommand.class);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Mixin ConfigOptions config;

  @Mixin RecordingOptions recording;

  @Option(names = "--model", required = true, paramLabel = "FILE.onnx|fixture",
      description = "ONNX model file, or 'fixture' for the bundled tiny model (random weights: its vectors are NOT meaningful).")
  String model;

  @Option(names = "--in", required = true, paramLabel = "FILE", description = "Recording: WAV (16-bit PCM, mu-law or A-law) or raw mono samples.")
  Path in;

  @Option(names = "--channel", paramLabel = "N",
      description = "Channel of a multi-channel WAV to embed, from 0. Default: every channel, one after the other, with a \"channel\" field.")
  Integer channel;

  @Option(names = "--window-s", paramLabel = "W", description = "Window length, seconds, a whole number of ms (default: callvec.window.ms, 5).")
  Double windowS;

  @Option(names = "--hop-s", paramLabel = "H",
      description = "Hop between window starts, seconds, at most the window (default: callvec.hop.ms, 5; equal to --window-s when the configured hop equals the configured window).")
  Double hopS;

  @Option(names = "--min-final-s", paramLabel = "S", description = "Shortest final partial window, seconds (default: callvec.min.final.window.ms, 1).")
  Double minFinalS;

  @Option(names = "--provider", paramLabel = "auto|cpu|cuda[:n]|tensorrt",
      description = "Execution provider (default: callvec.model.provider, auto).")
  String provider;

  @Option(names = "--threads", paramLabel = "N", description = "ONNX Runtime intra-op threads; 0 = its default (default: callvec.model.intra.op.threads).")
  Integer threads;

  @Option(names = "--batch", paramLabel = "N", description = "Most windows per inference run; only windows of equal length share one (default: callvec.batch.max.windows, 8).")
  Integer batch;

  @Option(names = "--pooling", paramLabel = "mean|mean_std", description = "How frames become one vector (default: callvec.model.pooling, mean).")
  String pooling;

  @Option(names = "--l2", negatable = true, description = "L2-normalise each vector (default: callvec.model.l2.normalize, false).")
  Boolean l2;

  @Option(names = "--out", required = true, paramLabel = "FILE.jsonl", description = "Output, one JSON line per window; '-' writes to stdout (the summary then goes to the log).")
  Path out;

  @Override
  public Integer call() throws IOException {
    CommandLine cl = spec.commandLine();
    // usage problems throw ParameterException (exit 2); failures print one line and return 1
    recording.validate(cl);
    if (!Files.isRegularFile(in)) {
      throw usage("--in " + in + ": no such file");
    }
    boolean toStdout = out.toString().equals("-");
    if (!toStdout) {
      Path dir = out.toAbsolutePath().getParent();
      if (dir != null && !Files.isDirectory(dir)) {
        throw usage("--out " + out + ": folder " + dir + " does not exist");
      }
      if (Files.isDirectory(out)) {
        throw usage("--out " + out + " is a folder: expected a file name");
      }
    }
    AudioFiles.Format fmt;
    try {
      fmt = AudioFiles.formatOf(in, recording.format);
    } catch (IllegalArgumentException e) {
      throw usage("--format: " + e.getMessage());
    }
    CallvecConfig cfg;
    FrontEndConfig feConfig;
    ModelOptions options;
    int batchMax;
    try {
      cfg = config.build(System.getenv(), Map.of());
      feConfig = frontEndConfig(cfg);
      options = modelOptions(cfg);
      batchMax = batch != null ? batch : cfg.getInt(Settings.BATCH_MAX_WINDOWS);
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    if (batchMax < 1) {
      throw usage("--batch must be >= 1, was " + batchMax);
    }

    AudioFiles.Audio audio;
    try {
      audio = AudioFiles.read(in, fmt, recording.rateHz);
    } catch (AudioFormatException e) {
      return fail("cannot read " + in + " as " + fmt.cliName() + ": " + e.getMessage());
    } catch (IOException e) {
      return fail("cannot read " + in + ": " + e);
    }
    if (fmt == AudioFiles.Format.WAV && recording.rateHz != null && recording.rateHz != audio.sampleRateHz()) {
      throw usage("--rate " + recording.rateHz + " does not match the WAV header's " + audio.sampleRateHz() + " Hz");
    }
    List<Integer> channels = new ArrayList<>();
    if (channel != null) {
      if (channel < 0 || channel >= audio.channelCount()) {
        throw usage("--channel " + channel + " does not exist: " + in + " has " + audio.channelCount() + " channel(s)");
      }
      channels.add(channel);
    } else {
      for (int ch = 0; ch < audio.channelCount(); ch++) {
        channels.add(ch);
      }
    }
    boolean channelField = audio.channelCount() > 1;
    // Chunks are an artefact of feeding the file: let a long --chunk-ms through the payload limit.
    long chunkBytesMax = ((long) recording.chunkMs * audio.sampleRateHz() / 1000 + 1) * audio.encoding().bytesPerSample();
    if (chunkBytesMax > feConfig.maxPayloadBytes()) {
      if (chunkBytesMax > 64 << 20) {
        throw usage("--chunk-ms " + recording.chunkMs + " makes chunks of " + chunkBytesMax + " bytes at " + audio.sampleRateHz() + " Hz: at most 64 MiB");
      }
      feConfig = feConfig.withMaxPayloadBytes((int) chunkBytesMax);
    }

    try (EmbeddingModel m = loadModel(options)) {
      ModelInfo info = m.info();
      if (info.sampleRateHz() != Resampler.OUTPUT_RATE_HZ) {
        return fail("the model expects " + info.sampleRateHz() + " Hz input, but the front end produces " + Resampler.OUTPUT_RATE_HZ + " Hz");
      }
      if (feConfig.minFinalWindowSamples() < info.receptiveFieldSamples()) {
        throw usage("the shortest final window, " + feConfig.minFinalWindowMs() + " ms, is shorter than the model's receptive field of "
            + info.receptiveFieldSamples() + " samples (" + info.receptiveFieldSamples() * 1000.0 / info.sampleRateHz()
            + " ms): raise --min-final-s");
      }
      return embed(cl, m, audio, channels, channelField, feConfig, batchMax, toStdout);
    } catch (ModelLoadException e) {
      return fail("cannot load model " + model + ": " + e.getMessage());
    } catch (IOException e) {
      return fail("cannot write " + out + ": " + e);
    }
  }

  private int embed(CommandLine cl, EmbeddingModel m, AudioFiles.Audio audio, List<Integer> channels, boolean channelField,
      FrontEndConfig feConfig, int batchMax, boolean toStdout) throws IOException {
    long expected = 0;
    long samples16k = Resampler.outputLength(audio.samplesPerChannel(), audio.sampleRateHz());
    for (int ignored : channels) {
      expected += expectedWindows(samples16k, feConfig);
    }
    log.info("embedding {} ({}, {} Hz, {} channel(s), {} s) with {} ({} @ {}, dim {}, {} pooling{}, {}): {} ms windows every {} ms,"
            + " about {} windows in batches of up to {}",
        in, audio.encoding().cliName(), audio.sampleRateHz(), audio.channelCount(), String.format(Locale.ROOT, "%.3f", audio.durationSeconds()),
        m.info().source(), m.info().modelId(), m.info().revision(), m.info().dimension(), poolingName(m.info().pooling()),
        m.info().l2Normalized() ? " + L2" : "", m.info().provider(), feConfig.windowMs(), feConfig.hopMs(), expected, batchMax);

    Path tmp = toStdout ? null : out.resolveSibling(out.getFileName() + ".partial");
    Writer w = toStdout ? cl.getOut() : Files.newBufferedWriter(tmp, StandardCharsets.UTF_8);
    Run run = new Run(m, w, batchMax, channelField, expected, audio);
    boolean ok = false;
    try {
      for (int ch : channels) {
        run.channel(ch, ChannelFrontEnd.create(audio.encoding(), audio.sampleRateHz(), feConfig), audio.channels().get(ch));
      }
      w.flush();
      ok = true;
    } catch (InferenceException e) {
      return fail("inference failed: " + e.getMessage());
    } catch (AudioFormatException | NonFiniteVectorException e) {
      return fail(e.getMessage());
    } finally {
      if (!toStdout) {
        w.close();
        if (!ok) {
          Files.deleteIfExists(tmp);
        }
      }
    }
    if (!toStdout) {
      try {
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    double secs = run.elapsedSeconds();
    String summary = String.format(Locale.ROOT,
        "wrote %d windows (%d partial) of %d floats to %s: %d channel(s) of %.3f s %s at %d Hz, model %s @ %s (%s),"
            + " %.2f s, %.1fx real time",
        run.windows, run.partial, m.info().dimension(), toStdout ? "stdout" : out.toString(), channels.size(), audio.durationSeconds(),
        audio.encoding().cliName(), audio.sampleRateHz(), m.info().modelId(), m.info().revision(), m.info().provider(), secs,
        run.audioSeconds / Math.max(secs, 1e-9));
    if (run.windows == 0) {
      log.warn("{}: no window: the audio is shorter than the shortest final window ({} ms)", in, feConfig.minFinalWindowMs());
    }
    if (toStdout) {
      log.info(summary);
    } else {
      PrintWriter stdout = cl.getOut();
      stdout.println(summary);
      stdout.flush();
    }
    return 0;
  }

  /** One run over the selected channels: feeds chunks, batches windows, writes lines, logs progress. */
  private final class Run {
    private final EmbeddingModel model;
    private final Writer writer;
    private final int batchMax;
    private final boolean channelField;
    private final long expectedWindows;
    private final AudioFiles.Audio audio;
    private final String modelJson;
    private final String poolingJson;
    private final long startNs = System.nanoTime();
    private final List<AudioWindow> pending = new ArrayList<>();
    private long lastLogNs = startNs;
    private int currentChannel;
    long windows;
    long partial;
    double audioSeconds;

    Run(EmbeddingModel model, Writer writer, int batchMax, boolean channelField, long expectedWindows, AudioFiles.Audio audio) {
      this.model = model;
      this.writer = writer;
      this.batchMax = batchMax;
      this.channelField = channelField;
      this.expectedWindows = expectedWindows;
      this.audio = audio;
      ModelInfo i = model.info();
      this.modelJson = "{\"id\":" + jsonString(i.modelId()) + ",\"revision\":" + jsonString(i.revision())
          + ",\"sha256\":" + jsonString(i.contentSha256()) + "}";
      this.poolingJson = jsonString(poolingName(i.pooling()));
    }

    void channel(int ch, ChannelFrontEnd fe, byte[] payload) throws InferenceException, IOException {
      currentChannel = ch;
      int bps = audio.encoding().bytesPerSample();
      int rate = audio.sampleRateHz();
      long sourceSamples = payload.length / bps;
      long chunks = Chunker.chunkCount(sourceSamples, recording.chunkMs, rate);
      for (long k = 0; k < chunks; k++) {
        long from = Chunker.chunkStartSample(k, recording.chunkMs, rate);
        long to = Math.min(Chunker.chunkStartSample(k + 1, recording.chunkMs, rate), sourceSamples);
        byte[] chunk = Arrays.copyOfRange(payload, (int) (from * bps), (int) (to * bps));
        for (AudioWindow win : fe.accept(k, k * recording.chunkMs, chunk)) {
          add(win);
        }
        audioSeconds += (double) (to - from) / rate;
        maybeLog();
      }
      for (AudioWindow win : fe.finish()) {
        add(win);
      }
      flush();
      maybeLog();
    }

    private void add(AudioWindow win) throws InferenceException, IOException {
      if (!pending.isEmpty() && pending.get(0).length() != win.length()) {
        flush();
      }
      pending.add(win);
      if (pending.size() >= batchMax) {
        flush();
      }
    }

    private void flush() throws InferenceException, IOException {
      if (pending.isEmpty()) {
        return;
      }
      List<float[]> audio16k = new ArrayList<>(pending.size());
      for (AudioWindow win : pending) {
        audio16k.add(win.samples());
      }
      float[][] vectors = model.embedBatch(audio16k);
      for (int i = 0; i < pending.size(); i++) {
        writeLine(pending.get(i), vectors[i]);
      }
      pending.clear();
    }

    private void writeLine(AudioWindow win, float[] v) throws IOException {
      StringBuilder sb = new StringBuilder(64 + 14 * v.length + modelJson.length());
      sb.append('{');
      if (channelField) {
        sb.append("\"channel\":").append(currentChannel).append(',');
      }
      long start = win.startSample();
      long end = win.endSample();
      sb.append("\"index\":").append(win.index())
          .append(",\"start_sample\":").append(start)
          .append(",\"end_sample\":").append(end)
          .append(",\"start_ms\":").append(start / TopologySettings.SAMPLES_PER_MS_16K)
          .append(",\"end_ms\":").append(end / TopologySettings.SAMPLES_PER_MS_16K)
          .append(",\"partial\":").append(win.partial())
          .append(",\"dimension\":").append(v.length)
          .append(",\"vector\":[");
      for (int i = 0; i < v.length; i++) {
        if (!Float.isFinite(v[i])) {
          throw new NonFiniteVectorException("the model produced " + v[i] + " at element " + i + " of window " + win.index()
              + (channelField ? " of channel " + currentChannel : "") + ": not written (JSON has no such number)");
        }
        if (i > 0) {
          sb.append(',');
        }
        sb.append(Float.toString(v[i]));
      }
      sb.append("],\"model\":").append(modelJson).append(",\"pooling\":").append(poolingJson).append("}\n");
      writer.write(sb.toString());
      windows++;
      if (win.partial()) {
        partial++;
      }
    }

    private void maybeLog() {
      long now = System.nanoTime();
      if (now - lastLogNs >= (long) (recording.progressS * 1e9)) {
        lastLogNs = now;
        double secs = (now - startNs) / 1e9;
        log.info(String.format(Locale.ROOT, "%d / %d windows (%.0f%%), %.1f s of audio in %.1f s: %.1fx real time", windows,
            expectedWindows, expectedWindows == 0 ? 100.0 : 100.0 * windows / expectedWindows, audioSeconds, secs,
            audioSeconds / Math.max(secs, 1e-9)));
      }
    }

    double elapsedSeconds() {
      return (System.nanoTime() - startNs) / 1e9;
    }
  }

  /**
   * Windows the planner cuts from one contiguous run of {@code samples16k} samples starting at 0
   * (what an in-order file gives): full windows every hop, then a final partial window if the rest
   * holds uncovered audio and is at least the minimum.
   */
  static long expectedWindows(long samples16k, FrontEndConfig c) {
    long w = c.windowSamples();
    long h = c.hopSamples();
    long full = samples16k >= w ? (samples16k - w) / h + 1 : 0;
    long next = full * h;
    long covered = full > 0 ? (full - 1) * h + w : 0;
    boolean tail = samples16k > covered && samples16k - next >= c.minFinalWindowSamples();
    return full + (tail ? 1 : 0);
  }

  private FrontEndConfig frontEndConfig(CallvecConfig cfg) {
    FrontEndConfig c = TopologySettings.frontEndConfig(cfg);
    int windowMs = windowS != null ? millis("--window-s", windowS) : c.windowMs();
    // Without --hop-s: keep the configuration's overlap rule (hop = window when they are equal).
    int hopMs = hopS != null ? millis("--hop-s", hopS) : c.hopMs() == c.windowMs() ? windowMs : Math.min(c.hopMs(), windowMs);
    int minFinalMs = minFinalS != null ? millis("--min-final-s", minFinalS) : Math.min(c.minFinalWindowMs(), windowMs);
    if (hopMs > windowMs) {
      throw new IllegalArgumentException("the hop (" + hopMs + " ms) must not exceed the window (" + windowMs + " ms)");
    }
    return c.withWindow(windowMs, hopMs).withMinFinalWindowMs(minFinalMs);
  }

  /** Seconds to whole milliseconds; a value that is not a whole number of ms is rejected. */
  private static int millis(String option, double seconds) {
    double ms = seconds * 1000;
    long rounded = Math.round(ms);
    if (!Double.isFinite(ms) || Math.abs(ms - rounded) > 1e-6 || rounded < 1 || rounded > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(option + " " + seconds + ": expected a positive whole number of milliseconds (e.g. 0.025, 2.5)");
    }
    return (int) rounded;
  }

  private ModelOptions modelOptions(CallvecConfig cfg) {
    String providerSpec = provider != null ? provider : cfg.get(Settings.MODEL_PROVIDER);
    String poolingSpec = pooling != null ? pooling : cfg.get(Settings.MODEL_POOLING);
    ExecutionProvider ep;
    try {
      ep = ExecutionProvider.parse(providerSpec);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--provider: " + e.getMessage());
    }
    return io.callvec.app.CallvecApp.withLayer(cfg, ModelOptions.builder()
        .provider(ep)
        .intraOpThreads(threads != null ? threads : cfg.getInt(Settings.MODEL_INTRA_OP_THREADS))
        .pooling(parsePooling(poolingSpec))
        .l2Normalize(l2 != null ? l2 : cfg.getBoolean(Settings.MODEL_L2_NORMALIZE)))
        .build();
  }

  static Pooling parsePooling(String s) {
    switch (s.trim().toLowerCase(Locale.ROOT).replace('-', '_')) {
      case "mean":
        return Pooling.MEAN;
      case "mean_std":
        return Pooling.MEAN_STD;
      default:
        throw new IllegalArgumentException("--pooling " + s + ": expected mean or mean_std");
    }
  }

  static String poolingName(Pooling p) {
    return p.name().toLowerCase(Locale.ROOT);
  }

  private EmbeddingModel loadModel(ModelOptions options) throws ModelLoadException {
    return io.callvec.app.CallvecApp.openModel(model, options);
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  private int fail(String message) {
    PrintWriter err = spec.commandLine().getErr();
    err.println("callvec embed: " + message);
    err.flush();
    return 1;
  }

  /** A JSON string literal: quotes, backslashes and control characters escaped. */
  static String jsonString(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  /** The model returned NaN or infinity: a vector JSON cannot carry. */
  static final class NonFiniteVectorException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NonFiniteVectorException(String message) {
      super(message);
    }
  }
}
