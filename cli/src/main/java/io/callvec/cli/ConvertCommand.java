package io.callvec.cli;

import io.callvec.audio.AudioChunk;
import io.callvec.audio.AudioFormatException;
import io.callvec.audio.AudioWindow;
import io.callvec.audio.ChannelFrontEnd;
import io.callvec.audio.Encoding;
import io.callvec.audio.FrontEndConfig;
import io.callvec.audio.FrontEndCounters;
import io.callvec.audio.Resampler;
import io.callvec.audio.WavFile;
import io.callvec.audio.WavWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code callvec convert}: feeds an audio file through the front end exactly as a live stream would
 * arrive (chunks of {@code --chunk-ms} with sequence numbers 0, 1, ... and media timestamps
 * {@code k * chunk-ms}), and writes the 16 kHz mono WAV the model hears: the windows laid out on the
 * call's timeline (overlaps written once; a final tail shorter than the minimum window is not heard,
 * so it is not written).
 */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    description = {
      "Feed an audio file through the audio front end (decode, reassemble, resample, segment) in",
      "stream-sized chunks and write the 16 kHz mono WAV the model hears."
    })
public final class ConvertCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--in", required = true, paramLabel = "FILE", description = "Input file.")
  Path in;

  @Option(
      names = "--format",
      required = true,
      paramLabel = "FORMAT",
      description = "Input format: mulaw | alaw | pcm16le (raw, headerless) | wav (PCM16, mu-law or A-law WAV).")
  String format;

  @Option(
      names = "--rate",
      paramLabel = "HZ",
      description = "Sample rate of raw input, Hz (default 8000). For wav it is read from the header; if given it must match.")
  Integer rateHz;

  @Option(names = "--chunk-ms", defaultValue = "20", paramLabel = "MS", description = "Chunk duration, ms (default ${DEFAULT-VALUE}).")
  int chunkMs;

  @Option(names = "--channel", paramLabel = "N", description = "Channel of a multi-channel WAV to use, from 0 (required for stereo).")
  Integer channel;

  @Option(names = "--out", required = true, paramLabel = "FILE.wav", description = "Output WAV: 16 kHz mono.")
  Path out;

  @Option(names = "--float", description = "Write 32-bit float samples instead of 16-bit PCM.")
  boolean float32;

  @Option(names = "--window-ms", defaultValue = "5000", paramLabel = "MS", description = "Window length, ms (default ${DEFAULT-VALUE}).")
  int windowMs;

  @Option(names = "--hop-ms", defaultValue = "5000", paramLabel = "MS", description = "Hop between windows, ms (default ${DEFAULT-VALUE}).")
  int hopMs;

  @Option(names = "--min-final-ms", defaultValue = "1000", paramLabel = "MS", description = "Shortest final window, ms (default ${DEFAULT-VALUE}).")
  int minFinalMs;

  @Override
  public Integer call() throws IOException {
    CommandLine cl = spec.commandLine();
    if (chunkMs < 1 || chunkMs > 60_000) {
      throw new CommandLine.ParameterException(cl, "--chunk-ms must be in [1, 60000], was " + chunkMs);
    }
    if (!Files.isRegularFile(in)) {
      throw new CommandLine.ParameterException(cl, "--in " + in + ": no such file");
    }
    String fmt = format.trim().toLowerCase(Locale.ROOT);
    Encoding encoding;
    int rate;
    byte[] payload;
    try {
      if (fmt.equals("wav")) {
        WavFile wav = WavFile.read(in);
        if (rateHz != null && rateHz != wav.sampleRateHz()) {
          throw new CommandLine.ParameterException(cl,
              "--rate " + rateHz + " does not match the WAV header's " + wav.sampleRateHz() + " Hz");
        }
        int ch = 0;
        if (wav.channels() > 1) {
          if (channel == null) {
            throw new CommandLine.ParameterException(cl, in + " has " + wav.channels()
                + " channels: choose one with --channel 0.." + (wav.channels() - 1));
          }
          ch = channel;
        }
        if (ch < 0 || ch >= wav.channels()) {
          throw new CommandLine.ParameterException(cl,
              "--channel " + ch + " does not exist: " + in + " has " + wav.channels() + " channel(s)");
        }
        encoding = wav.encoding();
        rate = wav.sampleRateHz();
        payload = wav.channelData(ch);
      } else {
        try {
          encoding = Encoding.parse(fmt);
        } catch (AudioFormatException e) {
          throw new CommandLine.ParameterException(cl,
              "--format " + format + ": expected mulaw, alaw, pcm16le or wav");
        }
        rate = rateHz == null ? 8000 : rateHz;
        payload = Files.readAllBytes(in);
        if (payload.length % encoding.bytesPerSample() != 0) {
          throw new AudioFormatException(AudioFormatException.Reason.PARTIAL_SAMPLE,
              in + " holds " + payload.length + " bytes: not a whole number of " + encoding + " samples");
        }
      }
      if (payload.length == 0) {
        throw new AudioFormatException(AudioFormatException.Reason.EMPTY_PAYLOAD, in + " holds no audio");
      }
      return convert(encoding, rate, payload, cl.getOut());
    } catch (AudioFormatException e) {
      cl.getErr().println("callvec convert: " + e.getMessage());
      return 1;
    }
  }

  private int convert(Encoding encoding, int rate, byte[] payload, PrintWriter stdout) throws IOException {
    int bps = encoding.bytesPerSample();
    long sourceSamples = payload.length / bps;
    long chunkBytesMax = ((long) chunkMs * rate / 1000 + 1) * bps;
    FrontEndConfig config;
    try {
      config = FrontEndConfig.DEFAULTS
          .withWindow(windowMs, hopMs)
          .withMinFinalWindowMs(minFinalMs)
          .withMaxPayloadBytes((int) Math.max(FrontEndConfig.DEFAULTS.maxPayloadBytes(), Math.min(chunkBytesMax, 64 << 20)));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    ChannelFrontEnd fe = ChannelFrontEnd.create(encoding, rate, config);
    WavWriter.SampleFormat sf = float32 ? WavWriter.SampleFormat.FLOAT32 : WavWriter.SampleFormat.PCM16;
    long chunks = 0;
    try (WavWriter w = WavWriter.create(out, Resampler.OUTPUT_RATE_HZ, sf)) {
      Timeline timeline = new Timeline(w);
      for (long k = 0; ; k++) {
        long from = k * chunkMs * rate / 1000;
        long to = Math.min((k + 1) * chunkMs * rate / 1000, sourceSamples);
        if (from >= sourceSamples) {
          break;
        }
        if (to <= from) {
          continue; // chunk-ms shorter than one sample
        }
        byte[] chunk = Arrays.copyOfRange(payload, (int) (from * bps), (int) (to * bps));
        timeline.write(fe.accept(new AudioChunk(k, k * chunkMs, encoding, rate, chunk)));
        chunks++;
      }
      timeline.write(fe.finish());
      FrontEndCounters c = fe.counters();
      long written = w.samplesWritten();
      stdout.printf(Locale.ROOT,
          "wrote %s: %d Hz mono %s, %d samples (%.3f s) from %d %s samples at %d Hz in %d chunks of %d ms;"
              + " %d windows (%d partial), %d tail samples not heard%n",
          out, Resampler.OUTPUT_RATE_HZ, sf, written, written / (double) Resampler.OUTPUT_RATE_HZ,
          sourceSamples, encoding.cliName(), rate, chunks, chunkMs, c.windows(), c.partialWindows(),
          c.droppedTailSamples());
      stdout.flush();
    }
    return 0;
  }

  /** Lays windows out on the call's timeline: gaps as silence, overlaps written once. */
  private static final class Timeline {
    private final WavWriter writer;

    Timeline(WavWriter writer) {
      this.writer = writer;
    }

    void write(List<AudioWindow> windows) throws IOException {
      for (AudioWindow win : windows) {
        long end = writer.samplesWritten();
        if (win.startSample() > end) {
          writer.writeSilence(win.startSample() - end);
          end = win.startSample();
        }
        int skip = (int) Math.min(win.length(), end - win.startSample());
        writer.write(win.samples(), skip, win.length() - skip);
      }
    }
  }
}
