package io.callvec.topology.internals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Everything callvec keeps about one open call × channel, apart from its buffered audio (block
 * store) and its windows waiting for inference (pending store). Serialised into the channel store
 * on every chunk, so it is kept small: the front end's state (reorder buffer of at most the
 * configured lateness, resampler history), the window cutter's positions, and the running sums of
 * the call embedding.
 *
 * <p>Invariant: the channel's audio blocks cover [min(pending window starts, nextWindowStart),
 * front end's timeline end).
 *
 * <p>Size bound, in bytes: about 100 + channel name + front-end state (≈ lateness × source rate ×
 * 4 + resampler history) + 8 × dimension (the running vector sum in doubles).
 */
public final class ChannelState {
  private static final byte VERSION = 3;
  /** The previous layout: the same without {@link #failedSegments}. */
  private static final byte VERSION_2 = 2;
  /** The first layout: as layout 2 without {@link #lastSeenInputMs}. */
  private static final byte VERSION_1 = 1;
  /** {@link #lastSeenInputMs} of a state that has none (written in layout 1). */
  static final long NEVER = Long.MIN_VALUE;

  String channelName = "";
  /** The stream's encoding (schema enum ordinal) and rate, fixed by its first chunk. */
  int encodingOrdinal = -1;
  int sampleRateHz;
  /** State of the positional audio front end (assembler, resampler, window planner). */
  byte[] frontEnd = new byte[0];
  /** Start of the next window (samples at 16 kHz): audio before it is needed by pending windows only. */
  long nextWindowStart;

  /** Segments whose embedding is still pending. */
  int pendingWindows;
  /** Segments embedded and pooled into the call sum. */
  int embeddedSegments;
  /** Segments whose window the model failed on alone (dead-lettered as poison windows, not pooled); 0 in layouts 1 and 2. */
  int failedSegments;
  /** Duration-weighted sum of segment vectors (weights in samples); null before the first. */
  double[] vectorSum;
  long weightSamples;
  long firstSegmentStart = -1;
  long lastSegmentEnd = -1;
  long firstChunkTimestampMs = Long.MAX_VALUE;
  long lastChunkTimestampMs = Long.MIN_VALUE;
  /** 0 = open, else the end reason's ordinal + 1 (schema enum CallEndReason). */
  int endReason;
  /**
   * The task's input clock when the last chunk was accepted, ms: the task's stream time (the
   * largest record timestamp it has processed), at most the wall clock (see {@link IdleReaper}).
   * The idle timeout compares it with the input clock now, so time the task spent away, being
   * restored or catching up on a backlog does not count; the time index holds the same time to
   * the second. Layout 2 wrote wall-clock time here (equal for a live feed); {@link #NEVER} in a
   * state written in layout 1.
   */
  long lastSeenInputMs = NEVER;

  boolean isEnded() {
    return endReason != 0;
  }

  byte[] toBytes() {
    byte[] name = channelName.getBytes(StandardCharsets.UTF_8);
    int dim = vectorSum == null ? -1 : vectorSum.length;
    ByteBuffer b = ByteBuffer.allocate(1 + 4 + name.length + 8 + 4 + frontEnd.length + 8
        + 4 * 3 + 4 + Math.max(0, dim) * 8 + 8 * 6 + 4);
    b.put(VERSION).putInt(name.length).put(name).putInt(encodingOrdinal).putInt(sampleRateHz);
    b.putInt(frontEnd.length).put(frontEnd);
    b.putLong(nextWindowStart);
    b.putInt(pendingWindows).putInt(embeddedSegments).putInt(endReason);
    b.putInt(dim);
    for (int i = 0; i < dim; i++) {
      b.putDouble(vectorSum[i]);
    }
    b.putLong(weightSamples).putLong(firstSegmentStart).putLong(lastSegmentEnd);
    b.putLong(firstChunkTimestampMs).putLong(lastChunkTimestampMs);
    b.putLong(lastSeenInputMs);
    b.putInt(failedSegments);
    return b.array();
  }

  static ChannelState fromBytes(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    byte v = b.get();
    if (v != VERSION && v != VERSION_2 && v != VERSION_1) {
      throw new IllegalStateException("channel state version " + v + " is not supported (expected " + VERSION_1 + ".." + VERSION + ")");
    }
    ChannelState s = new ChannelState();
    s.channelName = string(b);
    s.encodingOrdinal = b.getInt();
    s.sampleRateHz = b.getInt();
    s.frontEnd = new byte[b.getInt()];
    b.get(s.frontEnd);
    s.nextWindowStart = b.getLong();
    s.pendingWindows = b.getInt();
    s.embeddedSegments = b.getInt();
    s.endReason = b.getInt();
    int dim = b.getInt();
    if (dim >= 0) {
      s.vectorSum = new double[dim];
      for (int i = 0; i < dim; i++) {
        s.vectorSum[i] = b.getDouble();
      }
    }
    s.weightSamples = b.getLong();
    s.firstSegmentStart = b.getLong();
    s.lastSegmentEnd = b.getLong();
    s.firstChunkTimestampMs = b.getLong();
    s.lastChunkTimestampMs = b.getLong();
    s.lastSeenInputMs = v == VERSION_1 ? NEVER : b.getLong();
    s.failedSegments = v == VERSION ? b.getInt() : 0;
    if (b.hasRemaining()) {
      throw new IllegalStateException("channel state has " + b.remaining() + " trailing bytes");
    }
    return s;
  }

  private static String string(ByteBuffer b) {
    byte[] x = new byte[b.getInt()];
    b.get(x);
    return new String(x, StandardCharsets.UTF_8);
  }
}
