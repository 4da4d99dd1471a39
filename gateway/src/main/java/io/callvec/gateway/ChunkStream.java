package io.callvec.gateway;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.Channel;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code AudioChunk} records of one call x channel stream, cut to the configured chunk length.
 * Not thread-safe: one connection feeds it.
 *
 * <p>Two ways in:
 *
 * <ul>
 *   <li>{@link #frame}: numbered, timestamped frames from the protocol (Twilio {@code media.chunk}
 *       and {@code media.timestamp}). Contiguous frames are joined until a record holds
 *       {@code chunkMs} of audio; a record carries the sequence number and timestamp of its first
 *       frame, so with 20 ms frames and {@code chunkMs = 20} records are the frames passed through, and
 *       with {@code chunkMs = 100} sequence numbers step by 5. A frame that is not contiguous with the
 *       record being built (a gap, or a reordered frame) closes it and starts a new one: no frame is
 *       dropped or moved, the consumer places records by their media timestamps.
 *   <li>{@link #samples}: unnumbered contiguous audio (AudioHook binary frames). Records are cut every
 *       {@code chunkMs}; sequence numbers count records (+1 each), timestamps are the stream position.
 *       {@link #skip} moves the position on without audio (AudioHook {@code discarded}, pauses).
 * </ul>
 *
 * {@link #end} flushes what is held and adds the empty end-of-stream record (sequence number one past
 * the last, timestamp at the end of the audio), as {@code callvec replay} does.
 */
final class ChunkStream {
  private final String callId;
  private final Channel channel;
  private final AudioEncoding encoding;
  private final int sampleRateHz;
  private final int bytesPerSample;
  /** Target record length in bytes of payload. */
  private final int chunkBytes;
  private Map<String, String> metadata;

  private final ByteArrayOutputStream held = new ByteArrayOutputStream();
  /** Sequence number and timestamp (ms) of the held record's first audio. */
  private long heldSequence;
  private long heldTimestampMs;
  /** Last sequence number used (frame mode: of the last frame; sample mode: of the last record); -1 before any. */
  private long lastSequence = -1;
  /** Stream position after the last audio, in samples (sample mode), or ms (frame mode via endTimestampMs). */
  private long positionSamples;
  private long endTimestampMs;
  private long records;
  private boolean ended;

  /**
   * @param chunkMs record length, ms of audio (at least one sample)
   * @param firstSequence sequence number of the first record in sample mode (frame mode uses the frames')
   * @param metadata put on the stream's first record (null: none)
   */
  ChunkStream(String callId, Channel channel, AudioEncoding encoding, int sampleRateHz, int chunkMs, long firstSequence, long startSamples,
      Map<String, String> metadata) {
    this.callId = callId;
    this.channel = channel;
    this.encoding = encoding;
    this.sampleRateHz = sampleRateHz;
    this.bytesPerSample = encoding == AudioEncoding.PCM_S16LE ? 2 : 1;
    long samples = (long) chunkMs * sampleRateHz / 1000;
    if (samples < 1) {
      throw new IllegalArgumentException("a chunk of " + chunkMs + " ms at " + sampleRateHz + " Hz holds no sample");
    }
    this.chunkBytes = Math.toIntExact(samples * bytesPerSample);
    this.lastSequence = firstSequence - 1;
    this.positionSamples = startSamples;
    this.endTimestampMs = startSamples * 1000 / sampleRateHz;
    this.metadata = metadata;
  }

  Channel channel() {
    return channel;
  }

  int bytesPerSample() {
    return bytesPerSample;
  }

  /** Next sequence number in sample mode. */
  long nextSequence() {
    return lastSequence + 1;
  }

  long positionSamples() {
    return positionSamples;
  }

  long records() {
    return records;
  }

  boolean ended() {
    return ended;
  }

  /** A protocol frame; returns the records it completes (0 or more). */
  List<AudioChunk> frame(long sequence, long timestampMs, byte[] payload) {
    checkOpen();
    List<AudioChunk> out = new ArrayList<>(2);
    long frameMs = (long) payload.length / bytesPerSample * 1000 / sampleRateHz;
    boolean contiguous = held.size() > 0 && sequence > lastSequence
        && Math.abs(timestampMs - (heldTimestampMs + (long) held.size() / bytesPerSample * 1000 / sampleRateHz)) <= 1;
    if (held.size() > 0 && !contiguous) {
      out.add(flush());
    }
    if (held.size() == 0) {
      heldSequence = sequence;
      heldTimestampMs = timestampMs;
    }
    held.writeBytes(payload);
    lastSequence = Math.max(lastSequence, sequence);
    endTimestampMs = Math.max(endTimestampMs, timestampMs + frameMs);
    if (held.size() >= chunkBytes) {
      out.add(flush());
    }
    return out;
  }

  /** Contiguous audio at the stream position; returns the records it completes. */
  List<AudioChunk> samples(byte[] audio, int offset, int length) {
    checkOpen();
    List<AudioChunk> out = new ArrayList<>(1 + length / chunkBytes);
    int at = offset;
    int end = offset + length;
    while (at < end) {
      if (held.size() == 0) {
        heldSequence = lastSequence + 1;
        heldTimestampMs = positionSamples * 1000 / sampleRateHz;
      }
      int n = Math.min(end - at, chunkBytes - held.size());
      held.write(audio, at, n);
      at += n;
      positionSamples += n / bytesPerSample;
      if (held.size() >= chunkBytes) {
        lastSequence = heldSequence;
        out.add(flush());
      }
    }
    endTimestampMs = positionSamples * 1000 / sampleRateHz;
    return out;
  }

  /** Moves the position on by {@code samples} without audio (flushing a partial record first). */
  List<AudioChunk> skip(long samples) {
    checkOpen();
    List<AudioChunk> out = new ArrayList<>(1);
    if (held.size() > 0) {
      lastSequence = heldSequence;
      out.add(flush());
    }
    positionSamples += samples;
    endTimestampMs = positionSamples * 1000 / sampleRateHz;
    return out;
  }

  /** The held partial record, if any (the stream stays open: a reconnection may continue it). */
  List<AudioChunk> flushHeld() {
    if (held.size() == 0 || ended) {
      return List.of();
    }
    lastSequence = Math.max(lastSequence, heldSequence);
    return List.of(flush());
  }

  /** The held partial record and the end-of-stream record. */
  List<AudioChunk> end() {
    checkOpen();
    List<AudioChunk> out = new ArrayList<>(flushHeld());
    out.add(record(lastSequence + 1, endTimestampMs, new byte[0], true));
    ended = true;
    return out;
  }

  private AudioChunk flush() {
    byte[] payload = held.toByteArray();
    held.reset();
    return record(heldSequence, heldTimestampMs, payload, false);
  }

  private AudioChunk record(long sequence, long timestampMs, byte[] payload, boolean endOfStream) {
    records++;
    AudioChunk c = AudioChunk.newBuilder()
        .setCallId(callId)
        .setChannel(channel)
        .setSequenceNumber(sequence)
        .setMediaTimestampMs(timestampMs)
        .setEncoding(encoding)
        .setSampleRateHz(sampleRateHz)
        .setPayload(ByteBuffer.wrap(payload))
        .setEndOfStream(endOfStream)
        .setMetadata(metadata)
        .build();
    metadata = null;
    return c;
  }

  private void checkOpen() {
    if (ended) {
      throw new IllegalStateException("stream " + callId + "/" + channel.getIndex() + " has ended");
    }
  }
}
