package io.callvec.schemas.registry;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A Confluent-framed value names a schema id that the registry does not know (HTTP 404, error code
 * 40403). Bad data, not retryable: the record belongs in the dead-letter topic.
 */
public final class UnknownSchemaIdException extends SerializationException {
  private final int schemaId;

  public UnknownSchemaIdException(int schemaId, String message) {
    super(message);
    this.schemaId = schemaId;
  }

  /** The id the value carried. */
  public int schemaId() {
    return schemaId;
  }
}
