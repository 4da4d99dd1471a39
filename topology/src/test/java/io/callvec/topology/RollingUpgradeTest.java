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
import io.callvec.topology.internals.StoreKeys;
import java.nio.ByteBuffer;
import java.util.Comparator;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
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
