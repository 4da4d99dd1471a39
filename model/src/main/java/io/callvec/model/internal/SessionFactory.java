package io.callvec.model.internal;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.providers.OrtTensorRTProviderOptions;
import io.callvec.model.ExecutionProvider;
import io.callvec.model.ModelLoadException;
import io.callvec.model.ModelOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates the ONNX Runtime session for a model file or bytes with the requested provider. */
public final class SessionFactory {
  private static final Logger LOG = LoggerFactory.getLogger(SessionFactory.class);

  private SessionFactory() {}

  /** A created session and the provider it actually runs on (e.g. "cpu", "cuda:0"). */
  public record Created(OrtSession session, String provider) {}

  /** Model bytes or a file path; exactly one is non-null. */
  public record Source(Path file, byte[] bytes, String name) {}

  public static Created create(Source source, ModelOptions options) throws ModelLoadException {
    OrtEnvironment env = OrtRuntime.environment();
    ExecutionProvider p = options.provider();
    EnumSet<OrtProvider> available = OrtRuntime.availableProviders();
    switch (p.kind()) {
      case CPU:
        return new Created(open(env, source, options, p), "cpu");
      case CUDA:
        requireProvider(available, OrtProvider.CUDA, p);
        return new Created(open(env, source, options, p), p.toString());
      case TENSORRT:
        requireProvider(available, OrtProvider.TENSOR_RT, p);
        return new Created(open(env, source, options, p), p.toString());
      case AUTO:
      default:
        if (!available.contains(OrtProvider.CUDA)) {
          LOG.info(
              "execution provider auto -> cpu: this ONNX Runtime build has no CUDA provider "
                  + "(available {}; the -Pgpu build adds CUDA)",
              available);
          return new Created(open(env, source, options, ExecutionProvider.cpu()), "cpu");
        }
        ExecutionProvider cuda = ExecutionProvider.cuda(0);
        try {
          Created c = new Created(open(env, source, options, cuda), cuda.toString());
          LOG.info("execution provider auto -> cuda:0: CUDA provider present and device 0 usable");
          return c;
        } catch (ModelLoadException e) {
          LOG.info(
              "execution provider auto -> cpu: CUDA provider present but unusable ({})",
              e.getMessage());
          return new Created(open(env, source, options, ExecutionProvider.cpu()), "cpu");
        }
    }
  }

  private static void requireProvider(
      EnumSet<OrtProvider> available, OrtProvider needed, ExecutionProvider requested)
      throws ModelLoadException {
    if (!available.contains(needed)) {
      throw new ModelLoadException(
          "execution provider "
              + requested
              + " requested, but this ONNX Runtime build offers only "
              + available
              + ": use the GPU build (Maven profile -Pgpu, artifact onnxruntime_gpu) on a machine "
              + "with CUDA 12, or provider cpu");
    }
  }

  /** ONNX Runtime session config key: whether idle intra-op pool threads spin ("1", its default) or sleep ("0"). */
  static final String ALLOW_SPINNING_KEY = "session.intra_op.allow_spinning";

  private static OrtSession open(
      OrtEnvironment env, Source source, ModelOptions options, ExecutionProvider p)
      throws ModelLoadException {
    try (SessionOptions so = new SessionOptions()) {
      so.setOptimizationLevel(SessionOptions.OptLevel.ALL_OPT);
      so.setExecutionMode(SessionOptions.ExecutionMode.SEQUENTIAL);
      if (options.intraOpThreads() > 0) {
        so.setIntraOpNumThreads(options.intraOpThreads());
      }
      so.addConfigEntry(ALLOW_SPINNING_KEY, options.intraOpSpinning() ? "1" : "0");
      addProvider(so, options, p);
      return source.file() != null
          ? env.createSession(source.file().toString(), so)
          : env.createSession(source.bytes(), so);
    } catch (OrtException e) {
      throw new ModelLoadException(
          source.name()
              + ": ONNX Runtime could not create a session on "
              + p
              + " ("
              + sizeOf(source)
              + "): "
              + e.getMessage()
              + (p.kind() == ExecutionProvider.Kind.CPU
                  ? "; expected a complete, valid ONNX model file"
                  : ""),
          e);
    }
  }

  private static void addProvider(SessionOptions so, ModelOptions options, ExecutionProvider p)
      throws OrtException, ModelLoadException {
    switch (p.kind()) {
      case CUDA:
        so.addCUDA(p.deviceId());
        break;
      case TENSORRT:
        try (OrtTensorRTProviderOptions trt = new OrtTensorRTProviderOptions(p.deviceId())) {
          if (options.tensorRtFp16()) {
            trt.add("trt_fp16_enable", "1");
          }
          if (options.tensorRtEngineCacheDir().isPresent()) {
            Path dir = options.tensorRtEngineCacheDir().get();
            try {
              Files.createDirectories(dir);
            } catch (IOException e) {
              throw new ModelLoadException("cannot create TensorRT engine cache folder " + dir, e);
            }
            trt.add("trt_engine_cache_enable", "1");
            trt.add("trt_engine_cache_path", dir.toAbsolutePath().toString());
          }
          so.addTensorrt(trt);
        }
        so.addCUDA(p.deviceId()); // runs the nodes TensorRT does not take
        break;
      default:
        break; // CPU is always there
    }
  }

  private static String sizeOf(Source s) {
    if (s.bytes() != null) {
      return s.bytes().length + " bytes";
    }
    try {
      return Files.size(s.file()) + " bytes";
    } catch (IOException e) {
      return "size unknown";
    }
  }
}
