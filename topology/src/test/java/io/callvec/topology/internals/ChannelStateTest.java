package io.callvec.topology.internals;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ChannelStateTest {

  private static ChannelState sample() {
    ChannelState s = new ChannelState();
    s.channelName = "agent";
    s.encodingOrdinal = 1;
    s.sampleRateHz = 8000;
    s.frontEnd = new byte[] {1, 2, 3};
    s.nextWindowStart = 80_000;
    s.pendingWindows = 2;
    s.embeddedSegments = 5;
    s.vectorSum = new double[] {0.5, -1.25};
    s.weightSamples = 400_000;
    s.firstSegmentStart = 0;
    s.lastSegmentEnd = 400_000;
    s.firstChunkTimestampMs = 1_000;
    s.lastChunkTimestampMs = 26_000;
    s.lastSeenInputMs = 1_764_000_000_123L;
    s.failedSegments = 1;
    return s;
  }

  private static void assertSameExceptLastSeen(ChannelState a, ChannelState b) {
    assertEquals(a.channelName, b.channelName);
    assertEquals(a.encodingOrdinal, b.encodingOrdinal);
    assertEquals(a.sampleRateHz, b.sampleRateHz);
    assertArrayEquals(a.frontEnd, b.frontEnd);
    assertEquals(a.nextWindowStart, b.nextWindowStart);
    assertEquals(a.pendingWindows, b.pendingWindows);
    assertEquals(a.embeddedSegments, b.embeddedSegments);
    assertArrayEquals(a.vectorSum, b.vectorSum);
    assertEquals(a.weightSamples, b.weightSamples);
    assertEquals(a.firstSegmentStart, b.firstSegmentStart);
    assertEquals(a.lastSegmentEnd, b.lastSegmentEnd);
    assertEquals(a.firstChunkTimestampMs, b.firstChunkTimestampMs);
    assertEquals(a.lastChunkTimestampMs, b.lastChunkTimestampMs);
    assertEquals(a.endReason, b.endReason);
  }

  @Test
  void roundTripKeepsEveryFieldIncludingTheLastSeenTime() {
    ChannelState s = sample();
    ChannelState back = ChannelState.fromBytes(s.toBytes());
    assertSameExceptLastSeen(s, back);
    assertEquals(s.lastSeenInputMs, back.lastSeenInputMs);
    assertEquals(1, back.failedSegments);
  }

  /** {@code s} as an older layout wrote it: the current bytes less the last {@code missingBytes}, version byte {@code layout}. */
  private static byte[] olderLayout(ChannelState s, int layout, int missingBytes) {
    byte[] current = s.toBytes();
    byte[] older = Arrays.copyOf(current, current.length - missingBytes);
    older[0] = (byte) layout;
    return older;
  }

  @Test
  void aStateInTheFirstLayoutReadsWithoutALastSeenTime() {
    ChannelState s = sample();
    ChannelState back = ChannelState.fromBytes(olderLayout(s, 1, 12)); // layout 1 ended after lastChunkTimestampMs
    assertSameExceptLastSeen(s, back);
    assertEquals(ChannelState.NEVER, back.lastSeenInputMs);
  }

  @Test
  void aStateInTheSecondLayoutReadsWithoutFailedSegments() {
    ChannelState s = sample();
    s.failedSegments = 0;
    ChannelState back = ChannelState.fromBytes(olderLayout(s, 2, 4)); // layout 2 ended after lastSeenInputMs
    assertSameExceptLastSeen(s, back);
    assertEquals(s.lastSeenInputMs, back.lastSeenInputMs);
    assertEquals(0, back.failedSegments);
  }

  @Test
  void unknownVersionsAndTrailingBytesAreRefused() {
    byte[] bytes = sample().toBytes();
    byte[] v9 = bytes.clone();
    v9[0] = 9;
    assertThrows(IllegalStateException.class, () -> ChannelState.fromBytes(v9));
    assertThrows(IllegalStateException.class, () -> ChannelState.fromBytes(Arrays.copyOf(bytes, bytes.length + 1)));
  }

  /** Bytes layout 5 adds after layout 4: lowest, highest sequence, accepted chunks, end sequence, end-wait start (5 × int64). */
  private static final int LAYOUT_5_TAIL_BYTES = 5 * 8;

  private static ChannelState ending() {
    ChannelState s = sample();
    s.vectorSum = null;
    s.lowestSequence = 7;
    s.highestSequence = 300;
    s.acceptedChunks = 290;
    s.endSequence = 301;
    s.endWaitSinceInputMs = 1_764_000_000_456L;
    return s;
  }

  @Test
  void layoutFiveHasNoVectorSumAndASizeThatDoesNotDependOnTheDimension() {
    ChannelState s = sample();
    s.vectorSum = null;
    byte[] bytes = s.toBytes();
    assertEquals(5, bytes[0]);
    ChannelState back = ChannelState.fromBytes(bytes);
    assertSameExceptLastSeen(s, back);
    assertEquals(s.lastSeenInputMs, back.lastSeenInputMs);
    assertEquals(1, back.failedSegments);
    ChannelState withSum = sample();
    withSum.vectorSum = new double[1024];
    assertEquals(bytes.length - LAYOUT_5_TAIL_BYTES + 4 + 8 * 1024, withSum.toBytes().length,
        "a sum not yet moved out is written inline, in layout 3");
  }

  @Test
  void layoutFiveKeepsTheSequenceTrackingAndTheEndOfStreamWait() {
    ChannelState s = ending();
    ChannelState back = ChannelState.fromBytes(s.toBytes());
    assertSameExceptLastSeen(s, back);
    assertEquals(7, back.lowestSequence);
    assertEquals(300, back.highestSequence);
    assertEquals(290, back.acceptedChunks);
    assertEquals(301, back.endSequence);
    assertEquals(1_764_000_000_456L, back.endWaitSinceInputMs);
    assertTrue(back.isEnding());
    assertFalse(back.isEnded());
  }

  @Test
  void aStateInTheFourthLayoutReadsAsOpenWithoutSequenceTracking() {
    ChannelState s = ending();
    byte[] v5 = s.toBytes();
    byte[] v4 = Arrays.copyOf(v5, v5.length - LAYOUT_5_TAIL_BYTES); // layout 4 ended after failedSegments
    v4[0] = 4;
    ChannelState back = ChannelState.fromBytes(v4);
    assertSameExceptLastSeen(s, back);
    assertEquals(s.lastSeenInputMs, back.lastSeenInputMs);
    assertEquals(1, back.failedSegments);
    assertEquals(-1, back.lowestSequence);
    assertEquals(-1, back.highestSequence);
    assertEquals(0, back.acceptedChunks);
    assertFalse(back.isEnding());
    assertEquals(ChannelState.NEVER, back.endWaitSinceInputMs);
    assertEquals(5, back.toBytes()[0], "rewritten in layout 5");
  }

  @Test
  void aLayoutThreeStateWithItsSumInlineReadsBackAndIsRewrittenUnchangedUntilTheSumMovesOut() {
    ChannelState s = sample();
    byte[] v3 = s.toBytes();
    assertEquals(3, v3[0]);
    ChannelState back = ChannelState.fromBytes(v3);
    assertArrayEquals(new double[] {0.5, -1.25}, back.vectorSum);
    assertArrayEquals(v3, back.toBytes());
  }
}
