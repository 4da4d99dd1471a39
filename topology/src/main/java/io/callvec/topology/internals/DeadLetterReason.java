package io.callvec.topology.internals;

/**
 * Why an input record went to the dead-letter topic; the name is the {@code callvec.dlq.reason}
 * header. Records that cannot even be deserialised are sent by Kafka Streams' own handler with its
 * {@code __streams.errors.*} headers instead.
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
  MALFORMED_AUDIO
}
