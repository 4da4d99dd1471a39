package io.callvec.topology.internals;

import io.callvec.model.ModelInfo;
import java.util.concurrent.CompletableFuture;

/** The processor's view of the shared micro-batcher (one per JVM, shared by every task). */
public interface InferenceClient {
  /**
   * Queues a 16 kHz window; blocks while the batcher's queue is full, up to the batcher's submit
   * timeout ({@code BatchingOptions#submitTimeout}, 10 s by default), then throws {@link SaturatedException}. The
   * array is not modified and must not be modified by the caller until the future completes.
   */
  CompletableFuture<float[]> submit(float[] window16k) throws SaturatedException;

  /**
   * The batcher stayed full for its whole submit timeout; nothing was queued. The caller decides
   * whether to wait and submit again (the call processor does, inside the chunk it is processing).
   */
  final class SaturatedException extends RuntimeException {
    public SaturatedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Provenance and dimension of the vectors. */
  ModelInfo modelInfo();
}
