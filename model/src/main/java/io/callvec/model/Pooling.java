package io.callvec.model;

/** How a window's frames (one vector per 20 ms) become one fixed-size vector. */
public enum Pooling {
  /** Mean over the window's valid frames: {@code hidden} floats. */
  MEAN,
  /**
   * Mean then population standard deviation (divided by the frame count, not count - 1) over the
   * valid frames, concatenated: {@code 2 * hidden} floats. A window of one frame has std 0.
   */
  MEAN_STD;

  /** Output floats per window for a model with {@code hiddenSize} floats per frame. */
  public int dimension(int hiddenSize) {
    return this == MEAN ? hiddenSize : 2 * hiddenSize;
  }
}
