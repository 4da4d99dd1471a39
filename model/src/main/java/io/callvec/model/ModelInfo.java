package io.callvec.model;

import io.callvec.model.internal.ModelSpec;

/**
 * Provenance and geometry of a loaded {@link EmbeddingModel}, to be stored with every embedding.
 *
 * @param modelId hub id (e.g. {@code facebook/wav2vec2-large-robust}) or, without metadata, the
 *     file name
 * @param revision hub revision the weights came from, or {@code unknown}
 * @param contentSha256 the model's {@code callvec.content_sha256} metadata (SHA-256 of the graph
 *     and weights, see model/tools/callvec_onnx.py), or, without it, the SHA-256 of the file bytes
 * @param source the file path or class-path resource the model was loaded from
 * @param hiddenSize floats per frame of the pooled output
 * @param dimension floats per embedding vector ({@code hiddenSize}, or twice it for {@link
 *     Pooling#MEAN_STD})
 * @param sampleRateHz sampling rate of the input windows, in Hz (16,000)
 * @param frameStrideSamples input samples per output frame (320 = 20 ms for wav2vec2)
 * @param receptiveFieldSamples input samples one frame sees (400 = 25 ms); also the shortest
 *     window accepted
 * @param inputNormalized whether windows are normalised to zero mean and unit variance first
 * @param pooling how frames become one vector
 * @param l2Normalized whether vectors are scaled to length 1
 * @param outputName the graph output that is pooled
 * @param attentionMask whether the graph takes an attention mask (mixed lengths share a run)
 * @param provider the execution provider the session runs on, e.g. {@code cpu} or {@code cuda:0}
 * @param metadataComplete false when callvec metadata was missing and defaults were used
 * @param layer the encoder layer whose output is pooled, Hugging Face {@code hidden_states}
 *     numbering ({@code hidden_states_<k>} = k; {@code last_hidden_state} = the model's layer
 *     count L); -1 when unknown (a model without {@code callvec.num_hidden_layers})
 * @param layersComputed transformer layers the graph computes per run: K for a model cut after
 *     layer K ({@code callvec.truncated_after_layer}), else L; -1 when unknown
 */
public record ModelInfo(
    String modelId,
    String revision,
    String contentSha256,
    String source,
    int hiddenSize,
    int dimension,
    int sampleRateHz,
    int frameStrideSamples,
    int receptiveFieldSamples,
    boolean inputNormalized,
    Pooling pooling,
    boolean l2Normalized,
    String outputName,
    boolean attentionMask,
    String provider,
    boolean metadataComplete,
    int layer,
    int layersComputed) {

  /** Valid output frames of a window of {@code samples}: floor((samples - receptive) / stride) + 1. */
  public int framesFor(int samples) {
    return ModelSpec.framesFor(samples, receptiveFieldSamples, frameStrideSamples);
  }
}
