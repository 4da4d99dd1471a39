package io.callvec.model.vad;

/**
 * Hysteresis of the speech/silence decision over Silero VAD's per-frame speech probabilities
 * (one frame = 32 ms: 256 samples at 8 kHz, 512 at 16 kHz). See {@link SpeechHysteresis}.
 *
 * @param onsetThreshold probability at or above which a frame counts towards speech onset (0..1)
 * @param offsetThreshold probability below which a frame counts towards speech offset (0..1, at
 *     most the onset threshold)
 * @param minSpeechMs consecutive onset frames needed to enter speech, in ms (shorter bursts stay
 *     silence)
 * @param minSilenceMs consecutive offset frames needed to leave speech, in ms (shorter pauses stay
 *     speech)
 */
public record VadOptions(
    double onsetThreshold, double offsetThreshold, int minSpeechMs, int minSilenceMs) {

  /** Milliseconds per Silero VAD v5 frame at both supported rates. */
  public static final int FRAME_MS = 32;

  /**
   * Onset 0.5, offset 0.35, min speech 250 ms: Silero's own defaults ({@code
   * get_speech_timestamps}: threshold 0.5, negative threshold = threshold − 0.15). Min silence 300
   * ms instead of Silero's 100 ms: a telephone-style hangover, so that pauses inside an utterance
   * stay speech (on the Asterisk-prompt layout of SileroVadTest, 100 ms gave 93–95 % frame
   * agreement, 300 ms 95–96 %).
   */
  public static VadOptions defaults() {
    return new VadOptions(0.5, 0.35, 250, 300);
  }

  public VadOptions {
    if (!(onsetThreshold > 0 && onsetThreshold <= 1)) {
      throw new IllegalArgumentException("onsetThreshold must be in (0, 1], got " + onsetThreshold);
    }
    if (!(offsetThreshold >= 0 && offsetThreshold <= onsetThreshold)) {
      throw new IllegalArgumentException(
          "offsetThreshold must be in [0, onsetThreshold=" + onsetThreshold + "], got "
              + offsetThreshold);
    }
    if (minSpeechMs < 0 || minSilenceMs < 0) {
      throw new IllegalArgumentException(
          "minSpeechMs and minSilenceMs must be >= 0, got " + minSpeechMs + " and " + minSilenceMs);
    }
  }

  /** {@link #minSpeechMs} in frames, rounded up, at least 1. */
  public int minSpeechFrames() {
    return Math.max(1, (minSpeechMs + FRAME_MS - 1) / FRAME_MS);
  }

  /** {@link #minSilenceMs} in frames, rounded up, at least 1. */
  public int minSilenceFrames() {
    return Math.max(1, (minSilenceMs + FRAME_MS - 1) / FRAME_MS);
  }
}
