package io.callvec.topology.internals;

/**
 * Cuts one call × channel's 16 kHz timeline into windows, without holding the audio: it only
 * tracks positions (in samples at 16,000 Hz since the start of the stream's media timeline). The
 * audio itself lives in the block store, one block per appended piece, split at window starts so
 * that every window starts on a block boundary.
 *
 * <p>Rules: within a contiguous run (audio with no gap longer than the assembler fills), windows
 * start at {@code runStart + k × hop} and are {@code window} samples long; a window is emitted as
 * soon as its last sample is appended. When the run ends (a long gap starts a new run, or the
 * stream ends), the samples after the last emitted window's end form a final partial window,
 * starting at the next window start, emitted if it has at least {@code minFinal} samples of audio
 * not covered by an earlier window. Windows never span two runs. Each window is emitted once.
 *
 * <p>State: five longs and an int; serialised by {@link ChannelState}.
 */
public final class WindowCutter {
  /** Window length, samples at 16 kHz. */
  private final long windowSamples;
  /** Hop between window starts, samples at 16 kHz. */
  private final long hopSamples;
  /** Shortest final partial window, samples at 16 kHz. */
  private final long minFinalSamples;

  /** Start of the current run, samples; -1 before the first audio. */
  long runStart = -1;
  /** End (exclusive) of the audio appended so far, samples. */
  long writtenEnd = -1;
  /** Start of the next window to emit, samples. */
  long nextWindowStart = -1;
  /** End (exclusive) of the last emitted window, samples; -1 if none in this run. */
  long lastEmittedEnd = -1;
  /** Index of the next segment of the stream (0-based, across runs). */
  int nextSegmentIndex;

  public WindowCutter(long windowSamples, long hopSamples, long minFinalSamples) {
    if (windowSamples <= 0 || hopSamples <= 0 || hopSamples > windowSamples || minFinalSamples < 0) {
      throw new IllegalArgumentException("need 0 < hop <= window and minFinal >= 0 (samples), got window "
          + windowSamples + ", hop " + hopSamples + ", minFinal " + minFinalSamples);
    }
    this.windowSamples = windowSamples;
    this.hopSamples = hopSamples;
    this.minFinalSamples = minFinalSamples;
  }

  /** Receives cut decisions. */
  public interface Listener {
    /** A block of audio to store: {@code length} samples starting at {@code startSample}. */
    void block(long startSample, float[] samples, int offset, int length);

    /** A window is complete: {@code [startSample, startSample + lengthSamples)}. */
    void window(int segmentIndex, long startSample, int lengthSamples);
  }

  /** True before any audio. */
  public boolean isEmpty() {
    return runStart < 0;
  }

  /** Start of the next window to emit (samples), or -1 before any audio: blocks before it are only needed by pending windows. */
  public long nextWindowStart() {
    return nextWindowStart;
  }

  /** End of the audio appended so far (samples, exclusive), or -1 before any audio. */
  public long writtenEnd() {
    return writtenEnd;
  }

  /** Index the next emitted window will get. */
  public int nextSegmentIndex() {
    return nextSegmentIndex;
  }

  /**
   * Appends contiguous audio of the current run. If {@code startSample} is not the current end (or
   * this is the first audio), a new run starts there: the previous run is ended first.
   */
  public void append(long startSample, float[] samples, int offset, int length, Listener out) {
    if (length <= 0) {
      return;
    }
    if (runStart < 0 || startSample != writtenEnd) {
      if (runStart >= 0 && startSample < writtenEnd) {
        throw new IllegalStateException("audio goes back in time: " + startSample + " < " + writtenEnd);
      }
      endRun(out);
      runStart = startSample;
      writtenEnd = startSample;
      nextWindowStart = startSample;
      lastEmittedEnd = -1;
    }
    int done = 0;
    while (done < length) {
      long pos = writtenEnd;
      // Split blocks at window starts (multiples of hop from the run start).
      long sinceRun = pos - runStart;
      long nextBoundary = runStart + (sinceRun / hopSamples + 1) * hopSamples;
      int n = (int) Math.min(length - done, nextBoundary - pos);
      out.block(pos, samples, offset + done, n);
      done += n;
      writtenEnd += n;
      while (writtenEnd - nextWindowStart >= windowSamples) {
        out.window(nextSegmentIndex++, nextWindowStart, (int) windowSamples);
        lastEmittedEnd = nextWindowStart + windowSamples;
        nextWindowStart += hopSamples;
      }
    }
  }

  /** Ends the current run (stream end, or before a new run): emits the final partial window if long enough. */
  public void endRun(Listener out) {
    if (runStart < 0 || writtenEnd <= nextWindowStart) {
      return;
    }
    long fresh = writtenEnd - Math.max(nextWindowStart, lastEmittedEnd);
    long length = writtenEnd - nextWindowStart;
    if (fresh > 0 && length >= minFinalSamples && length > 0) {
      out.window(nextSegmentIndex++, nextWindowStart, (int) length);
      lastEmittedEnd = writtenEnd;
    }
    nextWindowStart = writtenEnd;
  }
}
