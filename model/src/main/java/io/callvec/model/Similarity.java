package io.callvec.model;

/** Similarity of embedding vectors, computed in double precision. */
public final class Similarity {
  private Similarity() {}

  /**
   * Cosine similarity of two vectors of equal length: 1 for the same direction, 0 for orthogonal,
   * -1 for opposite; NaN where either vector is all zeros.
   *
   * @throws IllegalArgumentException if the lengths differ
   */
  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("vectors of " + a.length + " and " + b.length + " floats");
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
