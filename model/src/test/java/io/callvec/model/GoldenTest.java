package io.callvec.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.model.internal.InputNormalizer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Java runtime (normalisation, ONNX Runtime float32, pooling) against PyTorch float64
 * references computed by model/tools/fixture.py, for both fixture variants and every window.
 */
class GoldenTest {
  private static final Logger LOG = LoggerFactory.getLogger(GoldenTest.class);
  /** max |java - torch| / max |torch| over a window's last_hidden_state. */
  private static final double MAX_RELATIVE_ERROR = 1e-4;
  private static final double MIN_COSINE = 0.9999;
  private static final Map<String, double[]> WORST = new ConcurrentHashMap<>();

  private static ModelOptions cpu() {
    return ModelOptions.builder().provider(ExecutionProvider.cpu()).intraOpThreads(1).build();
  }

  private static void record(String what, double relErr, double cosine) {
    WORST.merge(what, new double[] {relErr, cosine},
        (a, b) -> new double[] {Math.max(a[0], b[0]), Math.min(a[1], b[1])});
  }

  @AfterAll
  static void report() {
    WORST.forEach((k, v) -> LOG.info(
        "golden figures {}: worst relative max abs error {}, worst cosine 1 - {}",
        k, String.format("%.3e", v[0]), String.format("%.3e", 1 - v[1])));
  }

  @ParameterizedTest
  @ValueSource(strings = {Fixtures.NO_MASK, Fixtures.MASK})
  void lastHiddenStateAndPooledMeanMatchPyTorch(String variant) throws Exception {
    try (EmbeddingModel m = EmbeddingModel.load(Fixtures.model(variant), cpu())) {
      assertEquals(32, m.info().hiddenSize());
      assertEquals(variant.equals(Fixtures.MASK), m.acceptsMixedLengths());
      for (Fixtures.Window w : Fixtures.windows()) {
        float[][] frames = m.frameFeatures(List.of(w.input()))[0];
        assertEquals(w.frames(), frames.length, w.name() + ": frames");
        assertEquals(w.frames(), m.info().framesFor(w.samples()), w.name() + ": framesFor");
        float[] want = w.read("last_hidden_state");
        float[] got = Fixtures.flatten(frames);
        double rel = Fixtures.maxAbsDiff(got, want) / Fixtures.maxAbs(want);
        assertTrue(rel <= MAX_RELATIVE_ERROR,
            variant + " " + w.name() + ": last_hidden_state relative error " + rel);

        float[] pooled = m.embed(w.input());
        float[] wantPooled = w.read("pooled_mean");
        double cos = Similarity.cosine(pooled, wantPooled);
        assertTrue(cos >= MIN_COSINE, variant + " " + w.name() + ": cosine " + cos);
        record(variant + " last_hidden_state+mean", rel, cos);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {Fixtures.NO_MASK, Fixtures.MASK})
  void meanStdPoolingMatchesPyTorch(String variant) throws Exception {
    ModelOptions o = cpu().toBuilder().pooling(Pooling.MEAN_STD).build();
    try (EmbeddingModel m = EmbeddingModel.load(Fixtures.model(variant), o)) {
      assertEquals(64, m.dimension());
      List<float[]> inputs = new ArrayList<>();
      for (Fixtures.Window w : Fixtures.windows()) {
        inputs.add(w.input());
      }
      // every golden window in one call: mixed lengths (one masked run, or one run per length)
      float[][] got = m.embedBatch(inputs);
      List<Fixtures.Window> ws = Fixtures.windows();
      for (int i = 0; i < ws.size(); i++) {
        float[] want = ws.get(i).read("pooled_mean_std");
        double cos = Similarity.cosine(got[i], want);
        double rel = Fixtures.maxAbsDiff(got[i], want) / Fixtures.maxAbs(want);
        assertTrue(cos >= MIN_COSINE, variant + " " + ws.get(i).name() + ": cosine " + cos);
        record(variant + " mean+std, mixed batch", rel, cos);
      }
    }
  }

  @Test
  void intermediateHiddenStateOutputMatchesPyTorch() throws Exception {
    ModelOptions o = cpu().toBuilder().outputName("hidden_states_1").build();
    try (EmbeddingModel m = EmbeddingModel.load(Fixtures.model(Fixtures.MASK), o)) {
      assertEquals("hidden_states_1", m.info().outputName());
      for (Fixtures.Window w : Fixtures.windows()) {
        double[] relCos =
            Fixtures.assertLayer1MatchesTorch(m, w, MAX_RELATIVE_ERROR, MIN_COSINE);
        record("mask hidden_states_1", relCos[0], relCos[1]);
      }
    }
  }

  @Test
  void l2NormalisedVectorsHaveUnitLengthAndSameDirection() throws Exception {
    ModelOptions o = cpu().toBuilder().l2Normalize(true).build();
    try (EmbeddingModel m = EmbeddingModel.load(Fixtures.model(Fixtures.NO_MASK), o)) {
      assertTrue(m.info().l2Normalized());
      for (Fixtures.Window w : Fixtures.windows()) {
        float[] v = m.embed(w.input());
        double norm = Math.sqrt(dot(v, v));
        assertEquals(1.0, norm, 1e-5, w.name());
        assertTrue(Similarity.cosine(v, w.read("pooled_mean")) >= MIN_COSINE, w.name());
      }
    }
  }

  @Test
  void goldensAreSensitiveToMissingNormalisation() throws Exception {
    // The goldens were computed on normalised input: skipping it must be detected.
    ModelOptions o = cpu().toBuilder().normalizeInput(false).build();
    try (EmbeddingModel m = EmbeddingModel.load(Fixtures.model(Fixtures.NO_MASK), o)) {
      assertFalse(m.info().inputNormalized());
      Fixtures.Window quiet = Fixtures.windows().stream()
          .filter(w -> w.name().startsWith("quiet")).findFirst().orElseThrow();
      double cos = Similarity.cosine(m.embed(quiet.input()), quiet.read("pooled_mean"));
      assertTrue(cos < 0.99, "unnormalised quiet window still matched: cosine " + cos);
    }
  }

  @Test
  void normalisationMatchesHuggingFaceFormula() {
    for (Fixtures.Window w : Fixtures.windows()) {
      float[] in = w.input();
      FloatBuffer dst = FloatBuffer.allocate(in.length + 3);
      InputNormalizer.write(in, true, dst, 3);
      float[] got = new float[in.length];
      dst.get(3, got);
      float[] want = w.read("normalized");
      double err = Fixtures.maxAbsDiff(got, want);
      assertTrue(err <= 2e-6 * Math.max(1, Fixtures.maxAbs(want)), w.name() + ": " + err);
    }
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }
}
