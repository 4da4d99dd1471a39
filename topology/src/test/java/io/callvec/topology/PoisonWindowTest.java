package io.callvec.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.audio.Encoding;
import io.callvec.audio.G711;
import io.callvec.audio.SyntheticSpeech;
import io.callvec.model.InferenceException;
import io.callvec.model.WindowEmbedder;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import io.callvec.topology.internals.CallProcessor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/**
 * A window the model always fails on, while it embeds the others, is a poison window: it goes to
 * the dead-letter topic with its coordinates, the call embedding counts it as failed, and the
 * stream (and every other stream) goes on. Before, the failure stopped the stream thread, and a
 * restarted instance resubmitted the window and stopped again.
 */
class PoisonWindowTest {

  /** The bundled fixture model, except that it fails every batch holding a window that is mostly digital silence (≥ 90 % zeros). */
  static final class FailsOnSilence implements WindowEmbedder {
    final AtomicInteger failures = new AtomicInteger();

    @Override
    public float[][] embedBatch(List<float[]> windows) throws InferenceException {
      for (float[] w : windows) {
        int zeros = 0;
        for (float x : w) {
          zeros += x == 0f ? 1 : 0;
        }
        if (zeros >= 0.9 * w.length) {
          failures.incrementAndGet();
          throw new InferenceException("cannot embed a silent window", false);
        }
      }
      return TopologyHarness.MODEL.embedBatch(windows);
    }

    @Override
    public boolean acceptsMixedLengths() {
      return TopologyHarness.MODEL.acceptsMixedLengths();
    }

    @Override
    public int dimension() {
      return TopologyHarness.MODEL.dimension();
    }
  }

  @Test
  void aWindowTheModelFailsOnAloneIsDeadLetteredAndTheCallGoesOn() throws Exception {
    // 12.3 s of speech whose second 5 s window [5 s, 10 s) is digital silence (mu-law 0xFF decodes to 0).
    float[] pcm = SyntheticSpeech.generate(3, 8000, 12_300);
    Arrays.fill(pcm, 5 * 8000, 10 * 8000, 0f);
    Recording agent = new Recording("call-p", 0, "agent", AudioEncoding.MULAW, 8000, G711.encode(Encoding.MULAW, pcm));
    Recording other = TopologyHarness.stream("call-q", 0, 7_000, 4);
    FailsOnSilence model = new FailsOnSilence();
    try (TopologyHarness h = new TopologyHarness(Map.of(), model)) {
      h.pipe(Chunker.chunks(agent, Chunker.Options.realTime()));
      h.pipe(Chunker.chunks(other, Chunker.Options.realTime()));
      h.awaitCalls(2);

      List<SegmentEmbedding> p = h.segmentsSeen.stream().filter(s -> s.getCallId().equals("call-p")).toList();
      assertEquals(List.of(0, 2), p.stream().map(SegmentEmbedding::getSegmentIndex).sorted().toList(), "the two windows with speech");
      assertEquals(2, h.segmentsSeen.stream().filter(s -> s.getCallId().equals("call-q")).count(), "the other call is untouched");

      List<TestRecord<String, AudioChunk>> dead = h.dlq.readRecordsToList();
      assertEquals(1, dead.size(), "one dead letter: the poison window");
      TestRecord<String, AudioChunk> d = dead.get(0);
      assertEquals("POISON_WINDOW", new String(d.headers().lastHeader(CallProcessor.HEADER_REASON).value()));
      assertTrue(new String(d.headers().lastHeader(CallProcessor.HEADER_DETAIL).value()).contains("cannot embed a silent window"));
      assertEquals("call-p", d.key());
      assertEquals(1, d.value().getSequenceNumber(), "sequence number = segment index");
      assertEquals(5_000, d.value().getMediaTimestampMs(), "media timestamp = the window's start");
      assertEquals("80000", d.value().getMetadata().get("startSample16k"));
      assertEquals("160000", d.value().getMetadata().get("endSample16k"));
      assertEquals(0, d.value().getPayload().remaining());

      CallEmbedding call = h.callsSeen.stream().map(TestRecord::value).filter(c -> c.getCallId().equals("call-p")).findFirst().orElseThrow();
      assertEquals(2, call.getSegmentCount());
      assertEquals(1, call.getFailedSegments());
      assertEquals(0, h.callsSeen.stream().map(TestRecord::value).filter(c -> c.getCallId().equals("call-q")).findFirst().orElseThrow()
          .getFailedSegments());
      assertTrue(model.failures.get() >= 1);
      assertEquals(1.0, h.metrics.total("callvec.dead.letters"), 0.0);
    }
  }
}
