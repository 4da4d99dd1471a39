package io.callvec.audio;

import java.util.Random;

/** Test signals and measurements (generated inside tests, fixed seeds). */
final class Signals {

  private Signals() {}

  /** amplitude * sin(2 pi f t + phase) at rate Hz, n samples. */
  static float[] sine(double freqHz, double amplitude, double phaseRad, int rateHz, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (amplitude * Math.sin(2 * Math.PI * freqHz * i / rateHz + phaseRad));
    }
    return x;
  }

  /** White noise in [-amplitude, amplitude) plus two sines, fixed seed. */
  static float[] noiseAndTones(int rateHz, int n, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (0.3 * (2 * r.nextDouble() - 1)
          + 0.3 * Math.sin(2 * Math.PI * 440.0 * i / rateHz)
          + 0.2 * Math.sin(2 * Math.PI * 0.41 * rateHz * i / rateHz + 1));
    }
    return x;
  }

  /** Least-squares fit of a*sin + b*cos (+ dc) at freqHz over y[from, to); returns {amplitude, phaseRad, residualRms}. */
  static double[] fitSine(float[] y, int from, int to, double freqHz, int rateHz) {
    double sss = 0, scc = 0, ssc = 0, sys = 0, syc = 0;
    for (int i = from; i < to; i++) {
      double w = 2 * Math.PI * freqHz * i / rateHz;
      double s = Math.sin(w);
      double c = Math.cos(w);
      sss += s * s;
      scc += c * c;
      ssc += s * c;
      sys += y[i] * s;
      syc += y[i] * c;
    }
    double det = sss * scc - ssc * ssc;
    double a = (sys * scc - syc * ssc) / det;
    double b = (syc * sss - sys * ssc) / det;
    double res = 0;
    for (int i = from; i < to; i++) {
      double w = 2 * Math.PI * freqHz * i / rateHz;
      double e = y[i] - (a * Math.sin(w) + b * Math.cos(w));
      res += e * e;
    }
    // a sin + b cos = A sin(w + phi): A = hypot(a, b), phi = atan2(b, a)
    return new double[] {Math.hypot(a, b), Math.atan2(b, a), Math.sqrt(res / (to - from))};
  }

  static double rms(float[] y, int from, int to) {
    double s = 0;
    for (int i = from; i < to; i++) {
      s += (double) y[i] * y[i];
    }
    return Math.sqrt(s / (to - from));
  }

  static double db(double ratio) {
    return 20 * Math.log10(ratio);
  }

  /** Resamples x whole: one process call and a flush. */
  static float[] resampleWhole(int rateHz, float[] x) {
    Resampler r = new Resampler(rateHz);
    float[] a = r.process(x);
    float[] b = r.flush();
    float[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
