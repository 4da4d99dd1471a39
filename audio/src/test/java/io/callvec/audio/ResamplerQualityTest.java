package io.callvec.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Frequency response of the resampler measured with generated sines: passband ripple up to 0.9 x the
 * lower Nyquist frequency, image/alias rejection, and timing (phase) of the output timeline.
 */
class ResamplerQualityTest {

  private static final Logger LOG = LoggerFactory.getLogger(ResamplerQualityTest.class);
  private static final int OUT = Resampler.OUTPUT_RATE_HZ;
  private static final double AMPLITUDE = 0.5;

  @ParameterizedTest
  @ValueSource(ints = {8000, 11025, 12000, 22050, 24000, 32000, 44100, 48000})
  void passbandRippleRejectionAndPhase(int rate) {
    double lowerNyquist = Math.min(rate, OUT) / 2.0;
    int n = rate; // 1 s of input
    int skip = 1600; // 0.1 s of output at each end: edges of an abruptly started sine
    double maxRippleDb = 0;
    double worstRejectionDb = Double.POSITIVE_INFINITY;
    double maxTimeErrorSamples = 0;
    int points = 24;
    for (int k = 0; k <= points; k++) {
      double f = 50 + (0.9 * lowerNyquist - 50) * k / points;
      double phase = 0.3 + k;
      float[] y = Signals.resampleWhole(rate, Signals.sine(f, AMPLITUDE, phase, rate, n));
      assertEquals(Resampler.outputLength(n, rate), y.length);
      double[] fit = Signals.fitSine(y, skip, y.length - skip, f, OUT);
      double gainDb = Signals.db(fit[0] / AMPLITUDE);
      maxRippleDb = Math.max(maxRippleDb, Math.abs(gainDb));
      // everything but the tone itself: images, aliases, numerical noise
      worstRejectionDb = Math.min(worstRejectionDb, -Signals.db(fit[2] / (AMPLITUDE / Math.sqrt(2))));
      // output n must be the input at time n / 16000 s: same phase as the input sine
      double dphi = Math.IEEEremainder(fit[1] - phase, 2 * Math.PI);
      maxTimeErrorSamples = Math.max(maxTimeErrorSamples, Math.abs(dphi / (2 * Math.PI * f) * OUT));
    }
    LOG.info(
        "{} Hz -> 16 kHz: passband ripple (50 .. {} Hz) max |gain| = {} dB; image/alias rejection of"
            + " in-band tones >= {} dB; timing error <= {} output samples",
        rate, String.format("%.0f", 0.9 * lowerNyquist), String.format("%.5f", maxRippleDb),
        String.format("%.1f", worstRejectionDb), String.format("%.2e", maxTimeErrorSamples));
    assertTrue(maxRippleDb <= 0.1, "passband ripple " + maxRippleDb + " dB > 0.1 dB");
    assertTrue(worstRejectionDb >= 80, "image/alias rejection " + worstRejectionDb + " dB < 80 dB");
    assertTrue(maxTimeErrorSamples <= 1e-3, "timing error " + maxTimeErrorSamples + " samples");
  }

  @ParameterizedTest
  @ValueSource(ints = {22050, 24000, 32000, 44100, 48000})
  void tonesAboveTheOutputNyquistAreRejected(int rate) {
    int n = rate;
    double worst = Double.POSITIVE_INFINITY;
    double worstF = 0;
    double[] freqs = {8000, 8050, 8500, 9000, 10000, 12000, 0.45 * rate, 0.49 * rate};
    for (double f : freqs) {
      if (f >= rate / 2.0) {
        continue;
      }
      float[] y = Signals.resampleWhole(rate, Signals.sine(f, AMPLITUDE, 0.1, rate, n));
      double rejection = -Signals.db(Signals.rms(y, 1600, y.length - 1600) / (AMPLITUDE / Math.sqrt(2)));
      if (rejection < worst) {
        worst = rejection;
        worstF = f;
      }
    }
    LOG.info("{} Hz -> 16 kHz: alias rejection of tones above 8 kHz >= {} dB (worst at {} Hz)",
        rate, String.format("%.1f", worst), String.format("%.0f", worstF));
    assertTrue(worst >= 80, "alias rejection " + worst + " dB < 80 dB at " + worstF + " Hz");
  }

  @org.junit.jupiter.api.Test
  void imageOfA1kHzToneAt8kHzIsRejected() {
    float[] y = Signals.resampleWhole(8000, Signals.sine(1000, AMPLITUDE, 0.2, 8000, 8000));
    double tone = Signals.fitSine(y, 1600, y.length - 1600, 1000, OUT)[0];
    double image = Signals.fitSine(y, 1600, y.length - 1600, 7000, OUT)[0];
    double rejectionDb = Signals.db(tone / image);
    LOG.info("8 kHz -> 16 kHz: image of a 1 kHz tone at 7 kHz is {} dB below the tone",
        String.format("%.1f", rejectionDb));
    assertTrue(rejectionDb >= 80, "image rejection " + rejectionDb + " dB");
    assertEquals(0.0, Signals.db(tone / AMPLITUDE), 0.01);
  }
}
