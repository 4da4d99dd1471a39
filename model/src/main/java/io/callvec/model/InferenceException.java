package io.callvec.model;

/**
 * A batch could not be embedded. {@link #isTransient()} tells a retry policy whether running the
 * same batch again may succeed (e.g. a CUDA out-of-memory under transient load) or not (a model
 * that rejects its input).
 */
public class InferenceException extends Exception {
  private final boolean transientFailure;

  public InferenceException(String message, Throwable cause, boolean transientFailure) {
    super(message, cause);
    this.transientFailure = transientFailure;
  }

  public InferenceException(String message, boolean transientFailure) {
    this(message, null, transientFailure);
  }

  /** True when the same batch may succeed if run again. */
  public boolean isTransient() {
    return transientFailure;
  }
}
