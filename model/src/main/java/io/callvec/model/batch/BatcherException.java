package io.callvec.model.batch;

/**
 * Base of the batcher's own (unchecked) exceptions: a window was refused at submission ({@link
 * QueueFullException}, {@link EngineClosedException}, {@link WorkerDiedException}, {@link
 * SubmitInterruptedException}) or was dropped by a shutdown ({@link EngineClosedException}) or a
 * dead worker ({@link WorkerDiedException}) as the failure of its future.
 *
 * <p>Inference failures are not of this type: their futures fail with a {@link
 * PoisonWindowException} or the embedder's {@link io.callvec.model.InferenceException}.
 */
public class BatcherException extends RuntimeException {

  public BatcherException(String message) {
    super(message);
  }

  public BatcherException(String message, Throwable cause) {
    super(message, cause);
  }
}
