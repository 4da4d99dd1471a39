package io.callvec.audio;

import java.util.SplittableRandom;

/**
 * Deterministic speech-like test audio: voiced "syllables" (a glottal pulse train with a wandering
 * pitch of 90–260 Hz, shaped by three formant resonators), short unvoiced bursts, pauses, and a low
 * noise floor. Not speech, but it has speech's spectrum, rhythm and level, which is what the front
 * end and the load tests need. The same seed gives the same samples.
 */
public final class SyntheticSpeech {
  private SyntheticSpeech() {}

  /**
   * Generates {@code durationMs} of audio at {@code sampleRateHz}.
   *
   * @return samples in [-1, 1), peak around 0.5
   */
  public static float[] generate(long seed, int sampleRateHz, long durationMs) {
    int n = (int) (durationMs * sampleRateHz / 1000);
    float[] out = new float[n];
    SplittableRandom rnd = new SplittableRandom(seed);
    double basePitchHz = 90 + rnd.nextDouble() * 170;
    int i = 0;
    double phase = 0;
    Resonator[] formants = new Resonator[3];
    while (i < n) {
      // A syllable of 120–320 ms, or a pause of 80–600 ms.
      boolean pause = rnd.nextDouble() < 0.25;
      int len = (int) ((pause ? 80 + rnd.nextDouble() * 520 : 120 + rnd.nextDouble() * 200) * sampleRateHz / 1000);
      len = Math.min(len, n - i);
      if (pause) {
        for (int k = 0; k < len; k++) {
          out[i + k] = (float) (0.002 * (rnd.nextDouble() * 2 - 1));
        }
        i += len;
        continue;
      }
      boolean unvoiced = rnd.nextDouble() < 0.2;
      double f1 = 300 + rnd.nextDouble() * 500;
      double f2 = 900 + rnd.nextDouble() * 1400;
      double f3 = 2300 + rnd.nextDouble() * 700;
      formants[0] = new Resonator(f1, 80, sampleRateHz);
      formants[1] = new Resonator(Math.min(f2, 0.45 * sampleRateHz), 120, sampleRateHz);
      formants[2] = new Resonator(Math.min(f3, 0.45 * sampleRateHz), 200, sampleRateHz);
      double pitchStart = basePitchHz * (0.85 + 0.3 * rnd.nextDouble());
      double pitchEnd = basePitchHz * (0.85 + 0.3 * rnd.nextDouble());
      double level = 0.15 + 0.25 * rnd.nextDouble();
      for (int k = 0; k < len; k++) {
        double t = (double) k / len;
        double env = Math.sin(Math.PI * t);
        double excitation;
        if (unvoiced) {
          excitation = (rnd.nextDouble() * 2 - 1) * 0.3;
        } else {
          double pitch = pitchStart + (pitchEnd - pitchStart) * t;
          phase += pitch / sampleRateHz;
          if (phase >= 1) {
            phase -= 1;
          }
          // Rosenberg-like glottal pulse: fast rise, faster fall, closed phase.
          excitation = phase < 0.4 ? Math.sin(Math.PI * phase / 0.4) : phase < 0.55 ? Math.cos(Math.PI * (phase - 0.4) / 0.3) : 0;
          excitation += 0.01 * (rnd.nextDouble() * 2 - 1);
        }
        double y = 0;
        for (Resonator r : formants) {
          y += r.next(excitation);
        }
        out[i + k] = (float) Math.max(-0.99, Math.min(0.99, level * env * y));
      }
      i += len;
    }
    return out;
  }

  /** A two-pole resonator at {@code freqHz} with bandwidth {@code bwHz}, normalised to unit gain at resonance. */
  private static final class Resonator {
    private final double a1;
    private final double a2;
    private final double gain;
    private double y1;
    private double y2;

    Resonator(double freqHz, double bwHz, int rateHz) {
      double r = Math.exp(-Math.PI * bwHz / rateHz);
      a1 = 2 * r * Math.cos(2 * Math.PI * freqHz / rateHz);
      a2 = -r * r;
      gain = (1 - r) * 0.5;
    }

    double next(double x) {
      double y = gain * x + a1 * y1 + a2 * y2;
      y2 = y1;
      y1 = y;
      return y;
    }
  }
}
