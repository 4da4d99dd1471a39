package io.callvec.model.internal;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.TensorInfo.OnnxTensorType;
import ai.onnxruntime.ValueInfo;
import io.callvec.model.ModelLoadException;
import io.callvec.model.ModelOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Validates a session's inputs, outputs and {@code callvec.*} metadata against the contract of
 * model/tools/callvec_onnx.py and derives a {@link ModelSpec}. Every failure names what was
 * expected and what was found.
 */
public final class ModelInspector {
  public static final String INPUT_VALUES = "input_values";
  public static final String ATTENTION_MASK = "attention_mask";
  public static final String PREFIX = "callvec.";
  public static final int SAMPLE_RATE_HZ = 16_000;
  public static final int DEFAULT_FRAME_STRIDE_SAMPLES = 320;
  public static final int DEFAULT_RECEPTIVE_FIELD_SAMPLES = 400;

  private ModelInspector() {}

  /**
   * @param source the file or resource, for messages and as the default model id
   */
  public static ModelSpec inspect(OrtSession session, ModelOptions options, String source)
      throws ModelLoadException, OrtException {
    Map<String, NodeInfo> inputs = session.getInputInfo();
    Map<String, NodeInfo> outputs = session.getOutputInfo();

    NodeInfo values = inputs.get(INPUT_VALUES);
    if (values == null) {
      throw new ModelLoadException(
          source
              + ": expected a float32 input '"
              + INPUT_VALUES
              + "' [batch, samples], found inputs "
              + describe(inputs)
              + " (export with model/tools/export.py, or rename the input)");
    }
    checkTensor(source, "input", values, OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, 2,
        "float32 [batch, samples]");
    String maskName = null;
    for (Map.Entry<String, NodeInfo> e : inputs.entrySet()) {
      if (e.getKey().equals(INPUT_VALUES)) {
        continue;
      }
      if (!e.getKey().equals(ATTENTION_MASK)) {
        throw new ModelLoadException(
            source
                + ": unexpected input '"
                + e.getKey()
                + "' ("
                + describe(e.getValue())
                + "); expected only '"
                + INPUT_VALUES
                + "' and optionally '"
                + ATTENTION_MASK
                + "'");
      }
      checkTensor(source, "input", e.getValue(), OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64,
          2, "int64 [batch, samples]");
      maskName = ATTENTION_MASK;
    }

    Map<String, String> meta = session.getMetadata().getCustomMetadata();
    int numLayers = optionalIntKey(source, meta, "num_hidden_layers");
    int truncatedAfter = optionalIntKey(source, meta, "truncated_after_layer");
    String outputName = resolveOutput(source, options, outputs, numLayers);
    NodeInfo out = outputs.get(outputName);
    checkTensor(source, "output", out, OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, 3,
        "float32 [batch, frames, hidden]");
    long graphHidden = ((TensorInfo) out.getInfo()).getShape()[2];

    List<String> missing = new ArrayList<>();
    int sampleRate = intKey(source, meta, "sampling_rate_hz", SAMPLE_RATE_HZ, missing);
    if (sampleRate != SAMPLE_RATE_HZ) {
      throw new ModelLoadException(
          source
              + ": callvec feeds "
              + SAMPLE_RATE_HZ
              + " Hz audio, but the model's metadata says callvec.sampling_rate_hz="
              + sampleRate);
    }
    int stride = intKey(source, meta, "frame_stride_samples", DEFAULT_FRAME_STRIDE_SAMPLES, missing);
    int receptive =
        intKey(source, meta, "receptive_field_samples", DEFAULT_RECEPTIVE_FIELD_SAMPLES, missing);
    if (stride < 1 || receptive < 1) {
      throw new ModelLoadException(
          source
              + ": expected positive frame stride and receptive field, found "
              + stride
              + " and "
              + receptive
              + " samples");
    }
    int hidden = intKey(source, meta, "hidden_size", -1, missing);
    if (hidden != -1 && graphHidden > 0 && hidden != graphHidden) {
      throw new ModelLoadException(
          source
              + ": metadata says callvec.hidden_size="
              + hidden
              + " but output '"
              + outputName
              + "' has "
              + graphHidden
              + " floats per frame");
    }
    if (graphHidden > 0) {
      hidden = (int) graphHidden;
    }
    boolean doNormalize = boolKey(source, meta, "do_normalize", true, missing);
    String modelId = stringKey(meta, "model_id", fileName(source), missing);
    String revision = stringKey(meta, "revision", "unknown", missing);
    String hash = meta.get(PREFIX + "content_sha256");
    if (hash == null) {
      missing.add("content_sha256");
    }
    return new ModelSpec(
        INPUT_VALUES,
        maskName,
        outputName,
        List.copyOf(outputs.keySet()),
        hidden,
        stride,
        receptive,
        sampleRate,
        options.normalizeInput().orElse(doNormalize),
        modelId,
        revision,
        hash,
        List.copyOf(missing),
        layerOf(outputName, numLayers),
        truncatedAfter >= 0 ? truncatedAfter : numLayers);
  }

  /**
   * The output to pool: the one the options name; for {@code layer(L)} on a graph without {@code
   * hidden_states_L}, {@code last_hidden_state} (Hugging Face: hidden_states[L] is the final
   * layer norm's output); by default, when the graph has no {@code last_hidden_state} (a model cut
   * after layer K), its deepest {@code hidden_states_<k>}.
   */
  private static String resolveOutput(
      String source, ModelOptions options, Map<String, NodeInfo> outputs, int numLayers)
      throws ModelLoadException {
    String wanted = options.outputName();
    if (outputs.containsKey(wanted)) {
      return wanted;
    }
    if (options.layer().isPresent() && options.layer().getAsInt() == numLayers
        && outputs.containsKey(ModelOptions.DEFAULT_OUTPUT)) {
      return ModelOptions.DEFAULT_OUTPUT;
    }
    if (!options.outputExplicit()) {
      String deepest = null;
      int deepestLayer = -1;
      for (String name : outputs.keySet()) {
        int k = layerOf(name, -1);
        if (name.startsWith(ModelOptions.HIDDEN_STATES_PREFIX) && k > deepestLayer) {
          deepest = name;
          deepestLayer = k;
        }
      }
      if (deepest != null) {
        return deepest;
      }
    }
    String hint = options.layer().isPresent()
        ? " (layer " + options.layer().getAsInt() + " was not exported: export it with "
            + "model/tools/export.py --hidden-layers, or cut a model after it with "
            + "model/tools/truncate.py)"
        : "";
    throw new ModelLoadException(
        source
            + ": expected a float32 output '"
            + wanted
            + "' [batch, frames, hidden], found outputs "
            + describe(outputs)
            + hint);
  }

  /** k of {@code hidden_states_<k>}, {@code numLayers} for last_hidden_state, else -1. */
  private static int layerOf(String outputName, int numLayers) {
    if (outputName.equals(ModelOptions.DEFAULT_OUTPUT)) {
      return numLayers;
    }
    if (outputName.startsWith(ModelOptions.HIDDEN_STATES_PREFIX)) {
      try {
        return Integer.parseInt(outputName.substring(ModelOptions.HIDDEN_STATES_PREFIX.length()));
      } catch (NumberFormatException e) {
        return -1;
      }
    }
    return -1;
  }

  /** An optional non-negative integer key; -1 when absent. */
  private static int optionalIntKey(String source, Map<String, String> meta, String key)
      throws ModelLoadException {
    String v = meta.get(PREFIX + key);
    if (v == null) {
      return -1;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new ModelLoadException(
        source + ": metadata " + PREFIX + key + " must be a non-negative integer, found '" + v
            + "'");
  }

  private static void checkTensor(
      String source, String what, NodeInfo node, OnnxTensorType type, int rank, String expected)
      throws ModelLoadException {
    ValueInfo info = node.getInfo();
    if (!(info instanceof TensorInfo)) {
      throw new ModelLoadException(
          source + ": expected " + what + " '" + node.getName() + "' to be a tensor "
              + expected + ", found " + info);
    }
    TensorInfo t = (TensorInfo) info;
    long[] shape = t.getShape();
    if (t.onnxType != type || shape.length != rank) {
      throw new ModelLoadException(
          source + ": expected " + what + " '" + node.getName() + "' " + expected + ", found "
              + describe(node));
    }
    // Batch and time axes must be dynamic (-1): callvec runs any batch size and window length.
    for (int axis = 0; axis < 2; axis++) {
      if (shape[axis] >= 0) {
        throw new ModelLoadException(
            source + ": expected dynamic batch and time axes on " + what + " '" + node.getName()
                + "', found fixed shape " + Arrays.toString(shape)
                + " (export with dynamic_axes, as model/tools/export.py does)");
      }
    }
  }

  static String describe(Map<String, NodeInfo> nodes) {
    List<String> parts = new ArrayList<>();
    for (NodeInfo n : nodes.values()) {
      parts.add(describe(n));
    }
    return parts.toString();
  }

  static String describe(NodeInfo n) {
    ValueInfo info = n.getInfo();
    if (info instanceof TensorInfo) {
      TensorInfo t = (TensorInfo) info;
      return "'" + n.getName() + "' " + typeName(t.onnxType) + " " + Arrays.toString(t.getShape());
    }
    return "'" + n.getName() + "' " + info;
  }

  private static String typeName(OnnxTensorType t) {
    return switch (t) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> "float32";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> "float64";
      default -> t.name().replace("ONNX_TENSOR_ELEMENT_DATA_TYPE_", "").toLowerCase(Locale.ROOT);
    };
  }

  private static int intKey(
      String source, Map<String, String> meta, String key, int dflt, List<String> missing)
      throws ModelLoadException {
    String v = valueOrMissing(meta, key, missing);
    return v == null ? dflt : parseInt(source, key, v);
  }

  private static boolean boolKey(
      String source, Map<String, String> meta, String key, boolean dflt, List<String> missing)
      throws ModelLoadException {
    String v = valueOrMissing(meta, key, missing);
    return v == null ? dflt : parseBoolean(source, key, v);
  }

  /** The value of metadata {@code callvec.<key>}, or null after adding {@code key} to missing. */
  private static String valueOrMissing(Map<String, String> meta, String key, List<String> missing) {
    String v = meta.get(PREFIX + key);
    if (v == null) {
      missing.add(key);
    }
    return v;
  }

  private static int parseInt(String source, String key, String v) throws ModelLoadException {
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new ModelLoadException(
          source + ": metadata " + PREFIX + key + " must be an integer, found '" + v + "'");
    }
  }

  private static boolean parseBoolean(String source, String key, String v)
      throws ModelLoadException {
    if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
      return Boolean.parseBoolean(v);
    }
    throw new ModelLoadException(
        source + ": metadata " + PREFIX + key + " must be true or false, found '" + v + "'");
  }

  private static String stringKey(
      Map<String, String> meta, String key, String dflt, List<String> missing) {
    String v = meta.get(PREFIX + key);
    if (v == null || v.isBlank()) {
      missing.add(key);
      return dflt;
    }
    return v;
  }

  private static String fileName(String source) {
    int slash = Math.max(source.lastIndexOf('/'), source.lastIndexOf('\\'));
    return slash >= 0 ? source.substring(slash + 1) : source;
  }
}
