package io.callvec.topology;

import static io.callvec.model.Similarity.cosine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import io.callvec.topology.internals.CallProcessor;
import io.callvec.topology.internals.StoreKeys;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

/**
 * The block store keeps audio as received (source blocks) and gives the same segments as the 16
 * kHz float layout (the previous version's, {@link CallProcessor#REFERENCE_BLOCKS_PROPERTY}), with
 * losses, long gaps (new runs), reordering and duplicates; and the audio of runs no window takes is
 * pruned when the next run starts.
 */
class SourceBlocksTopologyTest {
  private static final String CALL = "call-blocks";
  /** Top byte of a source block's first int64 (little-endian: byte 7). */
  static final byte SOURCE_MARK = (byte) 0xC8;

  /** Chunks of a 23 s stream with a short loss every 37 chunks, two long gaps, reordering and duplicates. */
  private static List<AudioChunk> lossyStream() {
    Recording s = TopologyHarness.stream(CALL, 0, 23_000, 11);
    List<AudioChunk> all = Chunker.chunks(s, Chunker.Options.realTime().withShuffle(3, 0.02, 5));
    List<AudioChunk> out = new ArrayList<>();
    for (AudioChunk c : all) {
      long k = c.getSequenceNumber();
      boolean shortLoss = k % 37 == 5;
      boolean longGap = (k >= 300 && k < 370) || (k >= 800 && k < 880); // 1.4 s and 1.6 s: more than the 1 s fill
      if (c.getEndOfStream() || !(shortLoss || longGap)) {
        out.add(c);
      }
    }
    return out;
  }

  @Test
  void sourceBlocksGiveTheSegmentsOfThe16kFloatLayoutAtAFractionOfItsBytes() throws Exception {
    List<AudioChunk> chunks = lossyStream();
    int beforeEnd = chunks.size() - 40;
    Run reference = run(chunks, beforeEnd, true);
    Run source = run(chunks, beforeEnd, false);
    assertEquals(reference.segments.size(), source.segments.size());
    assertTrue(source.segments.size() >= 4, "segments: " + source.segments.size());
    for (int i = 0; i < reference.segments.size(); i++) {
      SegmentEmbedding a = reference.segments.get(i);
      SegmentEmbedding b = source.segments.get(i);
      assertEquals(a.getSegmentIndex(), b.getSegmentIndex());
      assertEquals(a.getStartSample16k(), b.getStartSample16k(), "segment " + i);
      assertEquals(a.getEndSample16k(), b.getEndSample16k(), "segment " + i);
      double cos = cosine(Vectors.fromBytes(a.getVector(), a.getDimension()), Vectors.fromBytes(b.getVector(), b.getDimension()));
      assertTrue(cos >= 0.99999, "segment " + i + ": cosine " + cos);
    }
    assertTrue(reference.layoutsSeen.equals(List.of(false)), "reference mode writes only 16 kHz float blocks: " + reference.layoutsSeen);
    assertTrue(source.layoutsSeen.equals(List.of(true)), "this version writes only source blocks: " + source.layoutsSeen);
    // The same audio held: 16 kHz float32 (1,288 B per 20 ms: 8 B header + 320 × 4 B) against
    // μ-law codes (160 B per 20 ms) in blocks of several chunks with one small header each.
    assertTrue(reference.blockBytes >= 7 * source.blockBytes, "float blocks " + reference.blockBytes + " B, source blocks " + source.blockBytes + " B");
    assertTrue(source.blockCount * 2 <= reference.blockCount,
        "the test driver flushes the record cache less often than once per chunk, so chunks share blocks (" + source.blockCount + " source blocks, "
            + reference.blockCount + " float blocks)");
  }

  /** What one run shows: its segments, and the blocks stored just before the stream's end. */
  private record Run(List<SegmentEmbedding> segments, long blockBytes, long blockCount, List<Boolean> layoutsSeen) {}

  private static Run run(List<AudioChunk> chunks, int inspectAt, boolean reference) throws Exception {
    if (reference) {
      System.setProperty(CallProcessor.REFERENCE_BLOCKS_PROPERTY, "true");
    }
    try (TopologyHarness h = new TopologyHarness()) {
      System.clearProperty(CallProcessor.REFERENCE_BLOCKS_PROPERTY);
      h.pipe(chunks.subList(0, inspectAt));
      long[] stats = blockStats(h);
      List<Boolean> layouts = layouts(h);
      h.pipe(chunks.subList(inspectAt, chunks.size()));
      h.awaitCalls(1);
      List<SegmentEmbedding> segs = h.segmentsSeen.stream().sorted(Comparator.comparingInt(SegmentEmbedding::getSegmentIndex)).toList();
      assertEquals(0, blockStats(h)[1], "the call's blocks are deleted with it");
      return new Run(segs, stats[0], stats[1], layouts);
    } finally {
      System.clearProperty(CallProcessor.REFERENCE_BLOCKS_PROPERTY);
    }
  }

  /** Bytes (values) and count of the stream's blocks. */
  static long[] blockStats(TopologyHarness h) {
    long bytes = 0;
    long count = 0;
    for (KeyValue<Bytes, byte[]> kv : blocks(h, CALL)) {
      bytes += kv.value.length;
      count++;
    }
    return new long[] {bytes, count};
  }

  /** The distinct layouts of the stream's blocks, in key order: true = source block. */
  static List<Boolean> layouts(TopologyHarness h) {
    return blocks(h, CALL).stream().map(kv -> kv.value.length >= 8 && kv.value[7] == SOURCE_MARK).distinct().toList();
  }

  static List<KeyValue<Bytes, byte[]>> blocks(TopologyHarness h, String call) {
    KeyValueStore<Bytes, byte[]> store = h.driver.getKeyValueStore(CallvecTopology.BLOCK_STORE);
    byte[] prefix = StoreKeys.channelPrefix(call, 0);
    List<KeyValue<Bytes, byte[]>> out = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = store.range(StoreKeys.withLong(prefix, Long.MIN_VALUE), StoreKeys.withLong(prefix, Long.MAX_VALUE))) {
      it.forEachRemaining(out::add);
    }
    return out;
  }

  @Test
  void runsShorterThanAnyWindowDoNotPileUpInTheBlockStore() throws Exception {
    for (boolean reference : new boolean[] {false, true}) {
      if (reference) {
        System.setProperty(CallProcessor.REFERENCE_BLOCKS_PROPERTY, "true");
      }
      try (TopologyHarness h = new TopologyHarness()) {
        System.clearProperty(CallProcessor.REFERENCE_BLOCKS_PROPERTY);
        // 12 runs of 0.5 s (25 chunks; the shortest window is the 1 s final minimum), 1.5 s apart.
        List<AudioChunk> all = Chunker.chunks(TopologyHarness.stream(CALL, 0, 24_000, 3), Chunker.Options.realTime());
        List<AudioChunk> runs = all.stream().filter(c -> !c.getEndOfStream() && c.getSequenceNumber() % 100 < 25).toList();
        long most = 0;
        for (int r = 0; r < 12; r++) {
          h.pipe(runs.subList(25 * r, 25 * r + 25));
          long stored = blocks(h, CALL).size();
          most = Math.max(most, stored);
        }
        String mode = reference ? "16 kHz float layout" : "source blocks";
        assertTrue(most >= 20, mode + ": the current run's blocks are kept: " + most);
        assertTrue(most <= 60, mode + ": at most the current run's and the one before's blocks are kept, not all 12 runs' (300): " + most);
        assertEquals(0, h.segmentsSeen.size() + h.segments.readValuesToList().size(), mode + ": no run was long enough for a window");
      } finally {
        System.clearProperty(CallProcessor.REFERENCE_BLOCKS_PROPERTY);
      }
    }
  }
}
