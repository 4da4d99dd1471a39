package io.callvec.model;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Immutable options of an {@link EmbeddingModel}. Build with {@link #builder()}; {@link
 * #defaults()} is: provider {@code auto}, ONNX Runtime's default intra-op thread count, {@link
 * Pooling#MEAN}, no L2 normalisation, output {@code last_hidden_state} (or, for a model cut after
 * layer K that has no {@code last_hidden_state}, its deepest {@code hidden_states_<k>}), input
 * normalisation as the model's metadata says.
 *
 * <p><b>Layers</b> use Hugging Face's {@code hidden_states} numbering: {@link Builder#layer(int)
 * layer(k)} pools the output {@code hidden_states_<k>} (k = 0: the transformer's input; 1 &le; k
 * &lt; L: transformer layer k before the final layer norm; k = L: {@code last_hidden_state}, which
 * is used when the graph has no {@code hidden_states_L}).
 */
public final class ModelOptions {

  /** The output pooled by default. */
  public static final String DEFAULT_OUTPUT = "last_hidden_state";

  /** Outputs {@code hidden_states_<k>} carry the hidden state after encoder layer k. */
  public static final String HIDDEN_STATES_PREFIX = "hidden_states_";

  private static final ModelOptions DEFAULTS = new Builder().build();

  private final ExecutionProvider provider;
  private final int intraOpThreads;
  private final boolean intraOpSpinning;
  private final Pooling pooling;
  private final boolean l2Normalize;
  private final String outputName;
  private final boolean outputExplicit;
  private final Integer layer;
  private final Boolean normalizeInput;
  private final boolean tensorRtFp16;
  private final Path tensorRtEngineCacheDir;

  private ModelOptions(Builder b) {
    this.provider = b.provider;
    this.intraOpThreads = b.intraOpThreads;
    this.intraOpSpinning = b.intraOpSpinning;
    this.pooling = b.pooling;
    this.l2Normalize = b.l2Normalize;
    this.outputName = b.outputName;
    this.outputExplicit = b.outputExplicit;
    this.layer = b.layer;
    this.normalizeInput = b.normalizeInput;
    this.tensorRtFp16 = b.tensorRtFp16;
    this.tensorRtEngineCacheDir = b.tensorRtEngineCacheDir;
  }

  public static ModelOptions defaults() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.provider = provider;
    b.intraOpThreads = intraOpThreads;
    b.intraOpSpinning = intraOpSpinning;
    b.pooling = pooling;
    b.l2Normalize = l2Normalize;
    b.outputName = outputName;
    b.outputExplicit = outputExplicit;
    b.layer = layer;
    b.normalizeInput = normalizeInput;
    b.tensorRtFp16 = tensorRtFp16;
    b.tensorRtEngineCacheDir = tensorRtEngineCacheDir;
    return b;
  }

  public ExecutionProvider provider() {
    return provider;
  }

  /** ONNX Runtime intra-op threads per run; 0 = ONNX Runtime's default (one per physical core). */
  public int intraOpThreads() {
    return intraOpThreads;
  }

  /**
   * Whether ONNX Runtime's intra-op pool threads spin while they wait for work (ONNX Runtime's own
   * default) instead of sleeping. Spinning shortens the hand-off between operators a little, but the
   * pool keeps spinning after every run: with a fast model (a GPU, or the pipeline's stand-in) on a
   * busy host it takes about half a core from the stream threads ({@code bench/run pipeline}).
   * Default false.
   */
  public boolean intraOpSpinning() {
    return intraOpSpinning;
  }

  public Pooling pooling() {
    return pooling;
  }

  /** Whether each pooled vector is scaled to Euclidean length 1 (an all-zero vector stays 0). */
  public boolean l2Normalize() {
    return l2Normalize;
  }

  /** The model output that is pooled ({@code last_hidden_state} or e.g. {@code hidden_states_12}). */
  public String outputName() {
    return outputName;
  }

  /**
   * Whether {@link #outputName()} was chosen ({@link Builder#outputName} or {@link Builder#layer}).
   * When false, a model without {@code last_hidden_state} pools its deepest {@code
   * hidden_states_<k>} instead (a truncated export).
   */
  public boolean outputExplicit() {
    return outputExplicit;
  }

  /** The layer chosen with {@link Builder#layer(int)} (Hugging Face numbering), if any. */
  public OptionalInt layer() {
    return layer == null ? OptionalInt.empty() : OptionalInt.of(layer);
  }

  /**
   * Forced input normalisation, or empty to follow the model's {@code callvec.do_normalize}
   * metadata (true when absent).
   */
  public Optional<Boolean> normalizeInput() {
    return Optional.ofNullable(normalizeInput);
  }

  /** TensorRT only: build fp16 engines. */
  public boolean tensorRtFp16() {
    return tensorRtFp16;
  }

  /** TensorRT only: folder where built engines are cached across restarts; empty = no cache. */
  public Optional<Path> tensorRtEngineCacheDir() {
    return Optional.ofNullable(tensorRtEngineCacheDir);
  }

  @Override
  public String toString() {
    return "ModelOptions{provider="
        + provider
        + ", intraOpThreads="
        + intraOpThreads
        + ", intraOpSpinning="
        + intraOpSpinning
        + ", pooling="
        + pooling
        + ", l2Normalize="
        + l2Normalize
        + ", output="
        + outputName
        + (layer != null ? " (layer " + layer + ")" : outputExplicit ? "" : " (default)")
        + ", normalizeInput="
        + (normalizeInput == null ? "metadata" : normalizeInput)
        + (provider.kind() == ExecutionProvider.Kind.TENSORRT
            ? ", tensorRtFp16=" + tensorRtFp16 + ", engineCache=" + tensorRtEngineCacheDir
            : "")
        + '}';
  }

  /** Builder of {@link ModelOptions}; setters validate their argument. */
  public static final class Builder {
    private ExecutionProvider provider = ExecutionProvider.auto();
    private int intraOpThreads = 0;
    private boolean intraOpSpinning = false;
    private Pooling pooling = Pooling.MEAN;
    private boolean l2Normalize = false;
    private String outputName = DEFAULT_OUTPUT;
    private boolean outputExplicit = false;
    private Integer layer = null;
    private Boolean normalizeInput = null;
    private boolean tensorRtFp16 = false;
    private Path tensorRtEngineCacheDir = null;

    private Builder() {}

    public Builder provider(ExecutionProvider provider) {
      this.provider = Objects.requireNonNull(provider, "provider");
      return this;
    }

    /** Same as {@code provider(ExecutionProvider.parse(spec))}. */
    public Builder provider(String spec) {
      return provider(ExecutionProvider.parse(spec));
    }

    /** @param threads ONNX Runtime intra-op threads, >= 0 (0 = ONNX Runtime's default) */
    public Builder intraOpThreads(int threads) {
      if (threads < 0) {
        throw new IllegalArgumentException("intraOpThreads must be >= 0, got " + threads);
      }
      this.intraOpThreads = threads;
      return this;
    }

    /** See {@link ModelOptions#intraOpSpinning()}. */
    public Builder intraOpSpinning(boolean spin) {
      this.intraOpSpinning = spin;
      return this;
    }

    public Builder pooling(Pooling pooling) {
      this.pooling = Objects.requireNonNull(pooling, "pooling");
      return this;
    }

    public Builder l2Normalize(boolean l2Normalize) {
      this.l2Normalize = l2Normalize;
      return this;
    }

    public Builder outputName(String outputName) {
      Objects.requireNonNull(outputName, "outputName");
      if (outputName.isBlank()) {
        throw new IllegalArgumentException("outputName must not be blank");
      }
      this.outputName = outputName;
      this.outputExplicit = true;
      this.layer = null;
      return this;
    }

    /**
     * Pools the output of encoder layer {@code k} (Hugging Face {@code hidden_states} numbering):
     * the output {@code hidden_states_<k>}, or {@code last_hidden_state} when k is the model's
     * last layer and the graph has no {@code hidden_states_<k>}.
     *
     * @param k layer index, >= 0
     */
    public Builder layer(int k) {
      if (k < 0) {
        throw new IllegalArgumentException("layer must be >= 0 (Hugging Face numbering), got " + k);
      }
      this.outputName = HIDDEN_STATES_PREFIX + k;
      this.outputExplicit = true;
      this.layer = k;
      return this;
    }

    /** Forces input normalisation on or off; null follows the model's metadata. */
    public Builder normalizeInput(Boolean normalizeInput) {
      this.normalizeInput = normalizeInput;
      return this;
    }

    public Builder tensorRtFp16(boolean fp16) {
      this.tensorRtFp16 = fp16;
      return this;
    }

    /** @param dir engine cache folder (created if missing), or null for no cache */
    public Builder tensorRtEngineCacheDir(Path dir) {
      this.tensorRtEngineCacheDir = dir;
      return this;
    }

    public ModelOptions build() {
      return new ModelOptions(this);
    }
  }
}
