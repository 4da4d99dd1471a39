package io.callvec.topology.internals;

/** A chunk that cannot be used; {@link #reason()} goes into the dead-letter record's header. */
public final class InvalidChunkException extends Exception {
  private final DeadLetterReason reason;

  public InvalidChunkException(DeadLetterReason reason, String detail) {
    super(detail);
    this.reason = reason;
  }

  public DeadLetterReason reason() {
    return reason;
  }
}
