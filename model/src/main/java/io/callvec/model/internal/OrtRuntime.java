package io.callvec.model.internal;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtProvider;
import java.util.EnumSet;

/** The process-wide ONNX Runtime environment (one per JVM, never closed: ORT owns its lifetime). */
public final class OrtRuntime {
  private OrtRuntime() {}

  private static final class Holder {
    static final OrtEnvironment ENV =
        OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, "callvec");
  }

  /** The shared environment, created on first use. */
  public static OrtEnvironment environment() {
    return Holder.ENV;
  }

  /** Execution providers compiled into the ONNX Runtime jar on the class path. */
  public static EnumSet<OrtProvider> availableProviders() {
    environment();
    return OrtEnvironment.getAvailableProviders();
  }
}
