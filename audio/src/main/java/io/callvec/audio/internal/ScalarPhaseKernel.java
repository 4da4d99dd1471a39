package io.callvec.audio.internal;

import java.util.Arrays;

/**
 * {@link PhaseKernel} in plain Java loops that HotSpot's auto-vectoriser handles: each tap is applied
 * to a whole block of outputs at once. (HotSpot only vectorises a loop whose float loads and stores
 * have the same alignment, so each tap's input window is first copied to offset 0 of a scratch
 * array.) For two phases, three taps per pass: as many as HotSpot 17 still vectorises with both
 * phases fused.
 */
final class ScalarPhaseKernel extends PhaseKernel {

  static final ScalarPhaseKernel INSTANCE = new ScalarPhaseKernel();

  /**
   * Three tap windows, grown on demand, shared by the resamplers of one thread: only used inside
   * {@link #run}, which calls out to nothing.
   */
  private static final ThreadLocal<float[][]> TAPS = ThreadLocal.withInitial(() -> new float[3][0]);

  private ScalarPhaseKernel() {}

  @Override
  public String name() {
    return "scalar";
  }

  @Override
  public void run(float[] x, int base, float[] h, int taps, int up, int na, float[][] acc) {
    float[][] t = TAPS.get();
    if (t[0].length < na) {
      for (int i = 0; i < t.length; i++) {
        t[i] = new float[Math.max(na, 2 * t[i].length)];
      }
    }
    float[] t0 = t[0];
    float[] t1 = t[1];
    float[] t2 = t[2];
    if (up == 2) {
      float[] y0 = acc[0];
      float[] y1 = acc[1];
      Arrays.fill(y0, 0, na, 0f);
      Arrays.fill(y1, 0, na, 0f);
      int j = 0;
      for (; j + 3 <= taps; j += 3) {
        System.arraycopy(x, base - j, t0, 0, na);
        System.arraycopy(x, base - j - 1, t1, 0, na);
        System.arraycopy(x, base - j - 2, t2, 0, na);
        float c0 = h[j];
        float c1 = h[j + 1];
        float c2 = h[j + 2];
        float d0 = h[taps + j];
        float d1 = h[taps + j + 1];
        float d2 = h[taps + j + 2];
        for (int q = 0; q < na; q++) {
          float x0 = t0[q];
          float x1 = t1[q];
          float x2 = t2[q];
          float v = y0[q];
          v += c0 * x0;
          v += c1 * x1;
          v += c2 * x2;
          y0[q] = v;
          float w = y1[q];
          w += d0 * x0;
          w += d1 * x1;
          w += d2 * x2;
          y1[q] = w;
        }
      }
      for (; j < taps; j++) {
        System.arraycopy(x, base - j, t0, 0, na);
        float c = h[j];
        float d = h[taps + j];
        for (int q = 0; q < na; q++) {
          float xv = t0[q];
          y0[q] += c * xv;
          y1[q] += d * xv;
        }
      }
    } else {
      for (int p = 0; p < up; p++) {
        float[] y = acc[p];
        int hOff = p * taps;
        Arrays.fill(y, 0, na, 0f);
        for (int j = 0; j < taps; j++) {
          System.arraycopy(x, base - j, t0, 0, na);
          float c = h[hOff + j];
          for (int q = 0; q < na; q++) {
            y[q] += c * t0[q];
          }
        }
      }
    }
  }
}
