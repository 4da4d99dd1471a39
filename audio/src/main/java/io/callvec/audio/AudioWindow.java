package io.callvec.audio;

/**
 * A window of 16 kHz audio cut by the {@link Segmenter}: what the model embeds.
 *
 * @param index the window's number within its call x channel, from 0 (windows are emitted once each,
 *     in timeline order)
 * @param startSample the window's first sample on the call's timeline: 16 kHz samples since call
 *     start (timestamp 0)
 * @param samples the audio, 16 kHz mono floats in [-1, 1] (the window length, or fewer for a final
 *     partial window); owned by the receiver
 * @param partial whether this is the final, shorter window of a run (end of stream or before a long
 *     gap)
 */
public record AudioWindow(long index, long startSample, float[] samples, boolean partial) {

  /** The sample rate of windows, Hz. */
  public static final int SAMPLE_RATE_HZ = Resampler.OUTPUT_RATE_HZ;

  /** Number of samples. */
  public int length() {
    return samples.length;
  }

  /** End of the window on the call's timeline (exclusive), 16 kHz samples since call start. */
  public long endSample() {
    return startSample + samples.length;
  }

  /** Start on the call's timeline, ms since call start (rounded down). */
  public long startMs() {
    return startSample * 1000 / SAMPLE_RATE_HZ;
  }

  /** Duration, ms (rounded down). */
  public long durationMs() {
    return samples.length * 1000L / SAMPLE_RATE_HZ;
  }

  @Override
  public String toString() {
    return "AudioWindow[index=" + index + ", startSample=" + startSample + ", samples=" + samples.length
        + (partial ? ", partial" : "") + "]";
  }
}
