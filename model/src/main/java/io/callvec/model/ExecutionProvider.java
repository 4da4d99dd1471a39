package io.callvec.model;

import java.util.Locale;
import java.util.Objects;

/**
 * Where ONNX Runtime runs the model: {@code cpu}, {@code cuda[:device]}, {@code tensorrt[:device]}
 * or {@code auto}. Immutable.
 *
 * <p>{@code auto} picks CUDA device 0 when this ONNX Runtime build has the CUDA provider (the
 * {@code onnxruntime_gpu} jar, Maven profile {@code -Pgpu}) and a session can be created on the
 * device; otherwise CPU. The choice and its reason are logged once per model load.
 *
 * <p>CUDA and TensorRT need the GPU jar; with the default CPU jar they fail at load with a {@link
 * ModelLoadException} that says so.
 */
public final class ExecutionProvider {

  /** The kind of execution provider. */
  public enum Kind {
    CPU,
    CUDA,
    TENSORRT,
    AUTO
  }

  private static final ExecutionProvider CPU = new ExecutionProvider(Kind.CPU, 0);
  private static final ExecutionProvider AUTO = new ExecutionProvider(Kind.AUTO, 0);

  private final Kind kind;
  private final int deviceId;

  private ExecutionProvider(Kind kind, int deviceId) {
    if (deviceId < 0) {
      throw new IllegalArgumentException("GPU device id must be >= 0, got " + deviceId);
    }
    this.kind = kind;
    this.deviceId = deviceId;
  }

  /** ONNX Runtime's CPU provider. */
  public static ExecutionProvider cpu() {
    return CPU;
  }

  /** CUDA if usable, else CPU (see class javadoc). */
  public static ExecutionProvider auto() {
    return AUTO;
  }

  /** The CUDA provider on GPU {@code deviceId} (0-based). */
  public static ExecutionProvider cuda(int deviceId) {
    return new ExecutionProvider(Kind.CUDA, deviceId);
  }

  /** The TensorRT provider on GPU {@code deviceId}, with CUDA for the nodes TensorRT leaves. */
  public static ExecutionProvider tensorRt(int deviceId) {
    return new ExecutionProvider(Kind.TENSORRT, deviceId);
  }

  /**
   * Parses {@code cpu}, {@code auto}, {@code cuda}, {@code cuda:N}, {@code tensorrt}, {@code
   * tensorrt:N} (case-insensitive; N = GPU device id, default 0).
   *
   * @throws IllegalArgumentException naming the accepted forms when {@code spec} is none of them
   */
  public static ExecutionProvider parse(String spec) {
    Objects.requireNonNull(spec, "spec");
    String s = spec.trim().toLowerCase(Locale.ROOT);
    String name = s;
    int device = 0;
    int colon = s.indexOf(':');
    if (colon >= 0) {
      name = s.substring(0, colon);
      try {
        device = Integer.parseInt(s.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "bad execution provider '" + spec + "': device after ':' must be an integer");
      }
    }
    switch (name) {
      case "cpu":
      case "auto":
        if (colon >= 0) {
          throw new IllegalArgumentException(
              "bad execution provider '" + spec + "': '" + name + "' takes no device id");
        }
        return name.equals("cpu") ? CPU : AUTO;
      case "cuda":
        return cuda(device);
      case "tensorrt":
      case "trt":
        return tensorRt(device);
      default:
        throw new IllegalArgumentException(
            "unknown execution provider '"
                + spec
                + "': expected cpu, auto, cuda[:device] or tensorrt[:device]");
    }
  }

  public Kind kind() {
    return kind;
  }

  /** GPU device id (0-based); 0 for CPU and AUTO. */
  public int deviceId() {
    return deviceId;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ExecutionProvider
        && ((ExecutionProvider) o).kind == kind
        && ((ExecutionProvider) o).deviceId == deviceId;
  }

  @Override
  public int hashCode() {
    return kind.hashCode() * 31 + deviceId;
  }

  /** The form {@link #parse} accepts, e.g. {@code cuda:1}. */
  @Override
  public String toString() {
    switch (kind) {
      case CUDA:
        return "cuda:" + deviceId;
      case TENSORRT:
        return "tensorrt:" + deviceId;
      default:
        return kind.name().toLowerCase(Locale.ROOT);
    }
  }
}
