package io.callvec.model.internal;

import java.nio.FloatBuffer;

/**
 * Hugging Face {@code Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm}: per window, over its real
 * (unpadded) samples, {@code (x - mean) / sqrt(var + 1e-7)} with the population variance. Mean and
 * variance are accumulated in double (Hugging Face uses float32 numpy; the difference is below
 * float32 resolution of the result).
 */
public final class InputNormalizer {
  /** Added to the variance before the square root, as Hugging Face does. */
  public static final double EPSILON = 1e-7;

  private InputNormalizer() {}

  /**
   * Writes {@code window} (normalised when {@code normalize}) into {@code dst} at absolute float
   * index {@code offset}; {@code dst}'s position is not moved.
   *
   * @throws IllegalArgumentException if the window holds NaN or infinite samples
   */
  public static void write(float[] window, boolean normalize, FloatBuffer dst, int offset) {
    int n = window.length;
    double sum = 0;
    for (float v : window) {
      sum += v;
    }
    if (!Double.isFinite(sum)) {
      throw new IllegalArgumentException(
          "window of " + n + " samples holds NaN or infinite values; expected finite samples");
    }
    if (!normalize) {
      dst.put(offset, window, 0, n);
      return;
    }
    double mean = sum / n;
    double ss = 0;
    for (float v : window) {
      double d = v - mean;
      ss += d * d;
    }
    double scale = 1.0 / Math.sqrt(ss / n + EPSILON);
    for (int i = 0; i < n; i++) {
      dst.put(offset + i, (float) ((window[i] - mean) * scale));
    }
  }
}
