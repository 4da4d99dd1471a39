package io.callvec.topology;

import io.callvec.model.vad.SileroVad;
import java.util.Objects;

/**
 * What the topology needs for voice activity detection: its settings and, when enabled, the JVM's
 * one {@link SileroVad} (opened and closed by the app, shared by every task and stream thread).
 *
 * @param settings {@code callvec.vad.*}
 * @param vad the VAD model; null exactly when {@code settings.enabled()} is false
 */
public record SpeechDetection(VadSettings settings, SileroVad vad) {
  private static final SpeechDetection OFF = new SpeechDetection(VadSettings.OFF, null);

  public SpeechDetection {
    Objects.requireNonNull(settings, "settings");
    if (settings.enabled() != (vad != null)) {
      throw new IllegalArgumentException(settings.enabled() ? "VAD enabled but no SileroVad given" : "VAD disabled but a SileroVad given");
    }
  }

  /** No VAD: every window goes to the model, as before the VAD existed. */
  public static SpeechDetection off() {
    return OFF;
  }

  public boolean enabled() {
    return settings.enabled();
  }
}
