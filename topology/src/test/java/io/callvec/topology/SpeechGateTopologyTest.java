package io.callvec.topology;

import static io.callvec.model.Similarity.cosine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.app.CallvecConfig;
import io.callvec.model.vad.SileroVad;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import io.callvec.topology.RealSpeech.Block;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import io.callvec.topology.internals.SpeechGate;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Voice activity detection in the topology ({@link SpeechGate}), on real speech (Asterisk prompts)
 * with blocks of digital silence and line noise, μ-law coded: silent windows are skipped, speech
 * windows embedded as without the VAD, the call embedding is the speech-weighted mean; with the VAD
 * off the output is what it was before the VAD existed.
 */
class SpeechGateTopologyTest {
  @AutoClose private static SileroVad vad;

  @BeforeAll
  static void load() {
    vad = RealSpeech.vad();
  }

  /** 5 s windows: speech, digital silence, speech, line noise, a 2.3 s final window of speech. */
  static final List<Block> LAYOUT = List.of(Block.SPEECH, Block.SILENCE, Block.SPEECH, Block.NOISE, Block.SPEECH);

  static Recording call(String callId) throws Exception {
    return RealSpeech.mulaw(callId, 0, RealSpeech.layout(LAYOUT, 5_000, 2_300, 40, -45, 7));
  }

  private static SpeechDetection on(Map<String, String> overrides) {
    return new SpeechDetection(VadSettings.from(CallvecConfig.builder().overrides(overrides).build()), vad);
  }

  private static List<SegmentEmbedding> sorted(List<SegmentEmbedding> s) {
    return s.stream().sorted(Comparator.comparingInt(SegmentEmbedding::getSegmentIndex)).toList();
  }

  @Test
  void silentWindowsAreSkippedSpeechWindowsEmbeddedAndTheCallIsSpeechWeighted() throws Exception {
    Map<String, String> cfg = Map.of("callvec.vad.enabled", "true");
    Recording rec = call("vad-1");
    try (TopologyHarness h = new TopologyHarness(cfg, TopologyHarness.MODEL, on(cfg))) {
      h.pipe(Chunker.chunks(rec, Chunker.Options.realTime()));
      h.awaitCalls(1);
      List<SegmentEmbedding> segs = sorted(h.segmentsSeen);
      assertEquals(5, segs.size(), "one record per window, skipped ones included");
      List<float[]> windows = TopologyHarness.offlineWindows(rec, h.settings);
      double sum = 0;
      for (int i = 0; i < segs.size(); i++) {
        SegmentEmbedding s = segs.get(i);
        long real = s.getEndSample16k() - s.getStartSample16k();
        assertEquals(i, s.getSegmentIndex());
        assertEquals(LAYOUT.get(i) == Block.SPEECH ? (Integer) TopologyHarness.MODEL.info().layer() : null, s.getLayer(), "layer of segment " + i);
        assertEquals(windows.get(i).length, real);
        long speech = s.getSpeechSamples16k();
        if (LAYOUT.get(i) == Block.SPEECH) {
          assertNull(s.getSkipped(), "speech window " + i);
          assertTrue(speech > 0.5 * real, "speech window " + i + ": " + speech + " of " + real);
          float[] direct = TopologyHarness.MODEL.embed(windows.get(i));
          assertTrue(cosine(direct, Vectors.fromBytes(s.getVector(), s.getDimension())) >= 0.9999, "segment " + i);
          sum += speech;
        } else {
          assertEquals(SpeechGate.SKIPPED_BELOW_MIN_SPEECH, s.getSkipped(), "silent window " + i);
          assertEquals(0, s.getDimension());
          assertEquals(0, s.getVector().remaining());
          assertTrue(speech < 0.2 * real, "silent window " + i + ": " + speech);
        }
      }

      CallEmbedding ce = h.callsSeen.get(0).value();
      assertEquals(3, ce.getSegmentCount());
      assertEquals(2, ce.getSkippedSegments());
      assertEquals(TopologyHarness.MODEL.info().layer(), ce.getLayer());
      assertEquals("speech-weighted-mean/mean", ce.getPooling());
      assertEquals((long) sum / 16, ce.getSpeechDurationMs());
      float[] expected = new float[ce.getDimension()];
      for (SegmentEmbedding s : segs) {
        if (s.getSkipped() == null) {
          float[] v = Vectors.fromBytes(s.getVector(), s.getDimension());
          for (int d = 0; d < v.length; d++) {
            expected[d] += (float) (s.getSpeechSamples16k() / sum * v[d]);
          }
        }
      }
      assertArrayEquals(expected, Vectors.fromBytes(ce.getVector(), ce.getDimension()), 1e-5f);
      assertEquals(2.0, h.metrics.total("callvec.windows.skipped"));
      assertTrue(h.metrics.total("callvec.vad.frames") >= (22_300 * 16 - 511) / 512.0, "frames " + h.metrics.total("callvec.vad.frames"));
      try (var it = h.driver.<org.apache.kafka.common.utils.Bytes, byte[]>getKeyValueStore(CallvecTopology.VAD_STORE).all()) {
        assertTrue(!it.hasNext(), "VAD state deleted with the call");
      }
    }
  }

  @Test
  void withTheVadOffTheOutputIsWhatItWasWithoutIt() throws Exception {
    Recording rec = call("vad-off");
    List<SegmentEmbedding> off;
    CallEmbedding offCall;
    try (TopologyHarness h = new TopologyHarness(Map.of("callvec.vad.enabled", "false"))) { // the topology built as before the VAD
      h.pipe(Chunker.chunks(rec, Chunker.Options.realTime()));
      h.awaitCalls(1);
      off = sorted(h.segmentsSeen);
      offCall = h.callsSeen.get(0).value();
      assertEquals(0.0, h.metrics.total("callvec.vad.frames"));
    }
    assertEquals(5, off.size());
    List<float[]> windows = TopologyHarness.offlineWindows(rec, TopologySettings.from(CallvecConfig.builder().build()));
    float[] expected = new float[offCall.getDimension()];
    double total = 0;
    for (int i = 0; i < off.size(); i++) {
      SegmentEmbedding s = off.get(i);
      assertNull(s.getSpeechSamples16k());
      assertNull(s.getSkipped());
      float[] v = Vectors.fromBytes(s.getVector(), s.getDimension());
      assertArrayEquals(TopologyHarness.MODEL.embed(windows.get(i)), v, 1e-5f, "segment " + i);
      double w = s.getEndSample16k() - s.getStartSample16k();
      for (int d = 0; d < v.length; d++) {
        expected[d] += (float) (w * v[d]);
      }
      total += w;
    }
    for (int d = 0; d < expected.length; d++) {
      expected[d] /= (float) total;
    }
    assertEquals(5, offCall.getSegmentCount());
    assertEquals(0, offCall.getSkippedSegments());
    assertEquals("duration-weighted-mean/mean", offCall.getPooling());
    assertEquals(22_300, offCall.getSpeechDurationMs());
    assertArrayEquals(expected, Vectors.fromBytes(offCall.getVector(), offCall.getDimension()), 1e-5f);

    // The same with the VAD on: the speech windows' vectors are bit-identical, only the pooling differs.
    Map<String, String> cfg = Map.of("callvec.vad.enabled", "true");
    try (TopologyHarness h = new TopologyHarness(cfg, TopologyHarness.MODEL, on(cfg))) {
      h.pipe(Chunker.chunks(call("vad-off"), Chunker.Options.realTime()));
      h.awaitCalls(1);
      List<SegmentEmbedding> onSegs = sorted(h.segmentsSeen);
      for (int i = 0; i < onSegs.size(); i++) {
        if (onSegs.get(i).getSkipped() == null) {
          assertEquals(off.get(i).getVector(), onSegs.get(i).getVector(), "segment " + i);
        }
      }
    }
  }
}
