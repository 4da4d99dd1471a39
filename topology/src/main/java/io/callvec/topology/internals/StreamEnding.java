package io.callvec.topology.internals;

/**
 * When an end-of-stream chunk closes its stream: at once if every earlier chunk is in, else after
 * the missing ones arrive or the reorder lateness has passed on the task's input clock.
 *
 * <p>Chunks of a stream may arrive out of order within {@code callvec.reorder.lateness.ms}; the
 * end-of-stream chunk is no exception. An end-of-stream chunk accepted while sequence numbers
 * below its own are missing marks the stream <em>ending</em> ({@link ChannelState#endSequence},
 * durable in the channel store, and a {@link TimeIndex#END_WAIT} entry). An ending stream keeps its
 * front end open: late chunks numbered below the end-of-stream chunk's are accepted and their audio
 * reordered into the stream as if they had come in order, so the windows cut are those of an
 * in-order run. The stream is closed (its front end finished, the call embedding emitted once its
 * windows are embedded, end reason {@code END_OF_STREAM}) by the chunk that fills the last gap, or
 * by {@link IdleReaper#scanEndWaits} once the input clock has moved the reorder lateness past the
 * end-of-stream chunk; the input clock does not count time the task spent away, so a stream whose
 * late chunks wait in a backlog after a failover is not closed before they are read. Chunks
 * numbered above the end-of-stream chunk's are {@code CHUNK_AFTER_END}; the end-of-stream chunk
 * again is a {@code DUPLICATE}.
 *
 * <p>"Every earlier chunk is in" is counted, not listed: the stream keeps its lowest and highest
 * accepted sequence number and the number of chunks accepted (24 bytes, whatever the stream's
 * length), and is complete when that number reaches {@code endSequence − lowest + 1}. Limits: a
 * stream whose first chunks were lost, so that its lowest accepted number is not its first, counts
 * as complete without them (as an in-order stream would end); a state written by an older layout
 * starts counting at its next chunk, so its end-of-stream chunk waits the lateness if any chunk
 * before the upgrade is reordered after it; an end-of-stream chunk numbered below a chunk already
 * accepted (a source that numbers inconsistently) closes the stream at once, as before; a source
 * whose sequence numbers step by more than 1 per chunk (the schema says 1; {@code callvec ingest}'s
 * frame mode with {@code --chunk-ms} above 20 steps by chunkMs / 20) never looks complete, so its
 * end-of-stream chunk always waits the lateness: nothing is lost, the call embedding comes that much
 * later. With a lateness of 0 ms the end-of-stream chunk always closes at once.
 *
 * <p>Not thread-safe: used by one processor on its stream thread.
 */
final class StreamEnding {
  /** Longest pause between two checks for ending streams whose wait is over, ms. */
  static final long MAX_SCAN_INTERVAL_MS = 100;

  private final long reorderLatenessMs;
  private TimeIndex timeIndex;

  /** @param reorderLatenessMs the front end's reorder lateness, ms (≥ 0): the longest wait of an ending stream */
  StreamEnding(long reorderLatenessMs) {
    if (reorderLatenessMs < 0) {
      throw new IllegalArgumentException("reorder lateness must be >= 0 ms, was " + reorderLatenessMs);
    }
    this.reorderLatenessMs = reorderLatenessMs;
  }

  void init(TimeIndex index) {
    this.timeIndex = index;
  }

  /** How long an ending stream waits for missing chunks on the input clock, ms. */
  long waitMs() {
    return reorderLatenessMs;
  }

  /**
   * How often the processor looks for ending streams whose wait is over, ms: a fifth of the
   * lateness, between 10 and {@link #MAX_SCAN_INTERVAL_MS} (a stream closes at most that much after its wait).
   */
  long scanIntervalMs() {
    return Math.max(10, Math.min(MAX_SCAN_INTERVAL_MS, reorderLatenessMs / 5));
  }

  /**
   * Refuses a chunk that an ending stream cannot take; call before the chunk changes anything.
   *
   * @throws InvalidChunkException {@code CHUNK_AFTER_END} for a sequence number above the
   *     end-of-stream chunk's, {@code DUPLICATE} for the end-of-stream chunk's own number
   */
  static void admit(ChannelState state, String streamName, long sequence) throws InvalidChunkException {
    if (!state.isEnding()) {
      return;
    }
    if (sequence > state.endSequence) {
      throw new InvalidChunkException(DeadLetterReason.CHUNK_AFTER_END, "stream " + streamName + " has ended at sequence "
          + state.endSequence + " (waiting for earlier chunks); chunk " + sequence + " comes after it");
    }
    if (sequence == state.endSequence) {
      throw new InvalidChunkException(DeadLetterReason.DUPLICATE, "duplicate of the accepted end-of-stream chunk (sequence " + sequence + ")");
    }
  }

  /** Counts an accepted chunk (after the front end took it, duplicates and late chunks excluded). */
  static void accepted(ChannelState state, long sequence) {
    state.lowestSequence = state.lowestSequence < 0 ? sequence : Math.min(state.lowestSequence, sequence);
    state.highestSequence = Math.max(state.highestSequence, sequence);
    state.acceptedChunks++;
  }

  /**
   * After an accepted chunk: whether the stream is to be closed now. An end-of-stream chunk with
   * earlier chunks missing marks the stream ending at input-clock time {@code inputMs} (and indexes
   * it) and returns false; a chunk that completes an ending stream returns true.
   *
   * @param prefix the stream's channel prefix ({@link StoreKeys#channelPrefix})
   */
  boolean closesNow(byte[] prefix, ChannelState state, long sequence, boolean endOfStream, long inputMs) {
    if (state.isEnding()) {
      return isComplete(state, state.endSequence);
    }
    if (!endOfStream) {
      return false;
    }
    if (reorderLatenessMs == 0 || state.highestSequence > sequence || isComplete(state, sequence)) {
      return true;
    }
    state.endSequence = sequence;
    state.endWaitSinceInputMs = inputMs;
    timeIndex.add(TimeIndex.END_WAIT, prefix, inputMs);
    return false;
  }

  /** Whether the wait of an ending stream is over at input-clock time {@code inputMs}. */
  boolean waitIsOver(ChannelState state, long inputMs) {
    return state.isEnding() && inputMs - state.endWaitSinceInputMs >= reorderLatenessMs;
  }

  /** Removes an ending stream's index entry when it is closed (by any path); nothing for an open stream. */
  void closing(byte[] prefix, ChannelState state) {
    if (state.isEnding()) {
      timeIndex.remove(TimeIndex.END_WAIT, prefix, state.endWaitSinceInputMs);
    }
  }

  /** Every sequence number from the lowest accepted to {@code endSequence} has been accepted. */
  private static boolean isComplete(ChannelState state, long endSequence) {
    return state.lowestSequence >= 0 && state.acceptedChunks >= endSequence - state.lowestSequence + 1;
  }
}
