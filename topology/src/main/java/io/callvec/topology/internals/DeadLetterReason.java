package io.callvec.topology.internals;

/**
 * Why an input record went to the dead-letter topic; the name is the {@code callvec.dlq.reason}
 * header. Records that cannot even be deserialised are sent by Kafka Streams' own handler with its
 * {@code __streams.errors.*} headers instead, and one of the last three reasons in the header
 * {@code callvec.dlq.decode.reason} ({@code io.callvec.app.DeadLetterDeserializationHandler}).
 */
public enum DeadLetterReason {
  NULL_KEY,
  NULL_VALUE,
  KEY_MISMATCH,
  INVALID_CALL_ID,
  CALL_ID_TOO_LONG,
  INVALID_CHANNEL,
  INVALID_SEQUENCE,
  INVALID_TIMESTAMP,
  UNKNOWN_ENCODING,
  UNSUPPORTED_SAMPLE_RATE,
  FORMAT_CHANGED,
  EMPTY_PAYLOAD,
  ODD_PCM16_PAYLOAD,
  OVERSIZE_PAYLOAD,
  DUPLICATE,
  CHUNK_AFTER_END,
  TOO_LATE,
  MALFORMED_AUDIO,
  /** Confluent framing names a schema id that the registry does not know. */
  UNKNOWN_SCHEMA_ID,
  /** Not in the configured wire format (Confluent magic byte 00 or single-object C3 01 missing). */
  WRONG_MAGIC_BYTE,
  /** Any other deserialisation failure: corrupt or truncated body, unreadable writer schema, null value. */
  UNDECODABLE
}
