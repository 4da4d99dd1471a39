package io.callvec.topology.internals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Everything callvec keeps about one open call × channel, apart from its buffered audio (block
 * store), its windows waiting for inference and its running vector sum (pending store, {@link
 * CallSums}). Serialised into the channel store on every chunk, so it is kept small and its size
 * does not depend on the model's dimension: the front end's state (reorder buffer of at most the
 * configured lateness, resampler history), the window cutter's positions, and the call embedding's
 * counters.
 *
 * <p>Invariant: the channel's audio blocks cover [min(pending window starts, nextWindowStart),
 * front end's timeline end).
 *
 * <p>Size bound, in bytes: about 140 + channel name + front-end state (≈ lateness × source rate ×
 * 4 + resampler history).
 *
 * <p>Layouts: 5 (written now) is layout 4 with the end-of-stream wait ({@link #endSequence}, {@link
 * #endWaitSinceInputMs}) and the sequence numbers it needs ({@link #lowestSequence}, {@link
 * #highestSequence}, {@link #acceptedChunks}); a state of an older layout reads with none of them, so
 * its sequence tracking starts at its next chunk (see {@link StreamEnding}). Layout 4 has no vector
 * sum. Layout 3 and older carried the running sum (8 × dimension bytes) inline; such a state,
 * written by an older instance, reads into {@link #vectorSum}, and {@link #toBytes} writes it back
 * in layout 3 (which has no sequence tracking: the processor moves the sum before it counts a chunk)
 * until the processor has moved the sum into {@link CallSums} and cleared the field (see {@code
 * CallProcessor}): a rolling upgrade loses no sum whichever path rewrites the state first. An
 * instance of an older version cannot read layout 5 (it refuses the state by its version byte).
 */
public final class ChannelState {
  private static final byte VERSION = 5;
  /** The previous layout: as layout 5 without the end-of-stream wait and the sequence tracking. */
  private static final byte VERSION_4 = 4;
  /** The layout of the previous release: as layout 4 with the running vector sum inline. */
  private static final byte VERSION_3 = 3;
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
  /**
   * The duration-weighted sum of segment vectors (weights in samples) of a state read in layout 3 or
   * older, which kept it inline; null in layout 4, whose sum lives in {@link CallSums}.
   */
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
  /** Lowest sequence number accepted since tracking started (layout 5; -1: none yet). */
  long lowestSequence = -1;
  /** Highest sequence number accepted since tracking started (layout 5; -1: none yet). */
  long highestSequence = -1;
  /** Chunks accepted (not duplicates, not too late) since tracking started, the end-of-stream chunk included. */
  long acceptedChunks;
  /**
   * Sequence number of the end-of-stream chunk of a stream that is <em>ending</em>: the chunk came
   * while earlier sequence numbers were missing, and the stream waits for them (at most the reorder
   * lateness on the input clock); -1 while the stream is open (see {@link StreamEnding}).
   */
  long endSequence = -1;
  /** The task's input clock when the end-of-stream chunk of an ending stream was accepted, ms; {@link #NEVER} otherwise. */
  long endWaitSinceInputMs = NEVER;

  /** Whether an end-of-stream chunk was accepted and the stream waits for missing earlier chunks. */
  boolean isEnding() {
    return endSequence >= 0;
  }

  boolean isEnded() {
    return endReason != 0;
  }

  /** Layout 5, or layout 3 while {@link #vectorSum} holds a sum not yet moved to {@link CallSums}. */
  byte[] toBytes() {
    boolean inline = vectorSum != null;
    byte[] name = channelName.getBytes(StandardCharsets.UTF_8);
    int dim = inline ? vectorSum.length : 0;
    ByteBuffer b = ByteBuffer.allocate(1 + 4 + name.length + 8 + 4 + frontEnd.length + 8
        + 4 * 3 + (inline ? 4 + dim * 8 : 0) + 8 * 6 + 4 + (inline ? 0 : 8 * 5));
    b.put(inline ? VERSION_3 : VERSION).putInt(name.length).put(name).putInt(encodingOrdinal).putInt(sampleRateHz);
    b.putInt(frontEnd.length).put(frontEnd);
    b.putLong(nextWindowStart);
    b.putInt(pendingWindows).putInt(embeddedSegments).putInt(endReason);
    if (inline) {
      b.putInt(dim);
      for (int i = 0; i < dim; i++) {
        b.putDouble(vectorSum[i]);
      }
    }
    b.putLong(weightSamples).putLong(firstSegmentStart).putLong(lastSegmentEnd);
    b.putLong(firstChunkTimestampMs).putLong(lastChunkTimestampMs);
    b.putLong(lastSeenInputMs);
    b.putInt(failedSegments);
    if (!inline) {
      b.putLong(lowestSequence).putLong(highestSequence).putLong(acceptedChunks).putLong(endSequence).putLong(endWaitSinceInputMs);
    }
    return b.array();
  }

  static ChannelState fromBytes(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    byte v = b.get();
    if (v != VERSION && v != VERSION_4 && v != VERSION_3 && v != VERSION_2 && v != VERSION_1) {
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
    int dim = v == VERSION || v == VERSION_4 ? -1 : b.getInt();
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
    s.failedSegments = v == VERSION || v == VERSION_4 || v == VERSION_3 ? b.getInt() : 0;
    if (v == VERSION) {
      s.lowestSequence = b.getLong();
      s.highestSequence = b.getLong();
      s.acceptedChunks = b.getLong();
      s.endSequence = b.getLong();
      s.endWaitSinceInputMs = b.getLong();
    }
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
