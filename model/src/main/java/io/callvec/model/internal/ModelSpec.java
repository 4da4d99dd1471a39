package io.callvec.model.internal;

import java.util.List;

/**
 * What the loader found in a model file: graph names, geometry and provenance, after validation.
 *
 * @param inputName the float32 [batch, samples] input ({@code input_values})
 * @param maskName the int64 [batch, samples] attention mask input, or null when absent
 * @param outputName the pooled float32 [batch, frames, hidden] output
 * @param outputNames every output of the graph
 * @param hiddenSize floats per frame; -1 when neither metadata nor graph says (the probe decides)
 * @param frameStrideSamples input samples per output frame (320 for wav2vec2)
 * @param receptiveFieldSamples input samples seen by one frame (400 for wav2vec2)
 * @param sampleRateHz the sampling rate the model expects, in Hz
 * @param doNormalize whether the caller applies zero-mean unit-variance normalisation
 * @param modelId hub id or file name
 * @param revision hub revision, or "unknown"
 * @param contentSha256 the metadata's content hash, or null when absent (the loader then hashes the
 *     file bytes)
 * @param missingMetadata callvec.* keys that were absent and replaced by defaults
 * @param layer Hugging Face {@code hidden_states} index of the pooled output ({@code
 *     last_hidden_state} = the model's layer count), or -1 when unknown (no layer count metadata)
 * @param layersComputed transformer layers the graph runs ({@code callvec.truncated_after_layer},
 *     else {@code callvec.num_hidden_layers}), or -1 when unknown
 */
public record ModelSpec(
    String inputName,
    String maskName,
    String outputName,
    List<String> outputNames,
    int hiddenSize,
    int frameStrideSamples,
    int receptiveFieldSamples,
    int sampleRateHz,
    boolean doNormalize,
    String modelId,
    String revision,
    String contentSha256,
    List<String> missingMetadata,
    int layer,
    int layersComputed) {

  /** Output frames for a window of {@code samples}: floor((samples - receptive) / stride) + 1. */
  public int framesFor(int samples) {
    return framesFor(samples, receptiveFieldSamples, frameStrideSamples);
  }

  /**
   * Output frames of a convolutional front end for a window of {@code samples}: 0 below the
   * receptive field, else floor((samples - receptive) / stride) + 1 (all three in samples).
   */
  public static int framesFor(int samples, int receptiveFieldSamples, int frameStrideSamples) {
    return samples < receptiveFieldSamples
        ? 0
        : (samples - receptiveFieldSamples) / frameStrideSamples + 1;
  }

  public ModelSpec withHiddenSize(int hidden) {
    return new ModelSpec(
        inputName,
        maskName,
        outputName,
        outputNames,
        hidden,
        frameStrideSamples,
        receptiveFieldSamples,
        sampleRateHz,
        doNormalize,
        modelId,
        revision,
        contentSha256,
        missingMetadata,
        layer,
        layersComputed);
  }
}
