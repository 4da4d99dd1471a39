package io.callvec.model.vad;

/**
 * Streaming speech/silence labels from per-frame speech probabilities, with onset/offset
 * thresholds and minimum durations ({@link VadOptions}). A frame whose probability argues for a
 * change of state is held until the change is confirmed ({@code minSpeechFrames} consecutive
 * frames at or above the onset threshold, or {@code minSilenceFrames} below the offset threshold)
 * or refuted; then every held frame gets the same label. So labels arrive in order, at most
 * max(minSpeechFrames, minSilenceFrames) frames late, and each frame is labelled exactly once.
 *
 * <p>{@link #accept} and {@link #flush} return the frames decided by that call, encoded as one
 * int: {@code n > 0}: the next n frames are speech; {@code n < 0}: the next −n frames are silence;
 * 0: none decided yet. The whole state is two small numbers ({@link #encode()}, {@link
 * #decode}), to be carried per channel. Not thread-safe: one instance per stream.
 */
public final class SpeechHysteresis {
  private final double onset;
  private final double offset;
  private final int minSpeech;
  private final int minSilence;
  private boolean speech;
  private int held;

  public SpeechHysteresis(VadOptions options) {
    this.onset = options.onsetThreshold();
    this.offset = options.offsetThreshold();
    this.minSpeech = options.minSpeechFrames();
    this.minSilence = options.minSilenceFrames();
  }

  /** Whether the stream is in speech (decided frames). */
  public boolean inSpeech() {
    return speech;
  }

  /** Frames received but not yet labelled. */
  public int heldFrames() {
    return held;
  }

  /** Feeds one frame's speech probability; returns the frames it decided (see class doc). */
  public int accept(float probability) {
    boolean argues = speech ? probability < offset : probability >= onset;
    if (!argues) {
      int n = held + 1; // the held frames were a false alarm: they keep the current label
      held = 0;
      return speech ? n : -n;
    }
    held++;
    if (held >= (speech ? minSilence : minSpeech)) {
      int n = held;
      held = 0;
      speech = !speech;
      return speech ? n : -n;
    }
    return 0;
  }

  /** End of stream: labels the held frames with the current state. */
  public int flush() {
    int n = held;
    held = 0;
    return speech ? n : -n;
  }

  /** The state as one int: bit 31 unused, bit 30 = in speech, bits 0..29 = held frames. */
  public int encode() {
    return (speech ? 1 << 30 : 0) | held;
  }

  /** Restores {@link #encode()}'s value. */
  public void decode(int state) {
    int h = state & ((1 << 30) - 1);
    if (state < 0 || h > Math.max(minSpeech, minSilence)) {
      throw new IllegalArgumentException("not a SpeechHysteresis state for these options: "
          + state);
    }
    speech = (state & (1 << 30)) != 0;
    held = h;
  }
}
