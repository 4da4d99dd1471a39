package io.callvec.topology.internals;

import io.callvec.audio.AudioFormatException;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.Channel;
import io.callvec.topology.TopologySettings;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The first step of a chunk: the checks that need no state (value present, key = call id, call id,
 * channel, sequence, timestamp, payload size). Each refusal is an {@link InvalidChunkException}
 * whose reason the processor dead-letters; checks that need the stream's state (ended, format
 * changed, duplicate, late) come later.
 */
final class ChunkIntake {
  private ChunkIntake() {}

  /**
   * Checks a record before any store is read.
   *
   * @throws InvalidChunkException with the dead-letter reason of the first check that fails
   */
  static void validate(Record<String, AudioChunk> record, TopologySettings settings) throws InvalidChunkException {
    AudioChunk chunk = record.value();
    if (chunk == null) {
      throw new InvalidChunkException(DeadLetterReason.NULL_VALUE, "record has no value (tombstone)");
    }
    if (record.key() == null && !settings.repartitionByCallId()) {
      throw new InvalidChunkException(DeadLetterReason.NULL_KEY,
          "record has no key: chunks must be keyed by call id so a stream stays in one partition (or set callvec.input.repartition=true)");
    }
    String callId = chunk.getCallId();
    if (callId == null || callId.isBlank() || callId.chars().anyMatch(Character::isISOControl)) {
      throw new InvalidChunkException(DeadLetterReason.INVALID_CALL_ID, "call id is empty or has control characters");
    }
    if (callId.length() > TopologySettings.MAX_CALL_ID_CHARS) {
      throw new InvalidChunkException(DeadLetterReason.CALL_ID_TOO_LONG,
          "call id has " + callId.length() + " chars, at most " + TopologySettings.MAX_CALL_ID_CHARS + " accepted");
    }
    if (record.key() != null && !record.key().equals(callId)) {
      // A chunk keyed otherwise may sit in another partition than the rest of its call, where a second
      // task would build a second, partial stream of it: never mix it in.
      throw new InvalidChunkException(DeadLetterReason.KEY_MISMATCH, "record key '" + DeadLetters.truncate(record.key(), 100)
          + "' is not the chunk's call id '" + DeadLetters.truncate(callId, 100) + "': chunks must be keyed by call id");
    }
    Channel channel = chunk.getChannel();
    if (channel == null || channel.getIndex() < 0 || channel.getIndex() > TopologySettings.MAX_CHANNEL_INDEX) {
      throw new InvalidChunkException(DeadLetterReason.INVALID_CHANNEL,
          "channel index must be 0.." + TopologySettings.MAX_CHANNEL_INDEX + ", got " + (channel == null ? null : channel.getIndex()));
    }
    if (chunk.getSequenceNumber() < 0) {
      throw new InvalidChunkException(DeadLetterReason.INVALID_SEQUENCE, "sequence number " + chunk.getSequenceNumber() + " < 0");
    }
    if (chunk.getMediaTimestampMs() < 0) {
      throw new InvalidChunkException(DeadLetterReason.INVALID_TIMESTAMP, "media timestamp " + chunk.getMediaTimestampMs() + " ms < 0");
    }
    int payloadBytes = payloadBytes(chunk);
    if (payloadBytes > settings.frontEnd().maxPayloadBytes()) {
      throw new InvalidChunkException(DeadLetterReason.OVERSIZE_PAYLOAD,
          "payload of " + payloadBytes + " bytes exceeds callvec.max.payload.bytes=" + settings.frontEnd().maxPayloadBytes());
    }
    if (payloadBytes == 0 && !chunk.getEndOfStream()) {
      throw new InvalidChunkException(DeadLetterReason.EMPTY_PAYLOAD, "empty payload on a chunk that is not end-of-stream");
    }
  }

  /** Bytes of the chunk's payload (0 for none). */
  static int payloadBytes(AudioChunk chunk) {
    return chunk.getPayload() == null ? 0 : chunk.getPayload().remaining();
  }

  /** The dead-letter reason of a front-end refusal. */
  static DeadLetterReason reasonOf(AudioFormatException.Reason r) {
    return switch (r) {
      case UNKNOWN_ENCODING -> DeadLetterReason.UNKNOWN_ENCODING;
      case UNSUPPORTED_SAMPLE_RATE -> DeadLetterReason.UNSUPPORTED_SAMPLE_RATE;
      case EMPTY_PAYLOAD -> DeadLetterReason.EMPTY_PAYLOAD;
      case PARTIAL_SAMPLE -> DeadLetterReason.ODD_PCM16_PAYLOAD;
      case PAYLOAD_TOO_LARGE -> DeadLetterReason.OVERSIZE_PAYLOAD;
      case FORMAT_CHANGED -> DeadLetterReason.FORMAT_CHANGED;
      case BAD_TIMESTAMP -> DeadLetterReason.INVALID_TIMESTAMP;
      case BAD_SEQUENCE_NUMBER -> DeadLetterReason.INVALID_SEQUENCE;
      default -> DeadLetterReason.MALFORMED_AUDIO;
    };
  }
}
