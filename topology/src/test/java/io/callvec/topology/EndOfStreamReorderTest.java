package io.callvec.topology;

import static io.callvec.model.Similarity.cosine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.CallEndReason;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import io.callvec.topology.internals.CallProcessor;
import io.callvec.topology.internals.StoreKeys;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/**
 * The end-of-stream chunk is reordered like any other: arriving before the last chunks of its
 * stream (within the reorder lateness), it waits for them, and the stream gives the segments and
 * call embedding of an in-order run; with a chunk that never comes, the stream is closed once the
 * lateness has passed on the task's input clock, with the audio it has.
 */
class EndOfStreamReorderTest {
  /** 7 s: windows [0, 5 s) and the final [5 s, 7 s), which the last chunks end. */
  private static final long DURATION_MS = 7_000;
  /** Chunks (the end-of-stream chunk among them) shuffled at the end of a stream: 240 ms, inside the 500 ms lateness. */
  private static final int SHUFFLED_TAIL = 12;
  /** Reorder lateness of the default settings, ms. */
  private static final long LATENESS_MS = 500;

  private static Recording stream(String callId) {
    return TopologyHarness.stream(callId, 0, DURATION_MS, 21); // the same audio for every call id
  }

  private static List<SegmentEmbedding> segmentsOf(TopologyHarness h, String callId) {
    return h.segmentsSeen.stream().filter(s -> s.getCallId().equals(callId)).sorted(Comparator.comparingInt(SegmentEmbedding::getSegmentIndex))
        .toList();
  }

  private static CallEmbedding callOf(TopologyHarness h, String callId) {
    return h.callsSeen.stream().map(TestRecord::value).filter(c -> c.getCallId().equals(callId)).findFirst()
        .orElseThrow(() -> new AssertionError("no call embedding for " + callId));
  }

  private static List<String> deadLetterReasons(TopologyHarness h) {
    return h.dlq.readRecordsToList().stream().map(r -> new String(r.headers().lastHeader(CallProcessor.HEADER_REASON).value())).toList();
  }

  /** The chunks in order, the last {@link #SHUFFLED_TAIL} (end-of-stream included) permuted so that the end-of-stream chunk is not last. */
  private static List<AudioChunk> endOfStreamShuffled(Recording r, long seed) {
    List<AudioChunk> chunks = new ArrayList<>(Chunker.chunks(r, Chunker.Options.realTime()));
    List<AudioChunk> tail = chunks.subList(chunks.size() - SHUFFLED_TAIL, chunks.size());
    Random rnd = new Random(seed);
    do {
      Collections.shuffle(tail, rnd);
    } while (tail.get(tail.size() - 1).getEndOfStream());
    return chunks;
  }

  private static void assertSameSegments(List<SegmentEmbedding> expected, List<SegmentEmbedding> got, String what) {
    assertEquals(expected.size(), got.size(), what + ": segments");
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(expected.get(i).getStartSample16k(), got.get(i).getStartSample16k(), what + ": segment " + i + " start");
      assertEquals(expected.get(i).getEndSample16k(), got.get(i).getEndSample16k(), what + ": segment " + i + " end");
      float[] e = Vectors.fromBytes(expected.get(i).getVector(), expected.get(i).getDimension());
      float[] g = Vectors.fromBytes(got.get(i).getVector(), got.get(i).getDimension());
      assertTrue(cosine(e, g) >= 0.99999, what + ": segment " + i + " cosine " + cosine(e, g));
    }
  }

  private static void assertSameCall(CallEmbedding expected, CallEmbedding got, String what) {
    assertEquals(CallEndReason.END_OF_STREAM, got.getEndReason(), what);
    assertEquals(expected.getSegmentCount(), got.getSegmentCount(), what);
    assertEquals(expected.getSpeechDurationMs(), got.getSpeechDurationMs(), what);
    assertEquals(expected.getEndMs(), got.getEndMs(), what);
    float[] e = Vectors.fromBytes(expected.getVector(), expected.getDimension());
    float[] g = Vectors.fromBytes(got.getVector(), got.getDimension());
    assertTrue(cosine(e, g) >= 0.99999, what + ": call cosine " + cosine(e, g));
  }

  @Test
  void anEndOfStreamChunkShuffledWithTheLastChunksGivesTheInOrderSegmentsAndCall() throws Exception {
    long[] seeds = {1, 2, 3, 4, 5};
    try (TopologyHarness h = new TopologyHarness()) {
      h.pipe(Chunker.chunks(stream("in-order"), Chunker.Options.realTime()));
      for (long seed : seeds) {
        List<AudioChunk> chunks = endOfStreamShuffled(stream("shuffled-" + seed), seed);
        int eosAt = 0;
        while (!chunks.get(eosAt).getEndOfStream()) {
          eosAt++;
        }
        assertTrue(eosAt < chunks.size() - 1, "the end-of-stream chunk comes before the last chunks");
        h.pipe(chunks);
      }
      h.awaitCalls(1 + seeds.length);

      assertEquals(List.of(), deadLetterReasons(h), "no chunk dead-lettered");
      List<SegmentEmbedding> reference = segmentsOf(h, "in-order");
      assertEquals(2, reference.size());
      assertEquals(DURATION_MS * 16, reference.get(1).getEndSample16k(), "the final window ends with the audio");
      for (long seed : seeds) {
        String id = "shuffled-" + seed;
        assertSameSegments(reference, segmentsOf(h, id), id);
        assertSameCall(callOf(h, "in-order"), callOf(h, id), id);
      }
      assertEquals(1 + seeds.length, h.metrics.total("callvec.channels.ended"));
    }
  }

  @Test
  void anEndOfStreamWithAGapThatNeverFillsClosesAfterTheLatenessOnTheInputClock() throws Exception {
    List<AudioChunk> chunks = new ArrayList<>(Chunker.chunks(stream("gap"), Chunker.Options.realTime()));
    AudioChunk lost = chunks.remove(chunks.size() - 4); // 60 ms before the end: never arrives
    // The same stream with the lost chunk's audio as silence (mu-law 0xFF decodes to 0), as the front end fills a short gap.
    List<AudioChunk> silenced = new ArrayList<>(Chunker.chunks(stream("silenced"), Chunker.Options.realTime()));
    byte[] silence = new byte[lost.getPayload().remaining()];
    Arrays.fill(silence, (byte) 0xFF);
    int at = silenced.size() - 4;
    silenced.set(at, AudioChunk.newBuilder(silenced.get(at)).setPayload(ByteBuffer.wrap(silence)).build());

    try (TopologyHarness h = new TopologyHarness()) {
      h.pipe(silenced);
      h.awaitCalls(1);
      h.pipe(chunks);
      long waitedMs = 0;
      while (h.callsSeen.size() < 2) {
        h.step();
        waitedMs += TopologyHarness.STEP.toMillis();
        assertTrue(waitedMs <= LATENESS_MS + 200, "not closed " + waitedMs + " ms after the end-of-stream chunk");
        if (waitedMs < LATENESS_MS) {
          assertEquals(1, h.callsSeen.size(), "closed after " + waitedMs + " ms, before the lateness had passed");
        }
      }
      assertSameSegments(segmentsOf(h, "silenced"), segmentsOf(h, "gap"), "gap");
      assertSameCall(callOf(h, "silenced"), callOf(h, "gap"), "gap");

      // The lost chunk, after the close: too late for the stream.
      h.input.pipeInput("gap", lost);
      assertEquals(List.of("CHUNK_AFTER_END"), deadLetterReasons(h));
    }
  }

  @Test
  void aChunkAfterTheEndIsRefusedWhileTheEndedStreamsLastWindowsAreStillPending() throws Exception {
    List<AudioChunk> chunks = Chunker.chunks(stream("pending-end"), Chunker.Options.realTime());
    AudioChunk eos = chunks.get(chunks.size() - 1);
    try (TopologyHarness h = new TopologyHarness()) {
      h.pipe(Chunker.chunks(stream("in-order"), Chunker.Options.realTime()));
      h.awaitCalls(1);
      h.pipe(chunks); // ends in order; its windows wait for the batcher (the harness hands results over when it steps)
      byte[] state = h.driver.<Bytes, byte[]>getKeyValueStore(CallvecTopology.CHANNEL_STORE)
          .get(Bytes.wrap(StoreKeys.channelPrefix("pending-end", 0)));
      assertNotNull(state, "the ended stream keeps its state while windows are pending");
      AudioChunk after = AudioChunk.newBuilder(eos).setSequenceNumber(eos.getSequenceNumber() + 1).setEndOfStream(false)
          .setMediaTimestampMs(eos.getMediaTimestampMs() + 20).setPayload(ByteBuffer.wrap(new byte[160])).build();
      h.input.pipeInput("pending-end", after);
      assertEquals(List.of("CHUNK_AFTER_END"), deadLetterReasons(h), "refused by the ended state, before its call is out");
      h.awaitCalls(2);
      assertSameSegments(segmentsOf(h, "in-order"), segmentsOf(h, "pending-end"), "pending-end");
      assertSameCall(callOf(h, "in-order"), callOf(h, "pending-end"), "pending-end");
    }
  }

  @Test
  void anEndingStreamTakesItsMissingChunkButRefusesChunksAfterItsEnd() throws Exception {
    List<AudioChunk> chunks = new ArrayList<>(Chunker.chunks(stream("ending"), Chunker.Options.realTime()));
    AudioChunk eos = chunks.get(chunks.size() - 1);
    AudioChunk missing = chunks.remove(chunks.size() - 3);
    try (TopologyHarness h = new TopologyHarness()) {
      h.pipe(Chunker.chunks(stream("in-order"), Chunker.Options.realTime()));
      h.awaitCalls(1);
      h.pipe(chunks); // the end-of-stream chunk with one chunk missing: the stream is ending
      h.step();
      AudioChunk after = AudioChunk.newBuilder(eos).setSequenceNumber(eos.getSequenceNumber() + 1).setEndOfStream(false)
          .setMediaTimestampMs(eos.getMediaTimestampMs()).setPayload(ByteBuffer.wrap(new byte[160])).build();
      h.input.pipeInput("ending", after);
      h.input.pipeInput("ending", eos);
      assertEquals(List.of("CHUNK_AFTER_END", "DUPLICATE"), deadLetterReasons(h), "a chunk after the end, the end again");
      h.step();
      assertEquals(1, h.callsSeen.size(), "still waiting for the missing chunk");

      h.input.pipeInput("ending", missing); // fills the gap: the stream closes at once
      h.step();
      assertEquals(2, h.callsSeen.size(), "closed by the chunk that filled the gap");
      assertSameSegments(segmentsOf(h, "in-order"), segmentsOf(h, "ending"), "ending");
      assertSameCall(callOf(h, "in-order"), callOf(h, "ending"), "ending");

      h.input.pipeInput("ending", AudioChunk.newBuilder(after).setSequenceNumber(eos.getSequenceNumber() - 1).build());
      assertEquals(List.of("CHUNK_AFTER_END"), deadLetterReasons(h), "after the close, every chunk is after the end");
      assertNotEquals(0, h.metrics.total("callvec.dead.letters"));
    }
  }
}
