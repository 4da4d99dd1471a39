package io.callvec.topology;

import static io.callvec.model.Similarity.cosine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.CallEndReason;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import io.callvec.topology.internals.CallProcessor;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/** The topology on a {@code TopologyTestDriver}, with the real front end, fixture model and batcher. */
class CallTopologyTest {

  private static List<SegmentEmbedding> byIndex(List<SegmentEmbedding> segs, String callId, int channel) {
    List<SegmentEmbedding> out = new ArrayList<>();
    for (SegmentEmbedding s : segs) {
      if (s.getCallId().equals(callId) && s.getChannel().getIndex() == channel) {
        out.add(s);
      }
    }
    out.sort(Comparator.comparingInt(SegmentEmbedding::getSegmentIndex));
    return out;
  }

  private static float[] vec(SegmentEmbedding s) {
    return Vectors.fromBytes(s.getVector(), s.getDimension());
  }

  @Test
  void segmentsMatchTheModelOnTheOfflineWindowsAndTheCallEmbeddingIsTheirWeightedMean() throws Exception {
    Recording agent = TopologyHarness.stream("call-a", 0, 12_300, 1);
    Recording customer = TopologyHarness.stream("call-a", 1, 7_000, 2);
    try (TopologyHarness h = new TopologyHarness()) {
      h.pipe(Chunker.chunks(agent, Chunker.Options.realTime()));
      h.pipe(Chunker.chunks(customer, Chunker.Options.realTime()));
      h.awaitCalls(2);
      // 12.3 s: windows [0,5) [5,10) and a final [10, 12.3); 7 s: [0,5) and [5,7).
      List<SegmentEmbedding> a = byIndex(h.segmentsSeen, "call-a", 0);
      List<SegmentEmbedding> c = byIndex(h.segmentsSeen, "call-a", 1);
      assertEquals(3, a.size());
      assertEquals(2, c.size());
      assertEquals(0, a.get(0).getStartSample16k());
      assertEquals(80_000, a.get(0).getEndSample16k());
      assertEquals(160_000, a.get(2).getStartSample16k());
      assertEquals(12_300 * 16, a.get(2).getEndSample16k());
      assertEquals("agent", a.get(0).getChannel().getName());

      for (var pair : List.of(Map.entry(agent, a), Map.entry(customer, c))) {
        List<float[]> windows = TopologyHarness.offlineWindows(pair.getKey(), h.settings);
        assertEquals(windows.size(), pair.getValue().size());
        for (int i = 0; i < windows.size(); i++) {
          SegmentEmbedding s = pair.getValue().get(i);
          assertEquals(windows.get(i).length, s.getEndSample16k() - s.getStartSample16k());
          float[] direct = TopologyHarness.MODEL.embed(windows.get(i));
          assertTrue(cosine(direct, vec(s)) >= 0.9999, "segment " + i + " cosine " + cosine(direct, vec(s)));
        }
      }

      assertEquals(2, h.callsSeen.size());
      TestRecord<String, CallEmbedding> callA = h.callsSeen.stream().filter(r -> r.key().equals(CallProcessor.callKey("call-a", 0))).findFirst().orElseThrow();
      CallEmbedding ce = callA.value();
      assertEquals(3, ce.getSegmentCount());
      assertEquals(CallEndReason.END_OF_STREAM, ce.getEndReason());
      assertEquals(12_300, ce.getSpeechDurationMs());
      float[] expected = new float[ce.getDimension()];
      double total = 0;
      for (SegmentEmbedding s : a) {
        double w = s.getEndSample16k() - s.getStartSample16k();
        float[] v = vec(s);
        for (int i = 0; i < v.length; i++) {
          expected[i] += (float) (w * v[i]);
        }
        total += w;
      }
      for (int i = 0; i < expected.length; i++) {
        expected[i] /= (float) total;
      }
      assertArrayEquals(expected, Vectors.fromBytes(ce.getVector(), ce.getDimension()), 1e-5f);
      assertEquals(1.0, h.metrics.total("callvec.calls") / 2.0);

      // Each call embedding exactly once: later wall-clock time emits nothing more.
      h.driver.advanceWallClockTime(Duration.ofSeconds(120));
      h.collect();
      assertEquals(2, h.callsSeen.size());
      assertEquals(5, h.segmentsSeen.size());
    }
  }

  @Test
  void shuffledAndDuplicatedChunksGiveTheSameSegmentsAsOrderedOnes() throws Exception {
    Recording s = TopologyHarness.stream("call-s", 0, 11_000, 3);
    List<float[]> ordered;
    try (TopologyHarness h = new TopologyHarness()) {
      h.pipe(Chunker.chunks(s, Chunker.Options.realTime()));
      h.awaitCalls(1);
      ordered = byIndex(h.segmentsSeen, "call-s", 0).stream().map(CallTopologyTest::vec).toList();
    }
    try (TopologyHarness h = new TopologyHarness()) {
      // Permuted within groups of 10 chunks (200 ms, inside the 500 ms lateness), 20 % duplicated.
      h.pipe(Chunker.chunks(s, Chunker.Options.realTime().withShuffle(10, 0.2, 99)));
      h.awaitCalls(1);
      List<SegmentEmbedding> shuffled = byIndex(h.segmentsSeen, "call-s", 0);
      assertEquals(ordered.size(), shuffled.size());
      for (int i = 0; i < ordered.size(); i++) {
        assertTrue(cosine(ordered.get(i), vec(shuffled.get(i))) >= 0.99999, "segment " + i);
      }
      double dups = h.registry.find("callvec.chunks").tag("result", "duplicate").counter().count();
      assertTrue(dups > 50, "duplicates counted: " + dups);
      assertEquals(dups, h.dlq.readRecordsToList().stream()
          .filter(r -> new String(r.headers().lastHeader(CallProcessor.HEADER_REASON).value()).equals("DUPLICATE")).count());
    }
  }

  @Test
  void idleTimeoutEndsAStreamWithoutEndOfStream() throws Exception {
    Recording s = TopologyHarness.stream("call-idle", 0, 6_500, 4);
    try (TopologyHarness h = new TopologyHarness(Map.of("callvec.idle.timeout.ms", "20000"))) {
      List<io.callvec.schemas.AudioChunk> chunks = new ArrayList<>(Chunker.chunks(s, Chunker.Options.realTime()));
      chunks.remove(chunks.size() - 1); // no end-of-stream marker
      assertEquals(0, h.metrics.openStreams());
      h.pipe(chunks);
      h.awaitSegments(1);
      h.driver.advanceWallClockTime(Duration.ofSeconds(5));
      h.collect();
      assertTrue(h.callsSeen.isEmpty(), "not idle yet");
      assertEquals(1, h.metrics.openStreams(), "one open stream");
      h.driver.advanceWallClockTime(Duration.ofSeconds(16));
      h.awaitCalls(1);
      assertEquals(0, h.metrics.openStreams(), "the ended stream's state is gone");
      // The stores were opened through the bounded RocksDB setter (the default).
      assertEquals(134_217_728L, io.callvec.app.BoundedRocksDbMemory.budgetBytes());
      CallEmbedding ce = h.callsSeen.get(0).value();
      assertEquals(CallEndReason.IDLE_TIMEOUT, ce.getEndReason());
      assertEquals(2, ce.getSegmentCount()); // [0,5) and the final [5, 6.5)
      assertEquals(6_500, ce.getSpeechDurationMs());
    }
  }

  /** Entries of a store of the driver. */
  private static long count(TopologyHarness h, String store) {
    long n = 0;
    try (var it = h.driver.getKeyValueStore(store).all()) {
      while (it.hasNext()) {
        it.next();
        n++;
      }
    }
    return n;
  }

  /** Kind byte of the time index's open-stream (last-seen) entries ({@code TimeIndex.LAST_SEEN}). */
  static final byte OPEN_STREAM_INDEX_KIND = 'S';

  /** Entries of the time index that stand for open streams (key's first byte {@link #OPEN_STREAM_INDEX_KIND}). */
  private static long countOpenStreamIndexEntries(TopologyHarness h) {
    long n = 0;
    try (var it = h.driver.<org.apache.kafka.common.utils.Bytes, byte[]>getKeyValueStore(CallvecTopology.TIME_INDEX_STORE).all()) {
      while (it.hasNext()) {
        if (it.next().key.get()[0] == OPEN_STREAM_INDEX_KIND) {
          n++;
        }
      }
    }
    return n;
  }

  /** Advances the wall clock one second at a time, so that the idle scan (every second) runs at each step. */
  private static void stepSeconds(TopologyHarness h, int seconds) {
    for (int i = 0; i < seconds; i++) {
      h.driver.advanceWallClockTime(Duration.ofSeconds(1));
    }
  }

  /** A one-chunk stream; its record timestamp is {@code recordTs}, as a producer's create time (the driver's wall clock then). */
  private static void tinyChunk(TopologyHarness h, String callId, long seq, Instant recordTs) {
    h.input.pipeInput(callId, io.callvec.schemas.AudioChunk.newBuilder()
        .setCallId(callId).setChannel(new io.callvec.schemas.Channel(0, "agent")).setSequenceNumber(seq).setMediaTimestampMs(seq * 20)
        .setEncoding(io.callvec.schemas.AudioEncoding.MULAW).setSampleRateHz(8000)
        .setPayload(java.nio.ByteBuffer.wrap(new byte[160])).setEndOfStream(false).build(), recordTs);
  }

  @Test
  void manyTinyStreamsAreEvictedByTheIdleTimeAndTheirEndMarkersExpire() throws Exception {
    int perGeneration = 1_000;
    try (TopologyHarness h = new TopologyHarness(Map.of("callvec.idle.timeout.ms", "20000"))) {
      for (int i = 0; i < perGeneration; i++) {
        tinyChunk(h, "old-" + i, 0, TopologyHarness.START);
      }
      h.driver.advanceWallClockTime(Duration.ofSeconds(10));
      for (int i = 0; i < perGeneration; i++) {
        tinyChunk(h, "new-" + i, 0, TopologyHarness.START.plusSeconds(10));
      }
      assertEquals(2 * perGeneration, h.metrics.openStreams());
      assertEquals(2 * perGeneration, count(h, CallvecTopology.CHANNEL_STORE));
      // Index entries: one per open stream, in the second of its last chunk.
      assertEquals(2 * perGeneration, countOpenStreamIndexEntries(h));
      assertEquals(2 * perGeneration, count(h, CallvecTopology.TIME_INDEX_STORE));

      stepSeconds(h, 15); // 25 s: the old generation is idle (20 s), the new one (15 s) not yet
      assertEquals(perGeneration, h.metrics.openStreams(), "only the old generation ended");
      stepSeconds(h, 15);
      assertEquals(0, h.metrics.openStreams());
      assertEquals(2 * perGeneration, h.metrics.total("callvec.channels.ended"));
      assertEquals(0, count(h, CallvecTopology.CHANNEL_STORE));
      assertEquals(0, countOpenStreamIndexEntries(h), "no open-stream entry left in the time index");
      assertEquals(0, count(h, CallvecTopology.BLOCK_STORE));
      assertEquals(2 * perGeneration, count(h, CallvecTopology.ENDED_STORE), "end markers kept to reject late chunks");
      assertEquals(2 * perGeneration, count(h, CallvecTopology.TIME_INDEX_STORE), "one index entry per end marker");

      // A late chunk of an ended stream is rejected while its marker lives ...
      tinyChunk(h, "old-7", 1, TopologyHarness.START.plusSeconds(40));
      assertEquals(1, h.metrics.total("callvec.dead.letters"));
      // ... and the markers expire after their retention (max(10 × idle timeout, 10 min)), index included.
      h.driver.advanceWallClockTime(Duration.ofMinutes(10));
      stepSeconds(h, 20);
      assertEquals(0, count(h, CallvecTopology.ENDED_STORE));
      assertEquals(0, count(h, CallvecTopology.TIME_INDEX_STORE));
      // The same call id may then start again.
      tinyChunk(h, "old-7", 2, TopologyHarness.START.plusSeconds(40 + 600 + 20));
      assertEquals(1, h.metrics.openStreams());
      assertEquals(1, h.metrics.total("callvec.dead.letters"));
    }
  }

  @Test
  void shortGapsAreFilledAndLongGapsStartANewRun() throws Exception {
    // 6 s of audio, a 300 ms hole (filled), 4 s, a 3 s hole (new run), 5.5 s.
    Recording s = TopologyHarness.stream("call-gap", 0, 19_000, 5);
    List<io.callvec.schemas.AudioChunk> chunks = new ArrayList<>(Chunker.chunks(s, Chunker.Options.realTime()));
    chunks.removeIf(c -> !c.getEndOfStream() && ((c.getMediaTimestampMs() >= 6_000 && c.getMediaTimestampMs() < 6_300)
        || (c.getMediaTimestampMs() >= 10_300 && c.getMediaTimestampMs() < 13_300)));
    try (TopologyHarness h = new TopologyHarness()) {
      h.pipe(chunks);
      h.awaitCalls(1);
      List<SegmentEmbedding> segs = byIndex(h.segmentsSeen, "call-gap", 0);
      // Run 1: [0, 10.3 s) -> [0,5) [5,10) and the 0.3 s tail dropped (< 1 s). Run 2 starts at 13.3 s: [13.3,18.3) then [18.3,19) dropped.
      assertEquals(3, segs.size(), segs.toString());
      assertEquals(0, segs.get(0).getStartSample16k());
      assertEquals(80_000, segs.get(1).getStartSample16k());
      assertEquals(13_300 * 16, segs.get(2).getStartSample16k());
      assertEquals(18_300 * 16, segs.get(2).getEndSample16k());
      assertEquals(1.0, h.metrics.total("callvec.runs.new"));
      assertEquals(300 * 16, h.metrics.total("callvec.gap.filled.samples"), 2 * 16);
    }
  }
}
