package io.callvec.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.callvec.model.internal.BufferPool;
import io.callvec.model.internal.InputNormalizer;
import io.callvec.model.internal.ModelInspector;
import io.callvec.model.internal.ModelSpec;
import io.callvec.model.internal.OrtRuntime;
import io.callvec.model.internal.Pooler;
import io.callvec.model.internal.SessionFactory;
import io.callvec.model.internal.SessionLifecycle;
import io.callvec.model.internal.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A wav2vec 2.0-family encoder in ONNX Runtime that turns 16 kHz windows into fixed-size vectors.
 *
 * <p><b>Loading.</b> {@link #load(Path, ModelOptions)} or {@link #loadResource(String,
 * ModelOptions)} validate the graph (input {@code input_values} float32 [batch, samples] with
 * dynamic axes, optional {@code attention_mask} int64 [batch, samples], the pooled output float32
 * [batch, frames, hidden]) and the {@code callvec.*} metadata written by model/tools/export.py.
 * Missing metadata falls back to wav2vec2's values (16 kHz, normalised input, frame stride 320 and
 * receptive field 400 samples) with one warning; two probe runs then check that the graph really
 * has that frame geometry. Every problem is a {@link ModelLoadException} naming what was expected
 * and what was found.
 *
 * <p><b>Input preparation</b> is Hugging Face's {@code Wav2Vec2FeatureExtractor}: each window is
 * normalised over its own samples to zero mean and unit variance, {@code (x - mean) / sqrt(var +
 * 1e-7)}, when the model's {@code do_normalize} is true. Batches are packed into pooled direct
 * buffers and ONNX Runtime writes its output into pooled direct buffers too (no batch-sized
 * garbage per call).
 *
 * <p><b>Batch invariance</b> (a window's vector does not depend on its batch mates):
 *
 * <ul>
 *   <li>Models with an attention mask ({@link #acceptsMixedLengths()} true): windows of any lengths
 *       share one run; shorter ones are zero-padded after normalisation with mask 0, and pooling
 *       uses only their own frames, {@code floor((len - 400) / 320) + 1}.
 *   <li>Models without a mask: {@link #embedBatch} still accepts mixed lengths, but runs one ONNX
 *       Runtime call per distinct length (in order of first appearance), so nothing is padded. A
 *       batcher should keep lengths equal for speed.
 * </ul>
 *
 * <p>Windows shorter than the receptive field (400 samples = 25 ms) have no frame and are rejected
 * with an {@link IllegalArgumentException}.
 *
 * <p><b>Threads.</b> One session is shared by all threads; {@link #embedBatch} may be called
 * concurrently. {@link #close()} waits for running calls, closes the session exactly once, and is
 * idempotent; any later call throws {@link IllegalStateException}.
 */
public final class EmbeddingModel implements WindowEmbedder, AutoCloseable {

  /** Class-path resource of the bundled tiny random-weight model (meaningless embeddings). */
  public static final String BUNDLED_FIXTURE_RESOURCE =
      "/io/callvec/model/fixture/wav2vec2-tiny.onnx";

  /**
   * Class-path resource of the GPU-speed stand-in: the wav2vec2 architecture at the real model's
   * width (hidden size 1024, 320-sample stride, 400-sample receptive field) with no transformer
   * layer, 8-channel convolutions and a 4-frame depthwise positional convolution, random weights,
   * about 95 KB. Its vectors are meaningless and cost almost nothing to compute (≈ 5 ms of CPU per
   * 5 s window), so pipeline measurements see dimension-1024 vectors without the model's cost.
   * Built by {@code model/tools/fixture.py --bundle}.
   */
  public static final String STANDIN_1024_RESOURCE =
      "/io/callvec/model/fixture/wav2vec2-standin-1024.onnx";

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddingModel.class);
  private static final int POOLED_BUFFERS = 16;

  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelSpec spec;
  private final ModelInfo info;
  private final ModelOptions options;
  private final BufferPool buffers = new BufferPool(POOLED_BUFFERS);
  private final SessionLifecycle lifecycle = new SessionLifecycle();

  private EmbeddingModel(
      OrtSession session, ModelSpec spec, ModelInfo info, ModelOptions options) {
    this.env = OrtRuntime.environment();
    this.session = session;
    this.spec = spec;
    this.info = info;
    this.options = options;
  }

  /**
   * Loads an ONNX model file.
   *
   * @throws ModelLoadException if the file is missing, unreadable, not ONNX, not the expected
   *     graph, or the provider cannot be used
   */
  public static EmbeddingModel load(Path file, ModelOptions options) throws ModelLoadException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(options, "options");
    Path abs = file.toAbsolutePath();
    if (!Files.exists(abs)) {
      throw new ModelLoadException(
          "model file not found: "
              + abs
              + " (export one with model/tools/export.py, or build the benchmark model with "
              + "/usr/bin/python3 model/tools/fixture.py --size large)");
    }
    if (!Files.isRegularFile(abs) || !Files.isReadable(abs)) {
      throw new ModelLoadException("model path is not a readable file: " + abs);
    }
    String name = abs.toString();
    return open(
        new SessionFactory.Source(abs, null, name),
        options,
        () -> {
          try {
            return Sha256.of(abs);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  /**
   * Loads an ONNX model from the class path (read into memory: for small models such as {@link
   * #BUNDLED_FIXTURE_RESOURCE}).
   *
   * @param resource an absolute resource name, e.g. {@code /io/callvec/model/fixture/x.onnx}
   */
  public static EmbeddingModel loadResource(String resource, ModelOptions options)
      throws ModelLoadException {
    Objects.requireNonNull(resource, "resource");
    Objects.requireNonNull(options, "options");
    byte[] bytes;
    try (InputStream in = EmbeddingModel.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new ModelLoadException("class-path resource not found: " + resource);
      }
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new ModelLoadException("cannot read class-path resource " + resource, e);
    }
    String name = "classpath:" + resource;
    return open(new SessionFactory.Source(null, bytes, name), options, () -> Sha256.of(bytes));
  }

  /**
   * The bundled tiny model with random weights, for demos and tests: runs anywhere in
   * milliseconds, but its embeddings carry no meaning.
   */
  public static EmbeddingModel loadBundledFixture(ModelOptions options) throws ModelLoadException {
    return loadResource(BUNDLED_FIXTURE_RESOURCE, options);
  }

  /** The {@link #STANDIN_1024_RESOURCE GPU-speed stand-in} (dimension 1024, almost no compute). */
  public static EmbeddingModel loadStandIn(ModelOptions options) throws ModelLoadException {
    return loadResource(STANDIN_1024_RESOURCE, options);
  }

  private interface HashSupplier {
    String get();
  }

  private static EmbeddingModel open(
      SessionFactory.Source source, ModelOptions options, HashSupplier fileHash)
      throws ModelLoadException {
    SessionFactory.Created created = SessionFactory.create(source, options);
    OrtSession session = created.session();
    try {
      ModelSpec spec = ModelInspector.inspect(session, options, source.name());
      spec = probe(session, spec, source.name());
      boolean complete = spec.missingMetadata().isEmpty();
      String hash = spec.contentSha256() != null ? spec.contentSha256() : fileHash.get();
      if (!complete) {
        LOG.warn(
            "{}: callvec metadata {} missing; using defaults: model id {}, revision {}, {} Hz, "
                + "normalise input {}, frame stride {} samples, receptive field {} samples, "
                + "content hash = SHA-256 of the file (export with model/tools/export.py to "
                + "record them)",
            source.name(),
            spec.missingMetadata(),
            spec.modelId(),
            spec.revision(),
            spec.sampleRateHz(),
            spec.doNormalize(),
            spec.frameStrideSamples(),
            spec.receptiveFieldSamples());
      }
      ModelInfo info =
          new ModelInfo(
              spec.modelId(),
              spec.revision(),
              hash,
              source.name(),
              spec.hiddenSize(),
              options.pooling().dimension(spec.hiddenSize()),
              spec.sampleRateHz(),
              spec.frameStrideSamples(),
              spec.receptiveFieldSamples(),
              spec.doNormalize(),
              options.pooling(),
              options.l2Normalize(),
              spec.outputName(),
              spec.maskName() != null,
              created.provider(),
              complete,
              spec.layer(),
              spec.layersComputed());
      LOG.info(
          "loaded {} ({} @ {}) on {}: hidden {}, output '{}' (layer {}, {} layers computed), {} "
              + "pooling{}, {}",
          source.name(),
          info.modelId(),
          info.revision(),
          info.provider(),
          info.hiddenSize(),
          info.outputName(),
          info.layer() < 0 ? "unknown" : info.layer(),
          info.layersComputed() < 0 ? "unknown" : info.layersComputed(),
          info.pooling().name().toLowerCase(Locale.ROOT),
          info.l2Normalized() ? " + L2" : "",
          info.attentionMask()
              ? "attention mask: mixed lengths share a run"
              : "no attention mask: one run per window length");
      return new EmbeddingModel(session, spec, info, options);
    } catch (ModelLoadException | RuntimeException e) {
      closeQuietly(session);
      if (e instanceof UncheckedIOException) {
        throw new ModelLoadException(source.name() + ": cannot hash the model file", e);
      }
      throw e;
    } catch (OrtException e) {
      closeQuietly(session);
      throw new ModelLoadException(
          source.name() + ": ONNX Runtime failed while inspecting the model: " + e.getMessage(), e);
    }
  }

  /**
   * Two runs on windows of exactly the receptive field and of receptive + 2.5 strides, which must
   * give 1 and 3 frames: catches wrong or defaulted geometry metadata at load, not at first use.
   */
  private static ModelSpec probe(OrtSession session, ModelSpec spec, String source)
      throws ModelLoadException {
    OrtEnvironment env = OrtRuntime.environment();
    int[] lengths = {
      spec.receptiveFieldSamples(),
      spec.receptiveFieldSamples() + 2 * spec.frameStrideSamples() + spec.frameStrideSamples() / 2
    };
    int hidden = spec.hiddenSize();
    for (int len : lengths) {
      float[] w = new float[len];
      for (int i = 0; i < len; i++) {
        w[i] = (float) (0.3 * Math.sin(2 * Math.PI * 440.0 * i / spec.sampleRateHz()));
      }
      long[] shape = {1, len};
      int expected = spec.framesFor(len);
      try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(w), shape);
          OnnxTensor mask =
              spec.maskName() == null
                  ? null
                  : OnnxTensor.createTensor(env, LongBuffer.wrap(ones(len)), shape)) {
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        feed.put(spec.inputName(), in);
        if (mask != null) {
          feed.put(spec.maskName(), mask);
        }
        try (OrtSession.Result r = session.run(feed, java.util.Set.of(spec.outputName()))) {
          OnnxValue v = r.get(spec.outputName()).orElseThrow();
          long[] got = ((OnnxTensor) v).getInfo().getShape();
          if (got.length != 3 || got[0] != 1 || got[1] != expected
              || (hidden > 0 && got[2] != hidden)) {
            throw new ModelLoadException(
                source
                    + ": the model's frame geometry is not what "
                    + (spec.missingMetadata().contains("frame_stride_samples")
                        ? "the wav2vec2 defaults say"
                        : "its metadata says")
                    + ": frame stride "
                    + spec.frameStrideSamples()
                    + " and receptive field "
                    + spec.receptiveFieldSamples()
                    + " samples predict [1, "
                    + expected
                    + ", "
                    + (hidden > 0 ? hidden : "hidden")
                    + "] for a window of "
                    + len
                    + " samples, but '"
                    + spec.outputName()
                    + "' has shape "
                    + Arrays.toString(got));
          }
          hidden = (int) got[2];
        }
      } catch (OrtException e) {
        throw new ModelLoadException(
            source + ": a probe run on one window of " + len + " samples failed: "
                + e.getMessage(), e);
      }
    }
    return spec.withHiddenSize(hidden);
  }

  private static long[] ones(int n) {
    long[] m = new long[n];
    Arrays.fill(m, 1L);
    return m;
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * {@inheritDoc}
   *
   * <p>Mixed lengths are accepted by every model: see the class javadoc for how they run.
   *
   * @throws IllegalArgumentException if {@code windows} is empty, holds null, a window shorter
   *     than {@link ModelInfo#receptiveFieldSamples()} or a NaN/infinite sample
   * @throws IllegalStateException after {@link #close()}
   */
  @Override
  public float[][] embedBatch(List<float[]> windows) throws InferenceException {
    float[][] out = new float[windows.size()][];
    int hidden = spec.hiddenSize();
    run(
        windows,
        (output, index, frames, offset, valid) ->
            out[index] =
                Pooler.pool(frames, offset, valid, hidden, options.pooling(),
                    options.l2Normalize()));
    return out;
  }

  /**
   * One model run, several outputs: the pooled vectors of each of {@code outputs} (e.g. {@code
   * hidden_states_6} and {@code hidden_states_12} of a model exported or cut with both), pooled
   * as {@link #embedBatch} pools its output. Costs one run, not one per output.
   *
   * @param outputs distinct graph outputs of the same width as the pooled one (see {@link
   *     #outputNames()}), e.g. {@code ModelOptions.HIDDEN_STATES_PREFIX + 6}
   * @return {@code [output][window][dimension]}
   * @throws IllegalArgumentException for an unknown or repeated output, or one of another width,
   *     and as {@link #embedBatch}
   */
  public float[][][] embedBatchOutputs(List<float[]> windows, List<String> outputs)
      throws InferenceException {
    Objects.requireNonNull(outputs, "outputs");
    if (outputs.isEmpty() || new java.util.HashSet<>(outputs).size() != outputs.size()) {
      throw new IllegalArgumentException("expected distinct output names, got " + outputs);
    }
    int hidden = spec.hiddenSize();
    for (String name : outputs) {
      if (!spec.outputNames().contains(name)) {
        throw new IllegalArgumentException(
            "unknown output '" + name + "'; the model has " + spec.outputNames());
      }
    }
    try {
      for (Map.Entry<String, ai.onnxruntime.NodeInfo> e : session.getOutputInfo().entrySet()) {
        long[] shape = ((ai.onnxruntime.TensorInfo) e.getValue().getInfo()).getShape();
        if (outputs.contains(e.getKey()) && shape.length == 3 && shape[2] > 0
            && shape[2] != hidden) {
          throw new IllegalArgumentException("output '" + e.getKey() + "' has " + shape[2]
              + " floats per frame, the pooled output '" + spec.outputName() + "' " + hidden);
        }
      }
    } catch (OrtException e) {
      throw new InferenceException("cannot read the model's outputs: " + e.getMessage(), e, false);
    }
    float[][][] out = new float[outputs.size()][windows.size()][];
    run(
        windows,
        List.copyOf(outputs),
        (output, index, frames, offset, valid) ->
            out[output][index] =
                Pooler.pool(frames, offset, valid, hidden, options.pooling(),
                    options.l2Normalize()));
    return out;
  }

  /** Every output of the graph, e.g. {@code [hidden_states_6, hidden_states_12]} for a cut model. */
  public List<String> outputNames() {
    return spec.outputNames();
  }

  /** {@code embedBatch(List.of(window))[0]}. */
  public float[] embed(float[] window) throws InferenceException {
    return embedBatch(List.of(window))[0];
  }

  /**
   * The pooled output's frames of each window, before pooling: {@code [window][frame][hidden]},
   * only the window's own {@link ModelInfo#framesFor valid frames}. Same rules as {@link
   * #embedBatch}.
   */
  public float[][][] frameFeatures(List<float[]> windows) throws InferenceException {
    float[][][] out = new float[windows.size()][][];
    int hidden = spec.hiddenSize();
    run(
        windows,
        (output, index, frames, offset, valid) -> {
          float[][] f = new float[valid][hidden];
          for (int t = 0; t < valid; t++) {
            frames.get(offset + t * hidden, f[t], 0, hidden);
          }
          out[index] = f;
        });
    return out;
  }

  /** True when the graph takes an attention mask, so windows of mixed lengths share one run. */
  @Override
  public boolean acceptsMixedLengths() {
    return spec.maskName() != null;
  }

  @Override
  public int dimension() {
    return info.dimension();
  }

  /** Provenance and geometry, for the output records. */
  public ModelInfo info() {
    return info;
  }

  /** The options this model was loaded with. */
  public ModelOptions options() {
    return options;
  }

  /**
   * The shared ONNX Runtime session, for benchmarks and diagnostics that want to call {@code
   * OrtSession.run} directly. Owned by this model: do not close it, do not use it after {@link
   * #close()}.
   */
  public OrtSession ortSession() {
    ensureOpen();
    return session;
  }

  /** The process-wide ONNX Runtime environment used by every model. */
  public static OrtEnvironment ortEnvironment() {
    return OrtRuntime.environment();
  }

  /** Waits for running calls, then releases the session. Idempotent. */
  @Override
  public void close() {
    lifecycle.closeOnce(() -> closeQuietly(session));
  }

  private void ensureOpen() {
    if (lifecycle.isClosed()) {
      throw new IllegalStateException("EmbeddingModel " + info.source() + " is closed");
    }
  }

  private static void closeQuietly(OrtSession s) {
    try {
      s.close();
    } catch (OrtException e) {
      LOG.warn("closing the ONNX Runtime session failed: {}", e.getMessage());
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Receives one window's valid frames of one output inside the batch output buffer. */
  private interface FrameSink {
    void accept(
        int outputIndex, int windowIndex, FloatBuffer frames, int offsetFloats, int validFrames);
  }

  private void run(List<float[]> windows, FrameSink sink) throws InferenceException {
    run(windows, List.of(spec.outputName()), sink);
  }

  private void run(List<float[]> windows, List<String> outputs, FrameSink sink)
      throws InferenceException {
    Objects.requireNonNull(windows, "windows");
    if (windows.isEmpty()) {
      throw new IllegalArgumentException("expected at least one window, got an empty batch");
    }
    int min = spec.receptiveFieldSamples();
    boolean sameLength = true;
    for (int i = 0; i < windows.size(); i++) {
      float[] w = windows.get(i);
      if (w == null) {
        throw new IllegalArgumentException("window " + i + " is null");
      }
      if (w.length < min) {
        throw new IllegalArgumentException(
            "window "
                + i
                + " has "
                + w.length
                + " samples; the model needs at least "
                + min
                + " (its receptive field, "
                + (1000.0 * min / spec.sampleRateHz())
                + " ms at "
                + spec.sampleRateHz()
                + " Hz)");
      }
      sameLength &= w.length == windows.get(0).length;
    }
    lifecycle.lockRun();
    try {
      ensureOpen();
      if (sameLength || spec.maskName() != null) {
        int[] all = new int[windows.size()];
        Arrays.setAll(all, i -> i);
        runGroup(windows, all, outputs, sink);
      } else {
        Map<Integer, List<Integer>> byLength = new LinkedHashMap<>();
        for (int i = 0; i < windows.size(); i++) {
          byLength.computeIfAbsent(windows.get(i).length, k -> new ArrayList<>()).add(i);
        }
        for (List<Integer> group : byLength.values()) {
          runGroup(windows, group.stream().mapToInt(Integer::intValue).toArray(), outputs, sink);
        }
      }
    } finally {
      lifecycle.unlockRun();
    }
  }

  /** One ONNX Runtime call on windows[idx...], zero-padded to the longest when masked. */
  private void runGroup(List<float[]> windows, int[] idx, List<String> outputs, FrameSink sink)
      throws InferenceException {
    int n = idx.length;
    int len = 0;
    for (int i : idx) {
      len = Math.max(len, windows.get(i).length);
    }
    int hidden = spec.hiddenSize();
    int frames = spec.framesFor(len);
    boolean masked = spec.maskName() != null;
    ByteBuffer inBytes = null;
    ByteBuffer maskBytes = null;
    ByteBuffer[] outBytes = new ByteBuffer[outputs.size()];
    try {
      inBytes = buffers.acquire(4L * n * len);
      FloatBuffer[] out = new FloatBuffer[outputs.size()];
      for (int o = 0; o < out.length; o++) {
        outBytes[o] = buffers.acquire(4L * n * frames * hidden);
        out[o] = outBytes[o].asFloatBuffer();
      }
      FloatBuffer in = inBytes.asFloatBuffer();
      LongBuffer mask = null;
      if (masked) {
        maskBytes = buffers.acquire(8L * n * len);
        mask = maskBytes.asLongBuffer();
      }
      for (int row = 0; row < n; row++) {
        float[] w = windows.get(idx[row]);
        int base = row * len;
        InputNormalizer.write(w, spec.doNormalize(), in, base);
        for (int s = w.length; s < len; s++) {
          in.put(base + s, 0f);
        }
        if (mask != null) {
          for (int s = 0; s < len; s++) {
            mask.put(base + s, s < w.length ? 1L : 0L);
          }
        }
      }
      long[] inShape = {n, len};
      List<OnnxTensor> pinned = new ArrayList<>(out.length);
      try (OnnxTensor tIn = OnnxTensor.createTensor(env, in, inShape);
          OnnxTensor tMask = masked ? OnnxTensor.createTensor(env, mask, inShape) : null) {
        Map<String, OnnxTensor> feed =
            masked ? Map.of(spec.inputName(), tIn, spec.maskName(), tMask)
                : Map.of(spec.inputName(), tIn);
        Map<String, OnnxTensor> fetch = new LinkedHashMap<>();
        for (int o = 0; o < out.length; o++) {
          OnnxTensor t = OnnxTensor.createTensor(env, out[o], new long[] {n, frames, hidden});
          pinned.add(t);
          fetch.put(outputs.get(o), t);
        }
        try (OrtSession.Result ignored = session.run(feed, fetch)) {
          // the outputs were written into `out`
        }
      } catch (OrtException e) {
        throw new InferenceException(
            "ONNX Runtime failed on a batch of "
                + n
                + " windows x "
                + len
                + " samples ("
                + info.provider()
                + "): "
                + e.getMessage(),
            e,
            isTransient(e));
      } finally {
        for (OnnxTensor t : pinned) {
          t.close();
        }
      }
      for (int o = 0; o < out.length; o++) {
        for (int row = 0; row < n; row++) {
          sink.accept(o, idx[row], out[o], row * frames * hidden,
              spec.framesFor(windows.get(idx[row]).length));
        }
      }
    } finally {
      buffers.release(inBytes);
      buffers.release(maskBytes);
      for (ByteBuffer b : outBytes) {
        buffers.release(b);
      }
    }
  }

  /** Out-of-memory conditions (typically on a GPU under load) may pass on a retry. */
  private static boolean isTransient(OrtException e) {
    String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
    return m.contains("out of memory")
        || m.contains("failed to allocate")
        || m.contains("alloc_failed")
        || m.contains("bad_alloc");
  }

  @Override
  public String toString() {
    return "EmbeddingModel{" + info + (lifecycle.isClosed() ? ", closed" : "") + '}';
  }
}
