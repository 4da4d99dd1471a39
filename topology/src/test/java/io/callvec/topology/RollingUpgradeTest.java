package io.callvec.topology;

import static io.callvec.model.Similarity.cosine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import io.callvec.topology.internals.CallProcessor;
import io.callvec.topology.internals.StoreKeys;
import java.nio.ByteBuffer;
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
 * Rolling upgrade: a call × channel whose state was written by the previous version (channel state
 * layout 3, the running vector sum inline) goes on in this version and gives the same segments and
 * call embedding as a call processed by this version throughout.
 *
 * <p>The previous version's bytes are made here from this version's, with the previous layouts
 * spelled out independently of the production code: layout 4 is layout 5 without its last five
 * int64 (the sequence tracking and end-of-stream wait); layout 3 is layout 4 with {@code [int32
 * dimension][dimension × float64]} after the end reason, and no vector-sum entry in the pending store.
 *
 * <p>Audio blocks: the previous version kept a stream's audio as 16 kHz float blocks with a
 * resampling front end (state version 2); this version writes that layout only in its reference mode
 * ({@link CallProcessor#REFERENCE_BLOCKS_PROPERTY}). Its stores are copied into an instance of this
 * version, which finishes the stream from them. The previous version's source blocks held one piece
 * (about one chunk) each, under mark 0xC7; this version appends several pieces to a block (mark
 * 0xC8) and still reads the others, so a stream started by the previous version goes on with both.
 */
class RollingUpgradeTest {
  private static final String CALL = "call-upgrade";
  /** Chunks played before the state is turned into the previous version's: 11 s of 20 ms chunks. */
  private static final int FIRST_PART_CHUNKS = 550;

  @Test
  void aChannelStateOfThePreviousLayoutWithItsVectorSumInlineIsTakenOverWithoutLoss() throws Exception {
    Recording s = TopologyHarness.stream(CALL, 0, 17_300, 7);
    List<AudioChunk> chunks = Chunker.chunks(s, Chunker.Options.realTime());
    List<SegmentEmbedding> reference;
    CallEmbedding referenceCall;
    try (TopologyHarness h = new TopologyHarness()) {
      h.pipe(chunks.subList(0, FIRST_PART_CHUNKS));
      h.awaitSegments(2);
      h.pipe(chunks.subList(FIRST_PART_CHUNKS, chunks.size()));
      h.awaitCalls(1);
      reference = sorted(h.segmentsSeen);
      referenceCall = h.callsSeen.get(0).value();
    }

    try (TopologyHarness h = new TopologyHarness()) {
      h.pipe(chunks.subList(0, FIRST_PART_CHUNKS));
      h.awaitSegments(2);
      h.driver.advanceWallClockTime(java.time.Duration.ofMillis(200)); // a commit: the caches reach the stores
      byte[] prefix = StoreKeys.channelPrefix(CALL, 0);
      KeyValueStore<Bytes, byte[]> channels = h.driver.getKeyValueStore(CallvecTopology.CHANNEL_STORE);
      KeyValueStore<Bytes, byte[]> pending = h.driver.getKeyValueStore(CallvecTopology.PENDING_STORE);
      Bytes sumKey = StoreKeys.withLong(prefix, Long.MIN_VALUE);
      byte[] layout5 = channels.get(Bytes.wrap(prefix));
      byte[] sum = pending.get(sumKey);
      assertEquals(5, layout5[0], "this version writes channel state layout 5");
      byte[] layout4 = java.util.Arrays.copyOf(layout5, layout5.length - 5 * 8);
      layout4[0] = 4;
      assertNotNull(sum, "the vector sum has its own entry once a segment is pooled");
      int dimension = ByteBuffer.wrap(sum).getInt(1);
      assertEquals(TopologyHarness.MODEL.info().dimension(), dimension);

      // What the previous version would have stored at this point.
      channels.put(Bytes.wrap(prefix), toLayout3(layout4, sum));
      pending.delete(sumKey);

      h.pipe(chunks.subList(FIRST_PART_CHUNKS, FIRST_PART_CHUNKS + 1));
      h.driver.advanceWallClockTime(java.time.Duration.ofMillis(200));
      assertEquals(5, channels.get(Bytes.wrap(prefix))[0], "the next chunk rewrites the state in layout 5");
      assertArrayEquals(sum, pending.get(sumKey), "and moves the inline sum, bit for bit, to its own entry");

      h.pipe(chunks.subList(FIRST_PART_CHUNKS + 1, chunks.size()));
      h.awaitCalls(1);
      List<SegmentEmbedding> upgraded = sorted(h.segmentsSeen);
      assertEquals(reference.size(), upgraded.size());
      for (int i = 0; i < reference.size(); i++) {
        assertEquals(reference.get(i).getStartSample16k(), upgraded.get(i).getStartSample16k());
        assertEquals(reference.get(i).getEndSample16k(), upgraded.get(i).getEndSample16k());
        assertTrue(cosine(vec(reference.get(i)), vec(upgraded.get(i))) >= 0.99999, "segment " + i);
      }
      CallEmbedding call = h.callsSeen.get(0).value();
      assertEquals(referenceCall.getSegmentCount(), call.getSegmentCount());
      assertEquals(referenceCall.getSpeechDurationMs(), call.getSpeechDurationMs());
      float[] mean = weightedMean(upgraded);
      float[] got = Vectors.fromBytes(call.getVector(), call.getDimension());
      assertArrayEquals(mean, got, 1e-5f, "the call embedding pools the segments from before and after the upgrade");
      assertTrue(cosine(Vectors.fromBytes(referenceCall.getVector(), referenceCall.getDimension()), got) >= 0.99999);
      assertNull(pending.get(sumKey), "the sum is deleted with the call");
    }
  }

  @Test
  void aStreamWithThePreviousVersionsFloatBlocksIsFinishedFromThemWithTheSameOutput() throws Exception {
    Recording s = TopologyHarness.stream(CALL, 0, 17_300, 7);
    List<AudioChunk> chunks = Chunker.chunks(s, Chunker.Options.realTime());
    Reference ref = reference(chunks);

    byte[] prefix = StoreKeys.channelPrefix(CALL, 0);
    Map<String, List<KeyValue<Object, Object>>> previous = new java.util.HashMap<>();
    List<SegmentEmbedding> before;
    System.setProperty(CallProcessor.REFERENCE_BLOCKS_PROPERTY, "true");
    try (TopologyHarness old = new TopologyHarness()) {
      System.clearProperty(CallProcessor.REFERENCE_BLOCKS_PROPERTY);
      before = firstPart(old, chunks);
      List<byte[]> blocks = values(old, CallvecTopology.BLOCK_STORE);
      assertTrue(blocks.size() > 10, "the unfinished window's audio is buffered: " + blocks.size() + " blocks");
      for (byte[] b : blocks) {
        assertEquals(0, (b.length - 8) % 4, "a 16 kHz float block: int64 timestamp + float32 samples");
        assertTrue(b[7] == 0 || b[7] == -1, "its first int64 is a plain timestamp");
      }
      byte[] state = old.driver.<Bytes, byte[]>getKeyValueStore(CallvecTopology.CHANNEL_STORE).get(Bytes.wrap(prefix));
      assertTrue(indexOf(state, new byte[] {'C', 'V', 'F', 2}) >= 0, "the previous version's front-end state (version 2) is in the channel state");
      previous.putAll(snapshot(old));
    } finally {
      System.clearProperty(CallProcessor.REFERENCE_BLOCKS_PROPERTY);
    }

    try (TopologyHarness h = new TopologyHarness()) {
      load(h, previous);
      h.pipe(chunks.subList(FIRST_PART_CHUNKS, FIRST_PART_CHUNKS + 50));
      for (byte[] b : values(h, CallvecTopology.BLOCK_STORE)) {
        assertTrue(b[7] == 0 || b[7] == -1, "the stream keeps the layout it started with");
      }
      h.pipe(chunks.subList(FIRST_PART_CHUNKS + 50, chunks.size()));
      h.awaitCalls(1);
      assertFinishedLikeReference(ref, before, h, false);
    }
  }

  @Test
  void aStreamWithThePreviousVersionsSinglePieceSourceBlocksIsFinishedWithTheSameOutput() throws Exception {
    Recording s = TopologyHarness.stream(CALL, 0, 17_300, 7);
    List<AudioChunk> chunks = Chunker.chunks(s, Chunker.Options.realTime());
    Reference ref = reference(chunks);

    Map<String, List<KeyValue<Object, Object>>> previous = new java.util.HashMap<>();
    List<SegmentEmbedding> before;
    try (TopologyHarness old = new TopologyHarness()) {
      before = firstPart(old, chunks);
      previous.putAll(snapshot(old));
      List<KeyValue<Object, Object>> single = new ArrayList<>();
      for (KeyValue<Object, Object> kv : previous.get(CallvecTopology.BLOCK_STORE)) {
        single.addAll(toSinglePieceBlocks((Bytes) kv.key, (byte[]) kv.value));
      }
      assertTrue(single.size() > 10, "the unfinished window's audio is buffered: " + single.size() + " pieces");
      previous.put(CallvecTopology.BLOCK_STORE, single);
    }

    try (TopologyHarness h = new TopologyHarness()) {
      load(h, previous);
      h.pipe(chunks.subList(FIRST_PART_CHUNKS, FIRST_PART_CHUNKS + 50));
      java.util.Set<Integer> marks = new java.util.TreeSet<>();
      for (byte[] b : values(h, CallvecTopology.BLOCK_STORE)) {
        marks.add(b[7] & 0xFF);
      }
      assertEquals(java.util.Set.of(0xC7, 0xC8), marks, "the previous version's blocks, then this version's");
      h.pipe(chunks.subList(FIRST_PART_CHUNKS + 50, chunks.size()));
      h.awaitCalls(1);
      assertFinishedLikeReference(ref, before, h, true);
    }
  }

  /**
   * The previous version's single-piece source blocks (mark 0xC7: {@code int64 LE (0xC7 << 56 |
   * record timestamp)}, {@code int8 form}, {@code int32 rate}, {@code int64 run start 16 kHz},
   * {@code int64 run start source}, samples or {@code int32 count} for silence) holding the pieces of
   * one block of this version (mark 0xC8), read by the layout in AudioBlocks' class comment.
   */
  private static List<KeyValue<Object, Object>> toSinglePieceBlocks(Bytes key, byte[] v) {
    assertEquals(0xC8, v[7] & 0xFF, "a source block of this version");
    ByteBuffer b = ByteBuffer.wrap(v).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    long ts = (b.getLong() << 8) >> 8;
    int form = b.get();
    int[] at = {9};
    int rate = (int) varint(v, at);
    long run16k = varint(v, at);
    long runSource = varint(v, at);
    int pieces = (int) varint(v, at);
    int[] samples = new int[pieces];
    long[] stamps = new long[pieces];
    for (int i = 0; i < pieces; i++) {
      samples[i] = (int) varint(v, at);
      long z = varint(v, at);
      ts += (z >>> 1) ^ -(z & 1);
      stamps[i] = ts;
    }
    int bytesPerSample = switch (form) {
      case 0 -> 4;
      case 3 -> 2;
      case 4 -> 0;
      default -> 1;
    };
    byte[] prefix = StoreKeys.prefixOf(key.get());
    long start = StoreKeys.trailingLong(key.get());
    int payload = at[0];
    List<KeyValue<Object, Object>> out = new ArrayList<>();
    for (int i = 0; i < pieces; i++) {
      int n = samples[i] * bytesPerSample;
      ByteBuffer o = ByteBuffer.allocate(29 + (form == 4 ? 4 : n)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      o.putLong(0xC7L << 56 | (stamps[i] & ((1L << 56) - 1))).put((byte) form).putInt(rate).putLong(run16k).putLong(runSource);
      if (form == 4) {
        o.putInt(samples[i]);
      } else {
        o.put(v, payload, n);
      }
      payload += n;
      out.add(KeyValue.pair(StoreKeys.withLong(prefix, start), o.array()));
      start += samples[i];
    }
    assertEquals(v.length, payload, "the pieces' samples fill the block");
    return out;
  }

  private static long varint(byte[] v, int[] at) {
    long x = 0;
    for (int shift = 0; ; shift += 7) {
      byte c = v[at[0]++];
      x |= (long) (c & 0x7F) << shift;
      if (c >= 0) {
        return x;
      }
    }
  }

  private static final List<String> STORES = List.of(
      CallvecTopology.CHANNEL_STORE, CallvecTopology.BLOCK_STORE, CallvecTopology.PENDING_STORE,
      CallvecTopology.ENDED_STORE, CallvecTopology.TIME_INDEX_STORE, CallvecTopology.VAD_STORE);

  /** What this version gives for a stream it processes from start to end. */
  /**
   * The first {@value #FIRST_PART_CHUNKS} chunks through {@code old}, until both windows cut so far
   * are embedded (nothing pending inference), then a commit; the segments seen, sorted.
   */
  private static List<SegmentEmbedding> firstPart(TopologyHarness old, List<AudioChunk> chunks) throws InterruptedException {
    old.pipe(chunks.subList(0, FIRST_PART_CHUNKS));
    old.awaitSegments(2);
    old.driver.advanceWallClockTime(java.time.Duration.ofMillis(200));
    return sorted(old.segmentsSeen);
  }

  /**
   * The upgraded run (the segments {@code before} the upgrade, then {@code h}'s) against the
   * reference: the same segments (index, 16 kHz span, and with {@code chunkTimestamps} their first and
   * last chunk timestamps), cosine ≥ 0.99999 each, the same call (segments, speech duration, cosine ≥
   * 0.99999), and no block left behind.
   */
  private static void assertFinishedLikeReference(Reference ref, List<SegmentEmbedding> before, TopologyHarness h, boolean chunkTimestamps) {
    List<SegmentEmbedding> all = new ArrayList<>(before);
    all.addAll(sorted(h.segmentsSeen));
    assertEquals(ref.segments().size(), all.size());
    for (int i = 0; i < all.size(); i++) {
      SegmentEmbedding r = ref.segments().get(i);
      SegmentEmbedding g = all.get(i);
      assertEquals(r.getSegmentIndex(), g.getSegmentIndex());
      assertEquals(r.getStartSample16k(), g.getStartSample16k());
      assertEquals(r.getEndSample16k(), g.getEndSample16k());
      if (chunkTimestamps) {
        assertEquals(r.getFirstChunkTimestampMs(), g.getFirstChunkTimestampMs(), "segment " + i);
        assertEquals(r.getLastChunkTimestampMs(), g.getLastChunkTimestampMs(), "segment " + i);
      }
      assertTrue(cosine(vec(r), vec(g)) >= 0.99999, "segment " + i);
    }
    CallEmbedding call = h.callsSeen.get(0).value();
    assertEquals(ref.call().getSegmentCount(), call.getSegmentCount());
    assertEquals(ref.call().getSpeechDurationMs(), call.getSpeechDurationMs());
    assertTrue(cosine(Vectors.fromBytes(ref.call().getVector(), ref.call().getDimension()),
        Vectors.fromBytes(call.getVector(), call.getDimension())) >= 0.99999);
    assertTrue(values(h, CallvecTopology.BLOCK_STORE).isEmpty(), "the blocks are deleted with the call");
  }

  private record Reference(List<SegmentEmbedding> segments, CallEmbedding call) {}

  private static Reference reference(List<AudioChunk> chunks) throws Exception {
    try (TopologyHarness h = new TopologyHarness()) {
      h.pipe(chunks);
      h.awaitCalls(1);
      return new Reference(sorted(h.segmentsSeen), h.callsSeen.get(0).value());
    }
  }

  /** Every entry of every store of {@code h}, by store name. */
  private static Map<String, List<KeyValue<Object, Object>>> snapshot(TopologyHarness h) {
    Map<String, List<KeyValue<Object, Object>>> out = new java.util.HashMap<>();
    for (String store : STORES) {
      List<KeyValue<Object, Object>> all = new ArrayList<>();
      try (KeyValueIterator<Object, Object> it = h.driver.getKeyValueStore(store).all()) {
        it.forEachRemaining(all::add);
      }
      out.put(store, all);
    }
    return out;
  }

  /** Puts a {@link #snapshot} into the stores of a fresh instance {@code h}, and lets its punctuators run once. */
  private static void load(TopologyHarness h, Map<String, List<KeyValue<Object, Object>>> stores) {
    for (String store : STORES) {
      KeyValueStore<Object, Object> target = h.driver.getKeyValueStore(store);
      stores.get(store).forEach(kv -> target.put(kv.key, kv.value));
    }
    h.driver.advanceWallClockTime(java.time.Duration.ofMillis(200));
  }

  private static List<byte[]> values(TopologyHarness h, String store) {
    List<byte[]> out = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = h.driver.<Bytes, byte[]>getKeyValueStore(store).all()) {
      it.forEachRemaining(kv -> out.add(kv.value));
    }
    return out;
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** Layout 3 of the previous version: layout 4 with the sum inline after the end reason. */
  private static byte[] toLayout3(byte[] layout4, byte[] sumEntry) {
    ByteBuffer b = ByteBuffer.wrap(layout4);
    b.get();
    int nameLength = b.getInt();
    b.position(b.position() + nameLength + 8);
    int frontEndLength = b.getInt();
    int afterEndReason = b.position() + frontEndLength + 8 + 12;
    ByteBuffer s = ByteBuffer.wrap(sumEntry);
    s.get();
    int dim = s.getInt();
    ByteBuffer out = ByteBuffer.allocate(layout4.length + 4 + 8 * dim);
    out.put(layout4, 0, afterEndReason).putInt(dim).put(sumEntry, 5, 8 * dim).put(layout4, afterEndReason, layout4.length - afterEndReason);
    byte[] v3 = out.array();
    v3[0] = 3;
    return v3;
  }

  private static List<SegmentEmbedding> sorted(List<SegmentEmbedding> segs) {
    return segs.stream().sorted(Comparator.comparingInt(SegmentEmbedding::getSegmentIndex)).toList();
  }

  private static float[] vec(SegmentEmbedding s) {
    return Vectors.fromBytes(s.getVector(), s.getDimension());
  }

  private static float[] weightedMean(List<SegmentEmbedding> segs) {
    double[] sum = new double[segs.get(0).getDimension()];
    long total = 0;
    for (SegmentEmbedding s : segs) {
      long w = s.getEndSample16k() - s.getStartSample16k();
      float[] v = vec(s);
      for (int i = 0; i < v.length; i++) {
        sum[i] += w * (double) v[i];
      }
      total += w;
    }
    float[] mean = new float[sum.length];
    for (int i = 0; i < mean.length; i++) {
      mean[i] = (float) (sum[i] / total);
    }
    return mean;
  }
}
