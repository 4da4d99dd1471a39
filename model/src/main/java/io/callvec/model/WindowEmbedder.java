package io.callvec.model;

import java.util.List;

/**
 * Turns a batch of 16 kHz audio windows into one fixed-size embedding vector per window.
 *
 * <p>This is the contract between the model runtime ({@code EmbeddingModel}) and the micro-batcher
 * ({@code io.callvec.model.batch}): the batcher decides <em>which</em> windows run together, the
 * embedder runs them. Implementations are thread-safe: several batcher workers may call
 * {@link #embedBatch} at once.
 *
 * <p>Batch invariance: a window's vector must not depend on the other windows of its batch.
 */
public interface WindowEmbedder {

  /**
   * Embeds {@code windows} (each a mono signal at 16,000 Hz, samples in [-1, 1), unnormalised: the
   * embedder applies the model's own input normalisation).
   *
   * @param windows one or more windows; all of the same length in samples unless {@link
   *     #acceptsMixedLengths()} is true. The arrays are only read, and not retained after return.
   * @return one vector of {@link #dimension()} floats per window, in the order of {@code windows}
   * @throws InferenceException if the batch could not be run (the whole batch failed)
   * @throws IllegalArgumentException if the batch breaks the length rule above or is empty
   */
  float[][] embedBatch(List<float[]> windows) throws InferenceException;

  /** Whether windows of different lengths may share a batch (the model takes an attention mask). */
  boolean acceptsMixedLengths();

  /** Length of each returned vector, in floats. */
  int dimension();
}
