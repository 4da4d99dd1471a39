package io.callvec.audio;

import io.callvec.audio.internal.StateReader;
import io.callvec.audio.internal.StateWriter;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Cuts a 16 kHz stream into windows of {@code windowSamples} every {@code hopSamples}, each emitted
 * once with its start on the call's timeline. Not thread-safe.
 *
 * <p>Audio arrives in runs ({@link #startRun}): within a run, windows start at the run's start plus
 * multiples of the hop. A new run (after a long gap) starts a fresh window instead of splicing audio
 * across the gap. At the end of a run ({@link #endRun}, or implicitly at the next {@code startRun})
 * the final partial window (the audio from the next window start to the end of the run) is emitted if
 * it holds at least {@code minFinalSamples} and some audio no earlier window covered; otherwise its
 * samples are counted as dropped.
 *
 * <p><b>Defaults</b> (see {@link FrontEndConfig}): 5 s windows, 5 s hop, 1 s minimum final window.
 * wav2vec 2.0's convolutional positional embedding spans 128 frames = 2.56 s, so windows much shorter
 * than that starve each frame of context; at 5 s most frames see their full context. No overlap keeps
 * the model's cost (which dominates the pipeline: tens of GFLOP per audio second) at one pass per audio
 * second; overlapping windows (e.g. 4 s / 2 s) double it for smoother boundaries and can be
 * configured.
 *
 * <p><b>Memory:</b> one window of floats at most (320 KB at 5 s); {@link #toBytes()} stores only the
 * buffered samples.
 */
public final class Segmenter {

  private static final char STATE_KIND = 'S';
  private static final int STATE_VERSION = 1;
  /** Longest window accepted, samples (60 s at 16 kHz). */
  public static final int MAX_WINDOW_SAMPLES = 60 * 16_000;

  private final int windowSamples;
  private final int hopSamples;
  private final int minFinalSamples;

  private float[] buf;
  /** Timeline position of buf[0] = start of the next window, samples. */
  private long bufStart;
  private int bufLen;
  /** End of the last window emitted in the current run (its start before any window). */
  private long coveredUntil;
  private boolean runOpen;

  private long windows;
  private long partialWindows;
  private long samples;
  private long droppedTailSamples;

  /**
   * @param windowSamples window length, samples (1 .. {@value #MAX_WINDOW_SAMPLES})
   * @param hopSamples distance between window starts, samples (1 .. windowSamples)
   * @param minFinalSamples shortest final partial window emitted, samples (1 .. windowSamples)
   */
  public Segmenter(int windowSamples, int hopSamples, int minFinalSamples) {
    if (windowSamples < 1 || windowSamples > MAX_WINDOW_SAMPLES) {
      throw new IllegalArgumentException(
          "windowSamples must be in [1, " + MAX_WINDOW_SAMPLES + "], was " + windowSamples);
    }
    if (hopSamples < 1 || hopSamples > windowSamples) {
      throw new IllegalArgumentException(
          "hopSamples must be in [1, windowSamples=" + windowSamples + "], was " + hopSamples);
    }
    if (minFinalSamples < 1 || minFinalSamples > windowSamples) {
      throw new IllegalArgumentException(
          "minFinalSamples must be in [1, windowSamples=" + windowSamples + "], was " + minFinalSamples);
    }
    this.windowSamples = windowSamples;
    this.hopSamples = hopSamples;
    this.minFinalSamples = minFinalSamples;
  }

  /**
   * Starts a run of contiguous audio at {@code startSample} (timeline samples), ending the current run
   * first (which may emit its final partial window).
   *
   * @throws IllegalArgumentException if the run would start before the end of the previous one
   */
  public void startRun(long startSample, Consumer<AudioWindow> out) {
    long end = bufStart + bufLen;
    if (startSample < end) {
      throw new IllegalArgumentException(
          "run start " + startSample + " is before the end " + end + " of the previous run");
    }
    endRun(out);
    runOpen = true;
    bufStart = startSample;
    bufLen = 0;
    coveredUntil = startSample;
  }

  /** Appends samples to the current run, emitting every window they complete. */
  public void accept(float[] input, int offset, int length, Consumer<AudioWindow> out) {
    if (!runOpen) {
      throw new IllegalStateException("no run is open: call startRun first");
    }
    java.util.Objects.checkFromIndexSize(offset, length, input.length);
    if (buf == null) {
      buf = new float[windowSamples];
    }
    samples += length;
    int pos = offset;
    int left = length;
    while (left > 0) {
      int n = Math.min(left, windowSamples - bufLen);
      System.arraycopy(input, pos, buf, bufLen, n);
      bufLen += n;
      pos += n;
      left -= n;
      if (bufLen == windowSamples) {
        out.accept(new AudioWindow(windows++, bufStart, buf.clone(), false));
        coveredUntil = bufStart + windowSamples;
        int keep = windowSamples - hopSamples;
        System.arraycopy(buf, hopSamples, buf, 0, keep);
        bufLen = keep;
        bufStart += hopSamples;
      }
    }
  }

  /** Ends the current run: emits the final partial window if long enough. No-op without a run. */
  public void endRun(Consumer<AudioWindow> out) {
    if (!runOpen) {
      return;
    }
    runOpen = false;
    long end = bufStart + bufLen;
    if (end > coveredUntil) {
      if (bufLen >= minFinalSamples) {
        partialWindows++;
        out.accept(new AudioWindow(windows++, bufStart, Arrays.copyOf(buf, bufLen), true));
      } else {
        droppedTailSamples += end - coveredUntil;
      }
    }
    bufStart = end;
    bufLen = 0;
  }

  /** End of the audio accepted so far (or of the last run), timeline samples. */
  public long timelineEnd() {
    return bufStart + bufLen;
  }

  /** Whether a run is open. */
  public boolean isRunOpen() {
    return runOpen;
  }

  /** Samples buffered towards the next window. */
  public int bufferedSamples() {
    return bufLen;
  }

  /** Windows emitted (full and partial). */
  public long windows() {
    return windows;
  }

  /** Final partial windows emitted. */
  public long partialWindows() {
    return partialWindows;
  }

  /** Samples accepted. */
  public long samples() {
    return samples;
  }

  /** Samples at the ends of runs that were in no window (final partial shorter than the minimum). */
  public long droppedTailSamples() {
    return droppedTailSamples;
  }

  public int windowSamples() {
    return windowSamples;
  }

  public int hopSamples() {
    return hopSamples;
  }

  public int minFinalSamples() {
    return minFinalSamples;
  }

  /** Serialises the state (format version 1): settings, run cursors, counters, buffered samples. */
  public byte[] toBytes() {
    StateWriter w = new StateWriter(96 + 4 * bufLen);
    writeTo(w);
    return w.toByteArray();
  }

  void writeTo(StateWriter w) {
    w.header(STATE_KIND, STATE_VERSION)
        .writeInt(windowSamples)
        .writeInt(hopSamples)
        .writeInt(minFinalSamples)
        .writeBoolean(runOpen)
        .writeLong(bufStart)
        .writeLong(coveredUntil)
        .writeLong(windows)
        .writeLong(partialWindows)
        .writeLong(samples)
        .writeLong(droppedTailSamples)
        .writeFloats(buf == null ? new float[0] : buf, 0, bufLen);
  }

  /**
   * Restores a segmenter written by {@link #toBytes()}.
   *
   * @throws AudioStateException if the blob is not a segmenter state of version 1 or is inconsistent
   */
  public static Segmenter fromBytes(byte[] state) {
    StateReader r = StateReader.of(state, "segmenter state");
    Segmenter s = readFrom(r);
    r.end();
    return s;
  }

  static Segmenter readFrom(StateReader r) {
    r.header(STATE_KIND, STATE_VERSION, "segmenter state");
    int w = r.readInt("window (samples)", 1, MAX_WINDOW_SAMPLES);
    int h = r.readInt("hop (samples)", 1, w);
    int m = r.readInt("minimum final window (samples)", 1, w);
    Segmenter s = new Segmenter(w, h, m);
    s.runOpen = r.readBoolean();
    s.bufStart = r.readLong("next window start (samples)", 0, Long.MAX_VALUE / 2);
    s.coveredUntil = r.readLong("covered until (samples)", 0, Long.MAX_VALUE / 2);
    s.windows = r.readLong("windows", 0, Long.MAX_VALUE);
    s.partialWindows = r.readLong("partial windows", 0, s.windows);
    s.samples = r.readLong("samples", 0, Long.MAX_VALUE);
    s.droppedTailSamples = r.readLong("dropped tail samples", 0, Long.MAX_VALUE);
    float[] b = r.readFloats("buffered samples", w - 1);
    r.require(s.runOpen || b.length == 0, "samples buffered outside a run");
    s.buf = new float[w];
    System.arraycopy(b, 0, s.buf, 0, b.length);
    s.bufLen = b.length;
    return s;
  }
}
