package io.callvec.topology.internals;

/** A chunk that cannot be used, with its dead-letter reason; the message is the detail header. */
final class InvalidChunkException extends Exception {
  final DeadLetterReason reason;

  InvalidChunkException(DeadLetterReason reason, String detail) {
    super(detail);
    this.reason = reason;
  }
}
