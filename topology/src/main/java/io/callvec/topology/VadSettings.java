package io.callvec.topology;

import io.callvec.app.CallvecConfig;
import io.callvec.app.Settings;
import io.callvec.model.vad.VadOptions;
import java.util.Objects;

/**
 * The voice-activity settings of the topology ({@code callvec.vad.*}).
 *
 * @param enabled whether the stream runs the VAD at all; false gives output identical to a build
 *     without it ({@code speechSamples16k} null, duration-weighted call embeddings)
 * @param minSpeechFraction a window whose speech samples are below this fraction of its real
 *     samples is skipped (not sent to the model); in (0, 1], so every embedded window has speech
 *     and a positive weight in the speech-weighted call embedding
 * @param options hysteresis thresholds and minimum durations over Silero's frame probabilities
 */
public record VadSettings(boolean enabled, double minSpeechFraction, VadOptions options) {
  /** VAD off. */
  public static final VadSettings OFF = new VadSettings(false, 0.2, VadOptions.defaults());

  public VadSettings {
    Objects.requireNonNull(options, "options");
    if (!(minSpeechFraction > 0 && minSpeechFraction <= 1)) {
      throw new IllegalArgumentException("minSpeechFraction must be in (0, 1], got " + minSpeechFraction);
    }
  }

  /**
   * From the configuration.
   *
   * @throws CallvecConfig.ConfigException naming the key of a bad value
   */
  public static VadSettings from(CallvecConfig c) {
    double fraction = number(c, Settings.VAD_MIN_SPEECH_FRACTION);
    if (!(fraction > 0 && fraction <= 1)) {
      throw new CallvecConfig.ConfigException("setting '" + Settings.VAD_MIN_SPEECH_FRACTION.key() + "' must be in (0, 1], got " + c.get(Settings.VAD_MIN_SPEECH_FRACTION));
    }
    VadOptions options;
    try {
      options = new VadOptions(number(c, Settings.VAD_ONSET), number(c, Settings.VAD_OFFSET),
          c.getInt(Settings.VAD_MIN_SPEECH_MS), c.getInt(Settings.VAD_MIN_SILENCE_MS));
    } catch (IllegalArgumentException e) {
      throw new CallvecConfig.ConfigException("invalid VAD settings (" + Settings.VAD_ONSET.key() + ", " + Settings.VAD_OFFSET.key() + ", "
          + Settings.VAD_MIN_SPEECH_MS.key() + ", " + Settings.VAD_MIN_SILENCE_MS.key() + "): " + e.getMessage());
    }
    return new VadSettings(c.getBoolean(Settings.VAD_ENABLED), fraction, options);
  }

  private static double number(CallvecConfig c, Settings s) {
    String v = c.get(s);
    try {
      return Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw new CallvecConfig.ConfigException("setting '" + s.key() + "' must be a number, got '" + v + "'");
    }
  }
}
