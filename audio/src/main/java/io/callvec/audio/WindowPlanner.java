package io.callvec.audio;

import io.callvec.audio.internal.StateReader;
import io.callvec.audio.internal.StateWriter;

/**
 * Decides where windows fall on a 16 kHz timeline, without holding any audio: the one place the
 * windowing rules live. {@link Segmenter} adds a buffer to it (offline use, tests); the streaming
 * topology adds a block store instead, so that its per-chunk state stays a few longs.
 *
 * <p>Rules: audio arrives in runs ({@link #startRun}); within a run, windows start at the run's start
 * plus multiples of the hop and are {@code windowSamples} long, and each is announced as soon as its
 * last sample has been appended. At the end of a run ({@link #endRun}, or implicitly at the next
 * {@code startRun}) the audio from the next window start to the run's end is a final partial window,
 * announced if it holds at least {@code minFinalSamples} and some audio no earlier window covered;
 * otherwise its uncovered samples are counted as dropped. Windows never span two runs; each is
 * announced once, with a running index.
 *
 * <p>Appended audio is passed on as <em>blocks</em> split at window starts, so that every window
 * starts on a block boundary: a window is the concatenation of the blocks from its start, cut at its
 * length.
 *
 * <p>All positions are samples at 16 kHz on the call's timeline. Not thread-safe.
 */
public final class WindowPlanner {

  /** Receives the planner's decisions. */
  public interface Listener {
    /** {@code length} samples of the current run, starting at timeline sample {@code startSample}; copy what you keep. */
    void block(long startSample, float[] samples, int offset, int length);

    /** A window is complete: {@code [startSample, startSample + lengthSamples)}; {@code partial} for a run's final partial window. */
    void window(long index, long startSample, int lengthSamples, boolean partial);
  }

  private static final char STATE_KIND = 'P';
  private static final int STATE_VERSION = 1;
  /** Longest window accepted, samples (60 s at 16 kHz). */
  public static final int MAX_WINDOW_SAMPLES = 60 * 16_000;

  private final int windowSamples;
  private final int hopSamples;
  private final int minFinalSamples;

  private boolean runOpen;
  /** Start of the current run, samples. */
  private long runStart;
  /** End of the audio appended so far (of the last run when none is open), samples. */
  private long timelineEnd;
  /** Start of the next window, samples. */
  private long nextWindowStart;
  /** End of the last window announced in the current run (the run start before any), samples. */
  private long coveredUntil;

  private long windows;
  private long partialWindows;
  private long samples;
  private long droppedTailSamples;

  /**
   * @param windowSamples window length, samples (1 .. {@value #MAX_WINDOW_SAMPLES})
   * @param hopSamples distance between window starts, samples (1 .. windowSamples)
   * @param minFinalSamples shortest final partial window announced, samples (1 .. windowSamples)
   */
  public WindowPlanner(int windowSamples, int hopSamples, int minFinalSamples) {
    if (windowSamples < 1 || windowSamples > MAX_WINDOW_SAMPLES) {
      throw new IllegalArgumentException("windowSamples must be in [1, " + MAX_WINDOW_SAMPLES + "], was " + windowSamples);
    }
    if (hopSamples < 1 || hopSamples > windowSamples) {
      throw new IllegalArgumentException("hopSamples must be in [1, windowSamples=" + windowSamples + "], was " + hopSamples);
    }
    if (minFinalSamples < 1 || minFinalSamples > windowSamples) {
      throw new IllegalArgumentException("minFinalSamples must be in [1, windowSamples=" + windowSamples + "], was " + minFinalSamples);
    }
    this.windowSamples = windowSamples;
    this.hopSamples = hopSamples;
    this.minFinalSamples = minFinalSamples;
  }

  /**
   * Starts a run of contiguous audio at {@code startSample}, ending the current run first (which may
   * announce its final partial window).
   *
   * @throws IllegalArgumentException if the run would start before the end of the previous one
   */
  public void startRun(long startSample, Listener out) {
    if (startSample < timelineEnd) {
      throw new IllegalArgumentException("run start " + startSample + " is before the end " + timelineEnd + " of the previous run");
    }
    endRun(out);
    runOpen = true;
    runStart = startSample;
    timelineEnd = startSample;
    nextWindowStart = startSample;
    coveredUntil = startSample;
  }

  /** Appends samples to the current run, announcing every window they complete. */
  public void append(float[] input, int offset, int length, Listener out) {
    if (!runOpen) {
      throw new IllegalStateException("no run is open: call startRun first");
    }
    java.util.Objects.checkFromIndexSize(offset, length, input.length);
    appendInternal(input, offset, length, out);
  }

  /**
   * Advances the current run by {@code length} samples without receiving them (no {@link
   * Listener#block} calls), announcing every window they complete: for a caller that keeps the
   * audio itself in another form (e.g. at the source rate) and only needs the windows' positions.
   */
  public void advance(int length, Listener out) {
    if (!runOpen) {
      throw new IllegalStateException("no run is open: call startRun first");
    }
    if (length < 0) {
      throw new IllegalArgumentException("length must be >= 0, was " + length);
    }
    appendInternal(null, 0, length, out);
  }

  private void appendInternal(float[] input, int offset, int length, Listener out) {
    samples += length;
    int done = 0;
    while (done < length) {
      long nextBoundary = runStart + ((timelineEnd - runStart) / hopSamples + 1) * hopSamples;
      int n = (int) Math.min(length - done, nextBoundary - timelineEnd);
      if (input != null) {
        out.block(timelineEnd, input, offset + done, n);
      }
      done += n;
      timelineEnd += n;
      while (timelineEnd - nextWindowStart >= windowSamples) {
        out.window(windows++, nextWindowStart, windowSamples, false);
        coveredUntil = nextWindowStart + windowSamples;
        nextWindowStart += hopSamples;
      }
    }
  }

  /** Ends the current run: announces the final partial window if long enough. No-op without a run. */
  public void endRun(Listener out) {
    if (!runOpen) {
      return;
    }
    runOpen = false;
    if (timelineEnd > coveredUntil) {
      long length = timelineEnd - nextWindowStart;
      if (length >= minFinalSamples) {
        partialWindows++;
        out.window(windows++, nextWindowStart, (int) length, true);
      } else {
        droppedTailSamples += timelineEnd - coveredUntil;
      }
    }
    nextWindowStart = timelineEnd;
    coveredUntil = timelineEnd;
  }

  /** Start of the next window (samples): audio before it is only needed by windows already announced. */
  public long nextWindowStart() {
    return nextWindowStart;
  }

  /** End of the audio appended so far (or of the last run), timeline samples. */
  public long timelineEnd() {
    return timelineEnd;
  }

  /** Whether a run is open. */
  public boolean isRunOpen() {
    return runOpen;
  }

  /** Windows announced (full and partial). */
  public long windows() {
    return windows;
  }

  /** Final partial windows announced. */
  public long partialWindows() {
    return partialWindows;
  }

  /** Samples appended. */
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

  /** Serialises the state (format version 1): settings, run cursors, counters. About 80 bytes. */
  public byte[] toBytes() {
    StateWriter w = new StateWriter(96);
    writeTo(w);
    return w.toByteArray();
  }

  /** Restores a planner written by {@link #toBytes()}. */
  public static WindowPlanner fromBytes(byte[] state) {
    StateReader r = StateReader.of(state, "window planner state");
    WindowPlanner p = readFrom(r);
    r.end();
    return p;
  }

  void writeTo(StateWriter w) {
    w.header(STATE_KIND, STATE_VERSION)
        .writeInt(windowSamples)
        .writeInt(hopSamples)
        .writeInt(minFinalSamples)
        .writeBoolean(runOpen)
        .writeLong(runStart)
        .writeLong(timelineEnd)
        .writeLong(nextWindowStart)
        .writeLong(coveredUntil)
        .writeLong(windows)
        .writeLong(partialWindows)
        .writeLong(samples)
        .writeLong(droppedTailSamples);
  }

  static WindowPlanner readFrom(StateReader r) {
    r.header(STATE_KIND, STATE_VERSION, "window planner state");
    int w = r.readInt("window (samples)", 1, MAX_WINDOW_SAMPLES);
    int h = r.readInt("hop (samples)", 1, w);
    int m = r.readInt("minimum final window (samples)", 1, w);
    WindowPlanner p = new WindowPlanner(w, h, m);
    p.runOpen = r.readBoolean();
    p.runStart = r.readLong("run start (samples)", 0, Long.MAX_VALUE / 2);
    p.timelineEnd = r.readLong("timeline end (samples)", p.runStart, Long.MAX_VALUE / 2);
    p.nextWindowStart = r.readLong("next window start (samples)", p.runStart, p.timelineEnd);
    p.coveredUntil = r.readLong("covered until (samples)", p.runStart, Long.MAX_VALUE / 2);
    p.windows = r.readLong("windows", 0, Long.MAX_VALUE);
    p.partialWindows = r.readLong("partial windows", 0, p.windows);
    p.samples = r.readLong("samples", 0, Long.MAX_VALUE);
    p.droppedTailSamples = r.readLong("dropped tail samples", 0, Long.MAX_VALUE);
    r.require(p.runOpen || p.nextWindowStart == p.timelineEnd, "no run open but audio after the next window start");
    return p;
  }
}
