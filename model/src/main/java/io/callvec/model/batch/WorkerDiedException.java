package io.callvec.model.batch;

/**
 * A batcher worker thread died (an {@link Error} thrown by the embedder, or a fault in the engine
 * itself): the failure of the windows of the batch it was running and, once no worker is left, of
 * every queued window; then also thrown by every submit. The cause is what killed the worker. The
 * engine does not replace dead workers: {@link BatchingEngine#health()} reports them, and the
 * application should restart.
 */
public class WorkerDiedException extends BatcherException {

  public WorkerDiedException(String message, Throwable cause) {
    super(message, cause);
  }
}
