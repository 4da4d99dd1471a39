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
 * <p>The windowing rules are {@link WindowPlanner}'s; this class adds the buffer that holds the audio
 * of the windows being filled.
 *
 * <p><b>Memory:</b> one window plus one hop of floats at most (about 320 KB at 5 s); {@link
 * #toBytes()} stores only the buffered samples.
 */
public final class Segmenter {

  private static final char STATE_KIND = 'S';
  private static final int STATE_VERSION = 2;
  /** Longest window accepted, samples (60 s at 16 kHz). */
  public static final int MAX_WINDOW_SAMPLES = WindowPlanner.MAX_WINDOW_SAMPLES;

  private final WindowPlanner planner;
  /** Audio from {@code bufStart} on; {@code bufStart} trails the planner's next window start. */
  private float[] buf;
  private long bufStart;
  private int bufLen;
  private Consumer<AudioWindow> out;
  private final WindowPlanner.Listener listener = new WindowPlanner.Listener() {
    @Override
    public void block(long startSample, float[] samples, int offset, int length) {
      trim();
      if (buf == null) {
        buf = new float[planner.windowSamples() + planner.hopSamples()];
      }
      if (bufLen == 0) {
        bufStart = startSample;
      }
      System.arraycopy(samples, offset, buf, bufLen, length);
      bufLen += length;
    }

    @Override
    public void window(long index, long startSample, int lengthSamples, boolean partial) {
      int from = (int) (startSample - bufStart);
      out.accept(new AudioWindow(index, startSample, Arrays.copyOfRange(buf, from, from + lengthSamples), partial));
    }
  };

  /**
   * @param windowSamples window length, samples (1 .. {@value #MAX_WINDOW_SAMPLES})
   * @param hopSamples distance between window starts, samples (1 .. windowSamples)
   * @param minFinalSamples shortest final partial window emitted, samples (1 .. windowSamples)
   */
  public Segmenter(int windowSamples, int hopSamples, int minFinalSamples) {
    this(new WindowPlanner(windowSamples, hopSamples, minFinalSamples));
  }

  private Segmenter(WindowPlanner planner) {
    this.planner = planner;
  }

  /** Drops buffered audio before the planner's next window start: no future window needs it. */
  private void trim() {
    long keepFrom = planner.nextWindowStart();
    if (bufLen == 0 || keepFrom <= bufStart) {
      return;
    }
    int drop = (int) Math.min(bufLen, keepFrom - bufStart);
    System.arraycopy(buf, drop, buf, 0, bufLen - drop);
    bufLen -= drop;
    bufStart += drop;
  }

  /**
   * Starts a run of contiguous audio at {@code startSample} (timeline samples), ending the current run
   * first (which may emit its final partial window).
   *
   * @throws IllegalArgumentException if the run would start before the end of the previous one
   */
  public void startRun(long startSample, Consumer<AudioWindow> out) {
    this.out = out;
    planner.startRun(startSample, listener);
    bufLen = 0;
    bufStart = startSample;
  }

  /** Appends samples to the current run, emitting every window they complete. */
  public void accept(float[] input, int offset, int length, Consumer<AudioWindow> out) {
    this.out = out;
    planner.append(input, offset, length, listener);
  }

  /** Ends the current run: emits the final partial window if long enough. No-op without a run. */
  public void endRun(Consumer<AudioWindow> out) {
    this.out = out;
    planner.endRun(listener);
    bufLen = 0;
    bufStart = planner.timelineEnd();
  }

  /** End of the audio accepted so far (or of the last run), timeline samples. */
  public long timelineEnd() {
    return planner.timelineEnd();
  }

  /** Whether a run is open. */
  public boolean isRunOpen() {
    return planner.isRunOpen();
  }

  /** Samples buffered towards the next window. */
  public int bufferedSamples() {
    trim();
    return bufLen;
  }

  /** Windows emitted (full and partial). */
  public long windows() {
    return planner.windows();
  }

  /** Final partial windows emitted. */
  public long partialWindows() {
    return planner.partialWindows();
  }

  /** Samples accepted. */
  public long samples() {
    return planner.samples();
  }

  /** Samples at the ends of runs that were in no window (final partial shorter than the minimum). */
  public long droppedTailSamples() {
    return planner.droppedTailSamples();
  }

  public int windowSamples() {
    return planner.windowSamples();
  }

  public int hopSamples() {
    return planner.hopSamples();
  }

  public int minFinalSamples() {
    return planner.minFinalSamples();
  }

  /** Serialises the state (format version 2): the planner's state and the buffered samples. */
  public byte[] toBytes() {
    StateWriter w = new StateWriter(128 + 4 * bufferedSamples());
    writeTo(w);
    return w.toByteArray();
  }

  void writeTo(StateWriter w) {
    trim();
    w.header(STATE_KIND, STATE_VERSION);
    planner.writeTo(w);
    w.writeFloats(buf == null ? new float[0] : buf, 0, bufLen);
  }

  /**
   * Restores a segmenter written by {@link #toBytes()}.
   *
   * @throws AudioStateException if the blob is not a segmenter state of version 2 or is inconsistent
   */
  public static Segmenter fromBytes(byte[] state) {
    StateReader r = StateReader.of(state, "segmenter state");
    Segmenter s = readFrom(r);
    r.end();
    return s;
  }

  static Segmenter readFrom(StateReader r) {
    r.header(STATE_KIND, STATE_VERSION, "segmenter state");
    Segmenter s = new Segmenter(WindowPlanner.readFrom(r));
    WindowPlanner p = s.planner;
    float[] b = r.readFloats("buffered samples", p.windowSamples() + p.hopSamples());
    r.require(b.length == p.timelineEnd() - p.nextWindowStart(), "buffered samples do not match the planner's cursors");
    s.buf = new float[p.windowSamples() + p.hopSamples()];
    System.arraycopy(b, 0, s.buf, 0, b.length);
    s.bufLen = b.length;
    s.bufStart = p.nextWindowStart();
    return s;
  }
}
