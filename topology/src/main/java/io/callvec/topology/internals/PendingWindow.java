package io.callvec.topology.internals;

import java.nio.ByteBuffer;

/**
 * A window cut but not yet embedded: its coordinates on the 16 kHz timeline (the audio stays in the
 * block store) and the record-timestamp bounds of the chunks it was made of, for latency.
 */
final class PendingWindow {
  private static final byte VERSION = 1;

  private final int segmentIndex;
  /** First sample, at 16 kHz on the stream's timeline. */
  private final long startSample;
  /** Length, samples at 16 kHz. */
  private final int lengthSamples;
  private long firstChunkTimestampMs = Long.MAX_VALUE;
  private long lastChunkTimestampMs = Long.MIN_VALUE;

  PendingWindow(int segmentIndex, long startSample, int lengthSamples) {
    this.segmentIndex = segmentIndex;
    this.startSample = startSample;
    this.lengthSamples = lengthSamples;
  }

  int segmentIndex() {
    return segmentIndex;
  }

  long startSample() {
    return startSample;
  }

  int lengthSamples() {
    return lengthSamples;
  }

  long firstChunkTimestampMs() {
    return firstChunkTimestampMs;
  }

  long lastChunkTimestampMs() {
    return lastChunkTimestampMs;
  }

  void observeChunkTimestamp(long ts) {
    firstChunkTimestampMs = Math.min(firstChunkTimestampMs, ts);
    lastChunkTimestampMs = Math.max(lastChunkTimestampMs, ts);
  }

  byte[] toBytes() {
    return ByteBuffer.allocate(1 + 4 + 8 + 4 + 8 + 8).put(VERSION).putInt(segmentIndex).putLong(startSample).putInt(lengthSamples)
        .putLong(firstChunkTimestampMs).putLong(lastChunkTimestampMs).array();
  }

  static PendingWindow fromBytes(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    byte v = b.get();
    if (v != VERSION) {
      throw new IllegalStateException("pending window version " + v + " is not supported (expected " + VERSION + ")");
    }
    PendingWindow w = new PendingWindow(b.getInt(), b.getLong(), b.getInt());
    w.firstChunkTimestampMs = b.getLong();
    w.lastChunkTimestampMs = b.getLong();
    return w;
  }
}
