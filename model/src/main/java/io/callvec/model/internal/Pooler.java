package io.callvec.model.internal;

import io.callvec.model.Pooling;
import java.nio.FloatBuffer;

/** Pools a window's frames [frames, hidden] into one vector, in double precision. */
public final class Pooler {
  private Pooler() {}

  /**
   * @param frames the output tensor's buffer, row-major [batch, framesPerRow, hidden]
   * @param offset absolute float index of the window's first frame
   * @param validFrames frames to pool (>= 1), the window's own frames without padding frames
   * @param hidden floats per frame
   * @return a new vector of {@code pooling.dimension(hidden)} floats
   */
  public static float[] pool(
      FloatBuffer frames, int offset, int validFrames, int hidden, Pooling pooling, boolean l2) {
    double[] mean = new double[hidden];
    for (int f = 0; f < validFrames; f++) {
      int row = offset + f * hidden;
      for (int h = 0; h < hidden; h++) {
        mean[h] += frames.get(row + h);
      }
    }
    for (int h = 0; h < hidden; h++) {
      mean[h] /= validFrames;
    }
    float[] out = new float[pooling.dimension(hidden)];
    for (int h = 0; h < hidden; h++) {
      out[h] = (float) mean[h];
    }
    if (pooling == Pooling.MEAN_STD) {
      double[] var = new double[hidden];
      for (int f = 0; f < validFrames; f++) {
        int row = offset + f * hidden;
        for (int h = 0; h < hidden; h++) {
          double d = frames.get(row + h) - mean[h];
          var[h] += d * d;
        }
      }
      for (int h = 0; h < hidden; h++) {
        out[hidden + h] = (float) Math.sqrt(var[h] / validFrames);
      }
    }
    if (l2) {
      l2Normalize(out);
    }
    return out;
  }

  /** Scales {@code v} to Euclidean length 1 in place; an all-zero vector is left as is. */
  public static void l2Normalize(float[] v) {
    double ss = 0;
    for (float x : v) {
      ss += (double) x * x;
    }
    if (ss > 0) {
      double inv = 1.0 / Math.sqrt(ss);
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (v[i] * inv);
      }
    }
  }
}
