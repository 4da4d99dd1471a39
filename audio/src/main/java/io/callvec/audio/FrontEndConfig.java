package io.callvec.audio;

/**
 * Settings of a {@link ChannelFrontEnd}. Units are in the names; {@link #DEFAULTS} documents the
 * defaults and why.
 *
 * @param maxPayloadBytes largest chunk payload accepted, bytes (default 256 KiB; see {@link
 *     AudioDecoder#DEFAULT_MAX_PAYLOAD_BYTES})
 * @param reorderLatenessMs how long, in audio time, a gap waits for late chunks before it is filled or
 *     breaks the run, ms (default 500: 25 frames of 20 ms)
 * @param maxGapFillMs longest gap filled with silence, ms (default 1000); a longer gap starts a new run
 *     and the segmenter a fresh window
 * @param timestampToleranceMs timestamp jitter absorbed when a chunk follows the previous audio, ms
 *     (default 5: a quarter of a 20 ms frame, so a lost frame still shows as a gap)
 * @param windowMs window length, ms (default 5000; see {@link Segmenter} for why)
 * @param hopMs distance between window starts, ms (default 5000: no overlap)
 * @param minFinalWindowMs shortest final partial window emitted at the end of a run, ms (default 1000)
 */
public record FrontEndConfig(
    int maxPayloadBytes,
    int reorderLatenessMs,
    int maxGapFillMs,
    int timestampToleranceMs,
    int windowMs,
    int hopMs,
    int minFinalWindowMs) {

  /** 256 KiB payloads, 500 ms lateness, 1000 ms max gap fill, 5 ms tolerance, 5 s / 5 s windows, 1 s minimum final. */
  public static final FrontEndConfig DEFAULTS =
      new FrontEndConfig(AudioDecoder.DEFAULT_MAX_PAYLOAD_BYTES, 500, 1000, 5, 5000, 5000, 1000);

  /** Longest duration setting, ms (1 hour). */
  static final int MAX_MS = 3_600_000;

  public FrontEndConfig {
    check("maxPayloadBytes", maxPayloadBytes, 1, 64 << 20);
    check("reorderLatenessMs", reorderLatenessMs, 0, MAX_MS);
    check("maxGapFillMs", maxGapFillMs, 0, MAX_MS);
    check("timestampToleranceMs", timestampToleranceMs, 0, 1000);
    check("windowMs", windowMs, 1, Segmenter.MAX_WINDOW_SAMPLES / 16);
    check("hopMs", hopMs, 1, windowMs);
    check("minFinalWindowMs", minFinalWindowMs, 1, windowMs);
  }

  private static void check(String name, int v, int min, int max) {
    if (v < min || v > max) {
      throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "], was " + v);
    }
  }

  /** Window length at 16 kHz, samples. */
  public int windowSamples() {
    return windowMs * 16;
  }

  /** Hop at 16 kHz, samples. */
  public int hopSamples() {
    return hopMs * 16;
  }

  /** Minimum final window at 16 kHz, samples. */
  public int minFinalWindowSamples() {
    return minFinalWindowMs * 16;
  }

  public FrontEndConfig withMaxPayloadBytes(int v) {
    return new FrontEndConfig(v, reorderLatenessMs, maxGapFillMs, timestampToleranceMs, windowMs, hopMs, minFinalWindowMs);
  }

  public FrontEndConfig withReorderLatenessMs(int v) {
    return new FrontEndConfig(maxPayloadBytes, v, maxGapFillMs, timestampToleranceMs, windowMs, hopMs, minFinalWindowMs);
  }

  public FrontEndConfig withMaxGapFillMs(int v) {
    return new FrontEndConfig(maxPayloadBytes, reorderLatenessMs, v, timestampToleranceMs, windowMs, hopMs, minFinalWindowMs);
  }

  public FrontEndConfig withTimestampToleranceMs(int v) {
    return new FrontEndConfig(maxPayloadBytes, reorderLatenessMs, maxGapFillMs, v, windowMs, hopMs, minFinalWindowMs);
  }

  /** Window and hop together (the hop must not exceed the window; the minimum final window is capped). */
  public FrontEndConfig withWindow(int newWindowMs, int newHopMs) {
    return new FrontEndConfig(maxPayloadBytes, reorderLatenessMs, maxGapFillMs, timestampToleranceMs,
        newWindowMs, newHopMs, Math.min(minFinalWindowMs, newWindowMs));
  }

  public FrontEndConfig withMinFinalWindowMs(int v) {
    return new FrontEndConfig(maxPayloadBytes, reorderLatenessMs, maxGapFillMs, timestampToleranceMs, windowMs, hopMs, v);
  }
}
