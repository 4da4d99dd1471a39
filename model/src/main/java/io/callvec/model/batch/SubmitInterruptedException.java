package io.callvec.model.batch;

/**
 * The submitting thread was interrupted while {@link BatchingEngine#submit(float[])} waited for
 * room in a full queue. The window was not queued; the thread's interrupt flag is set again.
 */
public class SubmitInterruptedException extends BatcherException {

  public SubmitInterruptedException(String message, InterruptedException cause) {
    super(message, cause);
  }
}
