package io.callvec.bench;

import io.callvec.audio.AudioDecoder;
import io.callvec.audio.AudioWindow;
import io.callvec.audio.CallAssembler;
import io.callvec.audio.ChannelFrontEnd;
import io.callvec.audio.Encoding;
import io.callvec.audio.FrontEndConfig;
import io.callvec.audio.G711;
import io.callvec.audio.Resampler;
import io.callvec.audio.SampleCodec;
import io.callvec.audio.SampleSink;
import io.callvec.audio.internal.PhaseKernel;
import io.callvec.audio.internal.PolyphaseFilter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Throughput of the audio front end on one thread: 8 kHz mu-law in 20 ms chunks (a few minutes of a
 * generated speech-like signal), through decode, decode + assemble, decode + assemble + resample, and
 * the whole {@link ChannelFrontEnd} (decode + assemble + resample + segment), plus the cost of
 * serialising the front end's state after every chunk (what a state store does). Reports audio
 * seconds processed per wall second (x real time) on one core, the median of several timed passes
 * after warm-up passes.
 *
 * <p>Usage: {@code bench/run frontend [--audio-s 180] [--passes 7] [--warmup 3]}. The last line is
 * {@code RESULT scenario=frontend xrt_per_core=<full chain> ...}.
 */
public final class FrontendBench {

  private static final int RATE = 8000;
  private static final int CHUNK_BYTES = 160; // 20 ms

  private FrontendBench() {}

  public static void main(String[] args) {
    int audioS = 180;
    int passes = 7;
    int warmup = 3;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--audio-s" -> audioS = Integer.parseInt(args[++i]);
        case "--passes" -> passes = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        default -> {
          System.err.println("usage: bench/run frontend [--audio-s 180] [--passes 7] [--warmup 3]");
          System.exit(2);
        }
      }
    }
    byte[] mulaw = speechLikeMulaw(audioS * RATE, 42);
    List<byte[]> chunks = new ArrayList<>();
    for (int off = 0; off < mulaw.length; off += CHUNK_BYTES) {
      chunks.add(Arrays.copyOfRange(mulaw, off, Math.min(mulaw.length, off + CHUNK_BYTES)));
    }
    double audioSeconds = (double) mulaw.length / RATE;
    String load0 = loadAverage();

    List<Stage> stages = List.of(
        new Stage("decode", FrontendBench::decodeOnly),
        new Stage("decode+assemble", FrontendBench::decodeAssemble),
        new Stage("decode+assemble+resample", FrontendBench::decodeAssembleResample),
        new Stage("full: decode+assemble+resample+segment", c -> fullChain(c, false)),
        new Stage("full + toBytes() after every chunk", c -> fullChain(c, true)),
        new Stage("stream: source-rate, toBytes per chunk", c -> streamPath(c, false)),
        new Stage("stream: + fromBytes per chunk (no cache)", c -> streamPath(c, true)),
        new Stage("baseline: naive scalar resampler only", FrontendBench::naiveResampler));

    System.out.printf(Locale.ROOT,
        "Front end, 1 thread: %.0f s of 8 kHz mu-law in %d chunks of 20 ms; %d warm-up + %d timed passes,"
            + " stages interleaved in each pass (median)%n",
        audioSeconds, chunks.size(), warmup, passes);
    System.out.printf(Locale.ROOT, "Resampler: %s%n", new Resampler(RATE).describe());
    long checksum = 0;
    for (int i = 0; i < warmup; i++) {
      for (Stage st : stages) {
        checksum += st.body.run(chunks);
      }
    }
    long[][] ns = new long[stages.size()][passes];
    for (int i = 0; i < passes; i++) {
      for (int s = 0; s < stages.size(); s++) {
        long t0 = System.nanoTime();
        checksum += stages.get(s).body.run(chunks);
        ns[s][i] = System.nanoTime() - t0;
      }
    }
    System.out.printf(Locale.ROOT, "%-42s %12s %14s %12s%n", "stage", "wall ms", "ns per chunk", "x real time");
    double[] xrt = new double[stages.size()];
    for (int s = 0; s < stages.size(); s++) {
      Arrays.sort(ns[s]);
      long median = ns[s][passes / 2];
      xrt[s] = audioSeconds / (median / 1e9);
      System.out.printf(Locale.ROOT, "%-42s %12.2f %14.0f %12.0f%n",
          stages.get(s).name, median / 1e6, (double) median / chunks.size(), xrt[s]);
    }
    System.out.printf(Locale.ROOT, "%nResampler alone by input rate (30 s of noise in 20 ms chunks, 2 warm-up passes, median of 3):%n");
    System.out.printf(Locale.ROOT, "%-10s %-8s %8s %12s%n", "rate Hz", "L/M", "taps", "x real time");
    for (int rate : new int[] {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000}) {
      Resampler probe = new Resampler(rate);
      float[] noise = new float[30 * rate];
      Random rnd = new Random(rate);
      for (int i = 0; i < noise.length; i++) {
        noise[i] = (float) (0.3 * rnd.nextGaussian());
      }
      long[] t = new long[3];
      for (int i = -2; i < t.length; i++) {
        long t0 = System.nanoTime();
        checksum += resampleInChunks(rate, noise);
        if (i >= 0) {
          t[i] = System.nanoTime() - t0;
        }
      }
      Arrays.sort(t);
      String d = probe.describe();
      String lm = d.contains("L/M=") ? d.substring(d.indexOf("L/M=") + 4, d.indexOf(',', d.indexOf("L/M="))) : "1/1";
      String taps = d.contains(" taps") ? d.substring(d.indexOf(", ") + 2, d.indexOf(" taps")) : "0";
      System.out.printf(Locale.ROOT, "%-10d %-8s %8s %12.0f%n", rate, lm, taps, 30.0 / (t[1] / 1e9));
    }
    String load1 = loadAverage();
    System.out.printf(Locale.ROOT,
        "load average (1/5/15 min) before: %s, after: %s (other processes share the cores: compare ratios)%n",
        load0, load1);
    System.out.printf(Locale.ROOT, "full chain vs naive scalar resampler alone: %.2fx%n", xrt[3] / xrt[7]);
    // scalar unless BENCH_JAVA_OPTS asks for the vectorised kernel (-Dcallvec.audio.vector=true)
    String kernel = PhaseKernel.selected().name();
    System.out.printf(Locale.ROOT, "resampler kernel at the end: %s%n", kernel);
    System.out.printf(Locale.ROOT,
        "RESULT scenario=frontend xrt_per_core=%.0f decode_xrt=%.0f assemble_xrt=%.0f resample_xrt=%.0f"
            + " with_state_bytes_xrt=%.0f stream_state_xrt=%.0f stream_state_restored_xrt=%.0f naive_resampler_xrt=%.0f"
            + " input=mulaw_8k chunk_ms=20 audio_s=%.0f load1=%s kernel=%s checksum=%d%n",
        xrt[3], xrt[0], xrt[1], xrt[2], xrt[4], xrt[5], xrt[6], xrt[7], audioSeconds, load1.split(" ")[0], kernel, checksum & 0xFFFF);
  }

  /**
   * The obvious implementation, as a yardstick measured in the same run: decoded samples through the
   * same polyphase filter, one scalar dot product per output sample.
   */
  private static long naiveResampler(List<byte[]> chunks) {
    PolyphaseFilter f = PolyphaseFilter.get(RATE, Resampler.OUTPUT_RATE_HZ);
    int k = f.halfWidth;
    int taps = f.taps;
    float[] h = f.coefficients;
    float[] hist = new float[2 * k + CHUNK_BYTES];
    int histLen = 2 * k - 1; // zeros before the start
    float[] out = new float[2 * CHUNK_BYTES];
    long sum = 0;
    for (byte[] c : chunks) {
      for (byte b : c) {
        hist[histLen++] = G711.mulawToFloat(b & 0xFF);
      }
      int ready = histLen - (2 * k - 1); // inputs a whose taps a-K+1..a+K are all present
      int o = 0;
      for (int a = 0; a < ready; a++) {
        for (int p = 0; p < 2; p++) {
          float acc = 0f;
          int hOff = p * taps;
          int i0 = a + 2 * k - 1;
          for (int j = 0; j < taps; j++) {
            acc += h[hOff + j] * hist[i0 - j];
          }
          out[o++] = acc;
        }
      }
      System.arraycopy(hist, ready, hist, 0, histLen - ready);
      histLen -= ready;
      sum += Float.floatToRawIntBits(out[o - 1]);
    }
    return sum;
  }

  private static long resampleInChunks(int rate, float[] x) {
    Resampler r = new Resampler(rate);
    long[] n = new long[1];
    SampleSink sink = (b, o, l) -> n[0] += l + (Float.floatToRawIntBits(b[o + l - 1]) & 1);
    int chunk = rate / 50;
    for (int off = 0; off < x.length; off += chunk) {
      r.process(x, off, Math.min(chunk, x.length - off), sink);
    }
    r.flush(sink);
    return n[0];
  }

  private record Stage(String name, Body body) {}

  @FunctionalInterface
  private interface Body {
    /** Processes all chunks once; returns something derived from the output (kept live). */
    long run(List<byte[]> chunks);
  }

  private static final class CountingSink implements CallAssembler.Sink {
    long samples;
    float last;

    @Override
    public void startRun(long startSample) {}

    @Override
    public void accept(float[] s, int off, int len) {
      samples += len;
      last = s[off + len - 1];
    }
  }

  private static long decodeOnly(List<byte[]> chunks) {
    float[] buf = new float[CHUNK_BYTES];
    long sum = 0;
    for (byte[] c : chunks) {
      int n = AudioDecoder.decode(Encoding.MULAW, c, 0, c.length, buf, 0, AudioDecoder.DEFAULT_MAX_PAYLOAD_BYTES);
      sum += n + Float.floatToRawIntBits(buf[n - 1]);
    }
    return sum;
  }

  /** Decodes the 20 ms μ-law chunks, in sequence, through a new CallAssembler into {@code sink}. */
  private static void decodeAssembleInto(List<byte[]> chunks, CallAssembler.Sink sink) {
    float[] buf = new float[CHUNK_BYTES];
    CallAssembler a = new CallAssembler(RATE, 500, 1000, 5);
    long seq = 0;
    for (byte[] c : chunks) {
      int n = AudioDecoder.decode(Encoding.MULAW, c, 0, c.length, buf, 0, AudioDecoder.DEFAULT_MAX_PAYLOAD_BYTES);
      a.accept(seq, seq * 20, buf, 0, n, sink);
      seq++;
    }
    a.finish(sink);
  }

  private static long decodeAssemble(List<byte[]> chunks) {
    CountingSink sink = new CountingSink();
    decodeAssembleInto(chunks, sink);
    return sink.samples + Float.floatToRawIntBits(sink.last);
  }

  private static long decodeAssembleResample(List<byte[]> chunks) {
    Resampler r = new Resampler(RATE);
    CountingSink out = new CountingSink();
    CallAssembler.Sink sink = new CallAssembler.Sink() {
      @Override
      public void startRun(long startSample) {}

      @Override
      public void accept(float[] s, int off, int len) {
        r.process(s, off, len, out);
      }
    };
    decodeAssembleInto(chunks, sink);
    r.flush((SampleSink) out);
    return out.samples + Float.floatToRawIntBits(out.last);
  }

  private static long fullChain(List<byte[]> chunks, boolean serialiseState) {
    ChannelFrontEnd fe = ChannelFrontEnd.create(Encoding.MULAW, RATE, FrontEndConfig.DEFAULTS);
    long sum = 0;
    long seq = 0;
    for (byte[] c : chunks) {
      for (AudioWindow w : fe.accept(seq, seq * 20, c)) {
        sum += w.length() + Float.floatToRawIntBits(w.samples()[w.length() - 1]);
      }
      if (serialiseState) {
        sum += fe.toBytes().length;
      }
      seq++;
    }
    for (AudioWindow w : fe.finish()) {
      sum += w.length();
    }
    return sum;
  }

  /**
   * What the stream does per chunk ({@code CallProcessor} with {@code AudioBlocks}): the source-rate
   * front end, its samples encoded losslessly as μ-law codes (the block value), each window rendered
   * to 16 kHz from the run's source samples when it is cut ({@link Resampler#render}), and the front
   * end's state serialised after every chunk (the channel-state write). With {@code restore}, the
   * front end is also rebuilt from that state before every chunk, as on a front-end cache miss.
   * The state store itself (RocksDB, changelog) is not part of this figure.
   */
  private static long streamPath(List<byte[]> chunks, boolean restore) {
    StreamSink sink = new StreamSink();
    ChannelFrontEnd fe = ChannelFrontEnd.createSourceBlocks(Encoding.MULAW, RATE, FrontEndConfig.DEFAULTS);
    long sum = 0;
    long seq = 0;
    for (byte[] c : chunks) {
      if (restore) {
        fe = ChannelFrontEnd.fromBytes(fe.toBytes());
      }
      fe.accept(seq, seq * 20, c, sink);
      sum += fe.toBytes().length;
      seq++;
    }
    fe.finish(sink);
    return sum + sink.checksum;
  }

  /** The stream's block writer and window reader, without a store: the run's source samples in memory. */
  private static final class StreamSink implements ChannelFrontEnd.SourceListener {
    private float[] run = new float[1 << 16];
    private byte[] codes = new byte[1024];
    private long runStart16k = -1;
    private int runLength;
    long checksum;

    @Override
    public void sourceBlock(long runStart16k, long runStartSource, long runOffset, float[] samples, int offset, int length) {
      if (runStart16k != this.runStart16k) {
        this.runStart16k = runStart16k;
        runLength = 0;
      }
      if (codes.length < length) {
        codes = new byte[length];
      }
      if (!SampleCodec.encode(SampleCodec.MULAW, samples, offset, length, codes, 0)) {
        throw new IllegalStateException("μ-law input did not encode back to its codes");
      }
      int at = Math.toIntExact(runOffset);
      if (at + length > run.length) {
        run = Arrays.copyOf(run, Math.max(run.length * 2, at + length));
      }
      System.arraycopy(samples, offset, run, at, length);
      runLength = Math.max(runLength, at + length);
    }

    @Override
    public void window(long index, long startSample, int lengthSamples, boolean partial) {
      float[] out = new float[lengthSamples];
      Resampler.render(RATE, run, 0, runLength, startSample - runStart16k, lengthSamples, out, 0);
      checksum += Float.floatToRawIntBits(out[lengthSamples - 1]);
    }
  }

  /**
   * A speech-like 8 kHz signal as mu-law: voiced syllables (harmonics of a gliding pitch through two
   * formant-like resonances), unvoiced noise bursts, pauses, and background noise.
   */
  static byte[] speechLikeMulaw(int samples, long seed) {
    Random rnd = new Random(seed);
    byte[] out = new byte[samples];
    double phase = 0;
    double syllableEnd = 0;
    double f0 = 140;
    int kind = 0; // 0 pause, 1 voiced, 2 unvoiced
    double lp = 0;
    for (int i = 0; i < samples; i++) {
      double t = (double) i / RATE;
      if (t >= syllableEnd) {
        double r = rnd.nextDouble();
        kind = r < 0.2 ? 0 : r < 0.8 ? 1 : 2;
        syllableEnd = t + 0.08 + 0.25 * rnd.nextDouble();
        f0 = 90 + 150 * rnd.nextDouble();
      }
      double v = 0;
      if (kind == 1) {
        phase += 2 * Math.PI * f0 * (1 + 0.05 * Math.sin(2 * Math.PI * 3 * t)) / RATE;
        for (int h = 1; h * f0 < 3600; h++) {
          double fh = h * f0;
          double formants = 1 / (1 + Math.pow((fh - 700) / 250, 2)) + 0.5 / (1 + Math.pow((fh - 1800) / 300, 2));
          v += formants * Math.sin(h * phase) / Math.sqrt(h);
        }
        v *= 0.2;
      } else if (kind == 2) {
        double n = rnd.nextGaussian();
        lp = 0.3 * lp + 0.7 * n;
        v = 0.05 * (n - lp);
      }
      v += 0.002 * rnd.nextGaussian();
      out[i] = (byte) G711.pcm16ToMulaw((int) Math.round(Math.max(-1, Math.min(1, v)) * 32767));
    }
    return out;
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "n/a";
    }
  }
}
