package io.callvec.audio;

/**
 * Receives float samples pushed by a front-end stage. The array is the stage's reusable buffer: the
 * receiver must copy what it keeps before returning.
 */
@FunctionalInterface
public interface SampleSink {

  /**
   * @param samples the buffer holding the samples (read only, valid only during this call)
   * @param offset index of the first sample in {@code samples}
   * @param length number of samples, at least 1
   */
  void accept(float[] samples, int offset, int length);
}
