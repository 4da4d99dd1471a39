package io.callvec.topology.internals;

import io.callvec.model.ModelInfo;
import java.util.concurrent.CompletableFuture;

/** The processor's view of the shared micro-batcher (one per JVM, shared by every task). */
public interface InferenceClient {
  /**
   * Queues a 16 kHz window; may block while the batcher's queue is full (backpressure). The array
   * is not modified and must not be modified by the caller until the future completes.
   */
  CompletableFuture<float[]> submit(float[] window16k) throws SaturatedException;

  /** The batcher stayed full for its whole submit timeout: the caller should forward results and try again. */
  final class SaturatedException extends RuntimeException {
    public SaturatedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Provenance and dimension of the vectors. */
  ModelInfo modelInfo();
}
