package io.callvec.topology.internals;

/**
 * Why an input record went to the dead-letter topic; the name is the {@code callvec.dlq.reason}
 * header. {@link #POISON_WINDOW} marks a window, not an input record. Records that cannot even be deserialised are sent by Kafka Streams' own handler with its
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
  /**
   * Not an input record: a window the model failed on alone while it embedded others (after the
   * batcher's retries and its split of the failed batch). The record is a coordinates-only
   * {@code AudioChunk} (call id, channel, sequence number = segment index, media timestamp = the
   * window's start, empty payload); the detail header names the window's 16 kHz samples and the cause.
   */
  POISON_WINDOW,
  /** Confluent framing names a schema id that the registry does not know. */
  UNKNOWN_SCHEMA_ID,
  /** Not in the configured wire format (Confluent magic byte 00 or single-object C3 01 missing). */
  WRONG_MAGIC_BYTE,
  /** Any other deserialisation failure: corrupt or truncated body, unreadable writer schema, null value. */
  UNDECODABLE
}
