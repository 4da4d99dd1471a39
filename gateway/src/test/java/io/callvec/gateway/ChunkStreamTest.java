package io.callvec.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.Channel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkStreamTest {
  static ChunkStream stream(int chunkMs) {
    return new ChunkStream("call", new Channel(0, "inbound"), AudioEncoding.MULAW, 8000, chunkMs, 0, 0, null);
  }

  static byte[] frame(int fill) {
    byte[] b = new byte[160];
    java.util.Arrays.fill(b, (byte) fill);
    return b;
  }

  @Test
  void aggregationJoinsContiguousFramesAndSplitsAtGapsAndReordering() {
    ChunkStream s = stream(100);
    List<AudioChunk> out = new ArrayList<>();
    for (int chunk = 1; chunk <= 7; chunk++) {
      out.addAll(s.frame(chunk, (chunk - 1) * 20L, frame(chunk)));
    }
    assertEquals(1, out.size(), "five frames make one 100 ms record");
    assertEquals(1, out.get(0).getSequenceNumber());
    assertEquals(0, out.get(0).getMediaTimestampMs());
    assertEquals(800, out.get(0).getPayload().remaining());
    // frame 8 lost: frame 9 is not contiguous with 6..7, which go out as a short record
    out.addAll(s.frame(9, 160, frame(9)));
    assertEquals(2, out.size());
    assertEquals(6, out.get(1).getSequenceNumber());
    assertEquals(100, out.get(1).getMediaTimestampMs());
    assertEquals(320, out.get(1).getPayload().remaining());
    // frame 8 arrives late: a record of its own, at its own place on the timeline
    out.addAll(s.frame(8, 140, frame(8)));
    assertEquals(3, out.size());
    assertEquals(9, out.get(2).getSequenceNumber());
    out.addAll(s.end());
    AudioChunk late = out.get(3);
    assertEquals(8, late.getSequenceNumber());
    assertEquals(140, late.getMediaTimestampMs());
    AudioChunk end = out.get(4);
    assertTrue(end.getEndOfStream());
    assertEquals(10, end.getSequenceNumber(), "one past the highest frame");
    assertEquals(180, end.getMediaTimestampMs(), "end of the latest audio");
    assertThrows(IllegalStateException.class, () -> s.frame(11, 200, frame(1)));
  }

  @Test
  void samplesAreCutIntoRecordsAndSkipMovesTheTimeline() {
    ChunkStream s = stream(20);
    List<AudioChunk> out = new ArrayList<>(s.samples(new byte[400], 0, 400));
    assertEquals(2, out.size(), "400 samples: two records of 160, 80 held");
    out.addAll(s.skip(8000));
    assertEquals(3, out.size(), "the held 80 samples go out before the skip");
    assertEquals(80, out.get(2).getPayload().remaining());
    out.addAll(s.samples(new byte[160], 0, 160));
    assertEquals(3, out.get(3).getSequenceNumber());
    assertEquals(50 + 1000, out.get(3).getMediaTimestampMs(), "400 samples = 50 ms, then 1 s skipped");
    out.addAll(s.end());
    assertEquals(4, out.get(4).getSequenceNumber());
    assertEquals(1070, out.get(4).getMediaTimestampMs());
  }
}
