package io.callvec.audio;

import io.callvec.audio.AudioFormatException.Reason;
import io.callvec.audio.internal.PhaseKernel;
import io.callvec.audio.internal.PolyphaseFilter;
import io.callvec.audio.internal.StateReader;
import io.callvec.audio.internal.StateWriter;
import java.util.Arrays;

/**
 * Streaming band-limited resampler from an input rate to {@value #OUTPUT_RATE_HZ} Hz: rational
 * {@code L/M} polyphase windowed-sinc (Kaiser) filter with precomputed, shared tables; 16 kHz input
 * passes through as a bit-exact copy.
 *
 * <p><b>Filter.</b> See {@link PolyphaseFilter}: passband to 0.92 x the lower Nyquist frequency (ripple
 * far below 0.1 dB), stopband from 0.99 x it with at least 80 dB rejection, linear phase. For 8 kHz
 * input that is 154 taps per phase (K = 77 input samples each side), passband 3680 Hz, stopband 3960
 * Hz. {@link #describe()} prints the design of an instance.
 *
 * <p><b>Timeline.</b> Output sample {@code n} corresponds to input time {@code n / 16000} s (sample
 * {@code n * inRate / 16000} of the input): the filter's group delay is compensated, as in sox and
 * torchaudio. Input before the first sample and after the last is taken as silence. Outputs are
 * produced as soon as all their inputs are present, i.e. the resampler holds back the last
 * {@link #latencyInputSamples()} input samples (K: 9.6 ms at 8 kHz) until more input or {@link
 * #flush}. After {@code flush}, the total output length is {@link #outputLength(long, int)} =
 * {@code round(inputSamples * 16000 / inRate)} (halves rounded up).
 *
 * <p><b>Chunking.</b> Each output is computed with the same float arithmetic (taps accumulated in
 * order, starting from 0) whatever the chunking, so resampling a signal chunk by chunk gives
 * bit-identical samples to resampling it whole, and a state restored by {@link #fromBytes} continues
 * bit-identically. The integer-ratio inner loops (8 and 4 kHz input) run in a {@link PhaseKernel}:
 * plain Java, or vectorised where asked for ({@code -Dcallvec.audio.vector=true} with {@code
 * --add-modules jdk.incubator.vector}); every kernel gives the same bits.
 *
 * <p><b>State</b> ({@link #toBytes}): rate, counters and the last 2K input samples at most (about 0.6
 * KiB at 8 kHz). Not thread-safe: one instance per call x channel.
 */
public final class Resampler {

  /** The output rate, Hz. */
  public static final int OUTPUT_RATE_HZ = 16_000;
  /** Lowest supported input rate, Hz. */
  public static final int MIN_INPUT_RATE_HZ = 4_000;
  /** Highest supported input rate, Hz. */
  public static final int MAX_INPUT_RATE_HZ = 192_000;

  private static final char STATE_KIND = 'R';
  private static final int STATE_VERSION = 1;
  /** Outputs computed per block, samples. */
  private static final int BLOCK_SAMPLES = 1024;

  private final int inputRateHz;
  /** Null for 16 kHz input (pass-through). */
  private final PolyphaseFilter filter;
  private final int up;
  private final int down;
  private final int halfWidth;
  private final int taps;
  private final float[] h;

  /** Input history: absolute input indices [bufStart, bufStart + bufLen). */
  private float[] buf;
  private long bufStart;
  private int bufLen;
  /** Input samples consumed since the start (or the last reset), samples. */
  private long inputSamples;
  /** Output samples produced since the start (or the last reset), samples. */
  private long outputSamples;
  private boolean flushed;

  /** Output block handed to the sink; allocated at the first output, no larger than needed (≤ {@value #BLOCK_SAMPLES}). */
  private float[] out = new float[0];
  /**
   * Per-phase accumulators of {@link #computeIntegerRatio}, grown on demand, shared by the resamplers
   * of one thread: only used inside that method, which calls out to nothing, so a front end restored
   * from its state for every chunk does not allocate them again each time.
   */
  private static final ThreadLocal<float[][]> PHASE_ACC = ThreadLocal.withInitial(() -> new float[0][0]);
  /** The inner loops of {@link #computeIntegerRatio}: plain Java unless the vectorised kernel is asked for. */
  private static final PhaseKernel KERNEL = PhaseKernel.selected();
  private final int[] groupIndex = new int[4];
  private final int[] groupOffset = new int[4];

  /**
   * A resampler from {@code inputRateHz} to 16 kHz.
   *
   * @throws AudioFormatException ({@link Reason#UNSUPPORTED_SAMPLE_RATE}) if the rate is outside
   *     [{@value #MIN_INPUT_RATE_HZ}, {@value #MAX_INPUT_RATE_HZ}] Hz or needs too large a table
   *     (rates whose gcd with 16000 is tiny, e.g. 44057 Hz)
   */
  public Resampler(int inputRateHz) {
    if (inputRateHz < MIN_INPUT_RATE_HZ || inputRateHz > MAX_INPUT_RATE_HZ) {
      throw new AudioFormatException(
          Reason.UNSUPPORTED_SAMPLE_RATE,
          "input rate " + inputRateHz + " Hz is outside [" + MIN_INPUT_RATE_HZ + ", " + MAX_INPUT_RATE_HZ + "] Hz");
    }
    this.inputRateHz = inputRateHz;
    if (inputRateHz == OUTPUT_RATE_HZ) {
      this.filter = null;
      this.up = 1;
      this.down = 1;
      this.halfWidth = 0;
      this.taps = 0;
      this.h = new float[0];
    } else {
      try {
        this.filter = PolyphaseFilter.get(inputRateHz, OUTPUT_RATE_HZ);
      } catch (IllegalArgumentException e) {
        throw new AudioFormatException(
            Reason.UNSUPPORTED_SAMPLE_RATE, "input rate " + inputRateHz + " Hz: " + e.getMessage());
      }
      this.up = filter.up;
      this.down = filter.down;
      this.halfWidth = filter.halfWidth;
      this.taps = filter.taps;
      this.h = filter.coefficients;
    }
    reset();
  }

  /**
   * Forgets all input and starts a fresh stream (a new timeline starting at output sample 0), as a
   * new instance would.
   */
  public void reset() {
    inputSamples = 0;
    outputSamples = 0;
    flushed = false;
    if (filter == null) {
      buf = new float[0];
      bufStart = 0;
      bufLen = 0;
    } else {
      // Inputs before index 0 are silence: the first output needs indices down to -(K - 1).
      if (buf == null || buf.length < 4 * taps) {
        buf = new float[4 * taps + 512];
      }
      bufStart = -(halfWidth - 1);
      bufLen = halfWidth - 1;
      Arrays.fill(buf, 0, bufLen, 0f);
    }
  }

  /** The input rate, Hz. */
  public int inputRateHz() {
    return inputRateHz;
  }

  /** Input samples consumed since the start or the last {@link #reset()}. */
  public long inputSamples() {
    return inputSamples;
  }

  /** Output samples (16 kHz) produced since the start or the last {@link #reset()}. */
  public long outputSamples() {
    return outputSamples;
  }

  /** Input samples held back until more input arrives or {@link #flush}: K (0 for pass-through). */
  public int latencyInputSamples() {
    return halfWidth;
  }

  /** Whether {@link #flush} has been called (and {@link #reset()} not since). */
  public boolean isFlushed() {
    return flushed;
  }

  /**
   * The number of output samples a stream of {@code inputSamples} input samples yields in total
   * (after {@link #flush}): {@code round(inputSamples * 16000 / inputRateHz)}, halves rounded up.
   */
  public static long outputLength(long inputSamples, int inputRateHz) {
    if (inputSamples < 0) {
      throw new IllegalArgumentException("inputSamples must be >= 0, was " + inputSamples);
    }
    int g = PolyphaseFilter.gcd(inputRateHz, OUTPUT_RATE_HZ);
    long l = OUTPUT_RATE_HZ / g;
    long m = inputRateHz / g;
    return Math.floorDiv(2 * inputSamples * l + m, 2 * m);
  }

  /**
   * Outputs ready after {@code inputSamples} inputs of a stream that is not flushed: those whose
   * inputs are all present (as {@link #process} emits them). With {@link #outputLength} (after
   * {@link #flush}) this lets a caller follow the output count without resampling.
   */
  public static long readyOutputs(long inputSamples, int inputRateHz) {
    PolyphaseFilter f = filterOf(inputRateHz);
    if (f == null) {
      return inputSamples;
    }
    long x = inputSamples - f.halfWidth;
    return x <= 0 ? 0 : Math.floorDiv(x * f.up + f.down - 1, f.down);
  }

  /** The shared table of a validated rate (null for pass-through); allocates nothing when cached. */
  private static PolyphaseFilter filterOf(int inputRateHz) {
    if (inputRateHz < MIN_INPUT_RATE_HZ || inputRateHz > MAX_INPUT_RATE_HZ) {
      throw new AudioFormatException(
          Reason.UNSUPPORTED_SAMPLE_RATE,
          "input rate " + inputRateHz + " Hz is outside [" + MIN_INPUT_RATE_HZ + ", " + MAX_INPUT_RATE_HZ + "] Hz");
    }
    if (inputRateHz == OUTPUT_RATE_HZ) {
      return null;
    }
    try {
      return PolyphaseFilter.get(inputRateHz, OUTPUT_RATE_HZ);
    } catch (IllegalArgumentException e) {
      throw new AudioFormatException(Reason.UNSUPPORTED_SAMPLE_RATE, "input rate " + inputRateHz + " Hz: " + e.getMessage());
    }
  }

  /**
   * The input samples [{@code result[0]}, {@code result[1]}) that outputs [{@code firstOutput},
   * {@code endOutput}) of a stream read (indices from the stream's start; may reach before 0 or past
   * the end, where the input counts as silence).
   */
  public static long[] inputSpan(long firstOutput, long endOutput, int inputRateHz) {
    if (endOutput <= firstOutput) {
      throw new IllegalArgumentException("empty output range [" + firstOutput + ", " + endOutput + ")");
    }
    PolyphaseFilter f = filterOf(inputRateHz);
    if (f == null) {
      return new long[] {firstOutput, endOutput};
    }
    return new long[] {
      Math.floorDiv(firstOutput * f.down, f.up) - f.halfWidth + 1,
      Math.floorDiv((endOutput - 1) * f.down, f.up) + f.halfWidth + 1
    };
  }

  /**
   * Computes outputs [{@code firstOutput}, {@code firstOutput + count}) of a stream (one run, from
   * its {@link #reset()}) from its input samples, bit-identical to what {@link #process} and {@link
   * #flush} produce for them: the entry point for audio kept at the source rate and resampled only
   * when a window is cut.
   *
   * @param input the stream's input samples [{@code inputStart}, {@code inputStart + inputLength})
   *     (indices from the stream's start); inputs outside that range are taken as silence, so it must
   *     hold every existing input of {@link #inputSpan} (before 0 and after the stream's end there is
   *     none)
   * @param out receives the outputs from {@code outOffset}
   */
  public static void render(
      int inputRateHz, float[] input, long inputStart, int inputLength, long firstOutput, int count, float[] out, int outOffset) {
    java.util.Objects.checkFromIndexSize(0, inputLength, input.length);
    java.util.Objects.checkFromIndexSize(outOffset, count, out.length);
    if (firstOutput < 0) {
      throw new IllegalArgumentException("firstOutput must be >= 0, was " + firstOutput);
    }
    if (count == 0) {
      return;
    }
    long[] span = inputSpan(firstOutput, firstOutput + count, inputRateHz);
    int n = Math.toIntExact(span[1] - span[0]);
    float[] window = new float[n];
    long from = Math.max(span[0], inputStart);
    long to = Math.min(span[1], inputStart + inputLength);
    if (to > from) {
      System.arraycopy(input, (int) (from - inputStart), window, (int) (from - span[0]), (int) (to - from));
    }
    Resampler r = new Resampler(inputRateHz);
    if (r.filter == null) {
      System.arraycopy(window, 0, out, outOffset, count);
      return;
    }
    r.buf = window;
    r.bufStart = span[0];
    r.bufLen = n;
    r.outputSamples = firstOutput;
    int[] at = {outOffset};
    r.produce(firstOutput + count, (samples, offset, length) -> {
      System.arraycopy(samples, offset, out, at[0], length);
      at[0] += length;
    });
  }

  /** A one-line description of the filter design. */
  public String describe() {
    return inputRateHz + " -> " + OUTPUT_RATE_HZ + " Hz: "
        + (filter == null ? "pass-through (bit-exact copy)" : filter + (down == 1 ? ", kernel " + KERNEL.name() : ""));
  }

  /**
   * Consumes {@code length} input samples and pushes every output sample that has become computable
   * to {@code sink} (in order, in one or more calls; none if none is ready yet).
   *
   * @throws IllegalStateException after {@link #flush} (call {@link #reset()} to start a new stream)
   */
  public void process(float[] input, int offset, int length, SampleSink sink) {
    if (flushed) {
      throw new IllegalStateException("resampler was flushed: reset() it before processing a new stream");
    }
    java.util.Objects.checkFromIndexSize(offset, length, input.length);
    if (length == 0) {
      return;
    }
    if (filter == null) {
      inputSamples += length;
      outputSamples += length;
      sink.accept(input, offset, length);
      return;
    }
    append(input, offset, length);
    inputSamples += length;
    long x = inputSamples - halfWidth; // outputs with a(n) < x have all their inputs
    long end = x <= 0 ? 0 : Math.floorDiv(x * up + down - 1, down);
    produce(end, sink);
    compact();
  }

  /** Convenience: {@link #process(float[], int, int, SampleSink)} collecting the output into a new array. */
  public float[] process(float[] input) {
    Collector c = new Collector();
    process(input, 0, input.length, c);
    return c.toArray();
  }

  /**
   * Ends the stream: emits the remaining outputs (treating input after the end as silence) so that the
   * total output is {@link #outputLength(long, int)} samples. Further {@link #process} calls throw
   * until {@link #reset()}.
   */
  public void flush(SampleSink sink) {
    if (flushed) {
      return;
    }
    flushed = true;
    long total = outputLength(inputSamples, inputRateHz);
    if (filter == null || total <= outputSamples) {
      return;
    }
    long needEnd = Math.floorDiv((total - 1) * down, up) + halfWidth + 1; // exclusive input index
    long have = bufStart + bufLen;
    if (needEnd > have) {
      int zeros = Math.toIntExact(needEnd - have);
      ensureCapacity(zeros);
      Arrays.fill(buf, bufLen, bufLen + zeros, 0f);
      bufLen += zeros;
    }
    produce(total, sink);
    compact();
  }

  /** Convenience: {@link #flush(SampleSink)} collecting the output into a new array. */
  public float[] flush() {
    Collector c = new Collector();
    flush(c);
    return c.toArray();
  }

  // ---------------------------------------------------------------------------------------------

  private void append(float[] input, int offset, int length) {
    ensureCapacity(length);
    System.arraycopy(input, offset, buf, bufLen, length);
    bufLen += length;
  }

  private void ensureCapacity(int extra) {
    if (bufLen + extra > buf.length) {
      compact();
      if (bufLen + extra > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, bufLen + extra));
      }
    }
  }

  /** Drops inputs no future output needs (those before a(outputSamples) - K + 1). */
  private void compact() {
    long firstNeeded = Math.floorDiv(outputSamples * down, up) - halfWidth + 1;
    int drop = (int) Math.min(bufLen, firstNeeded - bufStart);
    if (drop > 0) {
      System.arraycopy(buf, drop, buf, 0, bufLen - drop);
      bufLen -= drop;
      bufStart += drop;
    }
  }

  private void produce(long end, SampleSink sink) {
    while (outputSamples < end) {
      int count = (int) Math.min(BLOCK_SAMPLES, end - outputSamples);
      if (out.length < count) {
        out = new float[Math.min(BLOCK_SAMPLES, Math.max(count, 2 * out.length))];
      }
      if (down == 1) {
        computeIntegerRatio(outputSamples, count);
      } else {
        computeGeneral(outputSamples, count);
      }
      outputSamples += count;
      sink.accept(out, 0, count);
    }
  }

  /**
   * M = 1 (8 kHz, 4 kHz): the outputs of one phase have consecutive base indices, so the phases are
   * computed for a whole block of outputs at once by the {@link PhaseKernel} (taps added in order j =
   * 0..T-1 starting from 0 per output, exactly as {@link #computeGeneral} does), then interleaved.
   */
  private void computeIntegerRatio(long n0, int count) {
    long aStart = Math.floorDiv(n0, (long) up);
    long aEnd = Math.floorDiv(n0 + count - 1, (long) up);
    int na = (int) (aEnd - aStart + 1);
    int base = (int) (aStart + halfWidth - bufStart); // buffer index of tap 0 for a = aStart
    float[][] acc = PHASE_ACC.get();
    if (acc.length < up || acc[0].length < na) {
      acc = new float[Math.max(up, acc.length)][Math.max(na, BLOCK_SAMPLES / up + 1)];
      PHASE_ACC.set(acc);
    }
    KERNEL.run(buf, base, h, taps, up, na, acc);
    // Output n = up * a + p lands at out[n - n0]; the first and last a may have phases outside the block.
    int shift = (int) (up * aStart - n0); // in (-up, 0]
    for (int p = 0; p < up; p++) {
      float[] y = acc[p];
      int qFirst = shift + p < 0 ? 1 : 0;
      int qEnd = Math.min(na, Math.floorDiv(count - 1 - shift - p, up) + 1);
      for (int q = qFirst, o = shift + p + up * qFirst; q < qEnd; q++, o += up) {
        out[o] = y[q];
      }
    }
  }

  /** Any L/M: each output is a dot product of its phase's taps with the history, 4 outputs at a time. */
  private void computeGeneral(long n0, int count) {
    float[] x = buf;
    long pos = n0 * down;
    long a = Math.floorDiv(pos, (long) up);
    int p = (int) (pos - a * up);
    int i = 0;
    int[] idx = groupIndex;
    int[] off = groupOffset;
    while (i < count) {
      int group = Math.min(4, count - i);
      for (int g = 0; g < group; g++) {
        idx[g] = (int) (a + halfWidth - bufStart);
        off[g] = p * taps;
        p += down;
        a += p / up;
        p %= up;
      }
      if (group == 4) {
        int i0 = idx[0], i1 = idx[1], i2 = idx[2], i3 = idx[3];
        int o0 = off[0], o1 = off[1], o2 = off[2], o3 = off[3];
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        for (int j = 0; j < taps; j++) {
          s0 += h[o0 + j] * x[i0 - j];
          s1 += h[o1 + j] * x[i1 - j];
          s2 += h[o2 + j] * x[i2 - j];
          s3 += h[o3 + j] * x[i3 - j];
        }
        out[i] = s0;
        out[i + 1] = s1;
        out[i + 2] = s2;
        out[i + 3] = s3;
      } else {
        for (int g = 0; g < group; g++) {
          int ii = idx[g];
          int oo = off[g];
          float s = 0f;
          for (int j = 0; j < taps; j++) {
            s += h[oo + j] * x[ii - j];
          }
          out[i + g] = s;
        }
      }
      i += group;
    }
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Serialises the state (format version 1): input rate, filter half-width, counters, flushed flag and
   * the input history still needed (at most about 2K + 1 samples), floats bit-exact.
   */
  public byte[] toBytes() {
    StateWriter w = new StateWriter(48 + 4 * bufLen);
    writeTo(w);
    return w.toByteArray();
  }

  void writeTo(StateWriter w) {
    w.header(STATE_KIND, STATE_VERSION)
        .writeInt(inputRateHz)
        .writeInt(halfWidth)
        .writeLong(inputSamples)
        .writeLong(outputSamples)
        .writeBoolean(flushed)
        .writeLong(bufStart)
        .writeFloats(buf, 0, bufLen);
  }

  /**
   * Restores a resampler written by {@link #toBytes()}; it continues bit-identically.
   *
   * @throws AudioStateException if the blob is not a resampler state of format version 1, is truncated
   *     or inconsistent, or was written by a build whose filter design differs (different taps)
   */
  public static Resampler fromBytes(byte[] state) {
    StateReader r = StateReader.of(state, "resampler state");
    Resampler res = readFrom(r);
    r.end();
    return res;
  }

  static Resampler readFrom(StateReader r) {
    r.header(STATE_KIND, STATE_VERSION, "resampler state");
    int rate = r.readInt("input rate (Hz)", MIN_INPUT_RATE_HZ, MAX_INPUT_RATE_HZ);
    Resampler res;
    try {
      res = new Resampler(rate);
    } catch (AudioFormatException e) {
      throw new AudioStateException("resampler state names an unsupported rate: " + e.getMessage());
    }
    int k = r.readInt();
    r.require(
        k == res.halfWidth,
        "written with a filter of half-width K=" + k + " input samples, this build's " + rate
            + " Hz filter has K=" + res.halfWidth + " (filter design changed: start the stream afresh)");
    long in = r.readLong("input samples", 0, Long.MAX_VALUE / 4 / Math.max(1, res.up));
    long outS = r.readLong("output samples", 0, Long.MAX_VALUE / 4 / Math.max(1, res.down));
    boolean fl = r.readBoolean();
    long start = r.readLong();
    float[] hist = r.readFloats("history", 1 << 24);
    if (res.filter == null) {
      r.require(in == outS && hist.length == 0, "pass-through state with input " + in + " != output " + outS);
    } else {
      long firstNeeded = Math.floorDiv(outS * res.down, res.up) - res.halfWidth + 1;
      if (fl) {
        r.require(
            outS == outputLength(in, rate),
            "flushed state with " + outS + " outputs for " + in + " inputs (expected " + outputLength(in, rate) + ")");
      } else {
        long x = in - res.halfWidth;
        long ready = x <= 0 ? 0 : Math.floorDiv(x * res.up + res.down - 1, res.down);
        r.require(outS == ready, "output count " + outS + " does not match input count " + in + " (expected " + ready + ")");
        r.require(
            start <= firstNeeded,
            "history starts at input " + start + " but the next output needs input " + firstNeeded);
        r.require(
            start + hist.length == in,
            "history ends at input " + (start + hist.length) + " but " + in + " samples were consumed");
      }
      res.buf = Arrays.copyOf(hist, Math.max(hist.length * 2, 4 * res.taps + 512));
      res.bufLen = hist.length;
      res.bufStart = start;
    }
    res.inputSamples = in;
    res.outputSamples = outS;
    res.flushed = fl;
    return res;
  }

  /** Collects pushed samples into a growing array. */
  static final class Collector implements SampleSink {
    private float[] data = new float[256];
    private int size;

    @Override
    public void accept(float[] samples, int offset, int length) {
      if (size + length > data.length) {
        data = Arrays.copyOf(data, Math.max(data.length * 2, size + length));
      }
      System.arraycopy(samples, offset, data, size, length);
      size += length;
    }

    float[] toArray() {
      return Arrays.copyOf(data, size);
    }
  }
}
