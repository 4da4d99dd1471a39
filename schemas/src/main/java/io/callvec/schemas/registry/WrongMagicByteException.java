package io.callvec.schemas.registry;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A value that is not in the Confluent wire format: its first byte is not {@code 0x00}, or it is
 * shorter than the 5-byte header. Bad data, not retryable: the record belongs in the dead-letter
 * topic.
 */
public final class WrongMagicByteException extends SerializationException {
  public WrongMagicByteException(String message) {
    super(message);
  }
}
