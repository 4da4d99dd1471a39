package io.callvec.audio.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PhaseKernel} with the JDK's vector API ({@code jdk.incubator.vector}): each output's sum
 * stays in a vector register across all taps (the scalar kernel goes through memory once per three
 * taps), two blocks of outputs per phase at a time so that the additions of one tap do not wait on
 * each other. Unaligned loads straight from the input history, no copies.
 *
 * <p>Only loaded by {@link PhaseKernel#select} when the JVM has the module and the kernel is asked for;
 * not worth it below 256-bit vectors (measured slower than the scalar kernel with 128-bit SSE), so
 * {@link #createIfWorthwhile} declines there. Fast only once C2 has compiled {@link #run}'s loops
 * (see {@link PhaseKernel}).
 */
final class VectorPhaseKernel extends PhaseKernel {

  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  /** Lanes per vector: 16 with AVX-512, 8 with AVX2. */
  private static final int L = S.length();
  private static final int MIN_LANES = 8;

  private VectorPhaseKernel() {}

  /** The kernel, or null if this CPU's vectors are narrower than 256 bits. */
  static VectorPhaseKernel createIfWorthwhile() {
    return L >= MIN_LANES ? new VectorPhaseKernel() : null;
  }

  @Override
  public String name() {
    return "vector-" + S.vectorBitSize();
  }

  @Override
  public void run(float[] x, int base, float[] h, int taps, int up, int na, float[][] acc) {
    if (up == 2) {
      twoPhases(x, base, h, taps, na, acc[0], acc[1]);
    } else {
      for (int p = 0; p < up; p++) {
        onePhase(x, base, h, p * taps, taps, na, acc[p]);
      }
    }
  }

  private static void twoPhases(float[] x, int base, float[] h, int taps, int na, float[] y0, float[] y1) {
    int q = 0;
    for (; q + 2 * L <= na; q += 2 * L) {
      FloatVector a0 = FloatVector.zero(S);
      FloatVector a1 = FloatVector.zero(S);
      FloatVector b0 = FloatVector.zero(S);
      FloatVector b1 = FloatVector.zero(S);
      int b = base + q;
      for (int j = 0; j < taps; j++) {
        float c = h[j];
        float d = h[taps + j];
        FloatVector x0 = FloatVector.fromArray(S, x, b - j);
        FloatVector x1 = FloatVector.fromArray(S, x, b - j + L);
        a0 = a0.add(x0.mul(c));
        a1 = a1.add(x1.mul(c));
        b0 = b0.add(x0.mul(d));
        b1 = b1.add(x1.mul(d));
      }
      a0.intoArray(y0, q);
      a1.intoArray(y0, q + L);
      b0.intoArray(y1, q);
      b1.intoArray(y1, q + L);
    }
    for (; q < na; q++) {
      float s0 = 0f;
      float s1 = 0f;
      for (int j = 0; j < taps; j++) {
        float xv = x[base - j + q];
        s0 += h[j] * xv;
        s1 += h[taps + j] * xv;
      }
      y0[q] = s0;
      y1[q] = s1;
    }
  }

  private static void onePhase(float[] x, int base, float[] h, int hOff, int taps, int na, float[] y) {
    int q = 0;
    for (; q + 2 * L <= na; q += 2 * L) {
      FloatVector a0 = FloatVector.zero(S);
      FloatVector a1 = FloatVector.zero(S);
      int b = base + q;
      for (int j = 0; j < taps; j++) {
        float c = h[hOff + j];
        a0 = a0.add(FloatVector.fromArray(S, x, b - j).mul(c));
        a1 = a1.add(FloatVector.fromArray(S, x, b - j + L).mul(c));
      }
      a0.intoArray(y, q);
      a1.intoArray(y, q + L);
    }
    for (; q < na; q++) {
      float s = 0f;
      for (int j = 0; j < taps; j++) {
        s += h[hOff + j] * x[base - j + q];
      }
      y[q] = s;
    }
  }
}
