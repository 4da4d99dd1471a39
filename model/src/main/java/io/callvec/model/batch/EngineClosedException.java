package io.callvec.model.batch;

/**
 * The engine is shut down: thrown by {@link BatchingEngine#submit(float[])} after {@link
 * BatchingEngine#shutdown(java.time.Duration)} / {@link BatchingEngine#close()} began (also to a
 * submitter that was blocked on a full queue at that moment), and used as the failure of every
 * window's future that the shutdown could not finish within its drain timeout.
 */
public class EngineClosedException extends BatcherException {

  public EngineClosedException(String message) {
    super(message);
  }
}
