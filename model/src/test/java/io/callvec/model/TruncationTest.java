package io.callvec.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Layer choice and truncated encoders: the fixture cut after layer 1 (fixture.py exports layers
 * 1..K only) against torchaudio's {@code extract_features} layer 1 (PyTorch float64 goldens), and
 * model/tools/truncate.py's cut of the uncut export against that export's own hidden_states_1.
 */
class TruncationTest {
  private static final double MAX_RELATIVE_ERROR = 1e-4;
  private static final double MIN_COSINE = 0.9999;

  @TempDir Path tmp;

  private static ModelOptions cpu() {
    return ModelOptions.builder().provider(ExecutionProvider.cpu()).intraOpThreads(1).build();
  }

  private static Path cutFixture() {
    return Fixtures.model(Fixtures.manifest().getProperty("cut_model"));
  }

  @Test
  void cutFixtureLoadsWithDefaultsAndMatchesTorchaudioLayer1() throws Exception {
    int k = Integer.parseInt(Fixtures.manifest().getProperty("cut_layer"));
    try (EmbeddingModel m = EmbeddingModel.load(cutFixture(), cpu())) {
      ModelInfo info = m.info();
      assertEquals("hidden_states_" + k, info.outputName(), "the cut model's only output");
      assertEquals(k, info.layer());
      assertEquals(k, info.layersComputed());
      assertEquals(32, m.dimension());
      assertTrue(m.acceptsMixedLengths());
      for (Fixtures.Window w : Fixtures.windows()) {
        Fixtures.assertLayer1MatchesTorch(m, w, MAX_RELATIVE_ERROR, MIN_COSINE);
      }
    }
  }

  @Test
  void cutAndUncutAgreeOnLayer1AndLayerOptionResolves() throws Exception {
    float[] w = Fixtures.signal(11, 16_000);
    try (EmbeddingModel cut = EmbeddingModel.load(cutFixture(), cpu());
        EmbeddingModel uncut =
            EmbeddingModel.load(Fixtures.model(Fixtures.MASK), cpu().toBuilder().layer(1).build());
        EmbeddingModel last =
            EmbeddingModel.load(Fixtures.model(Fixtures.MASK), cpu().toBuilder().layer(2).build());
        EmbeddingModel dflt = EmbeddingModel.load(Fixtures.model(Fixtures.MASK), cpu())) {
      assertEquals("hidden_states_1", uncut.info().outputName());
      assertEquals(1, uncut.info().layer());
      assertEquals(2, uncut.info().layersComputed());
      double diff = Fixtures.maxAbsDiff(cut.embed(w), uncut.embed(w));
      assertTrue(diff <= 1e-5 * Fixtures.maxAbs(uncut.embed(w)), "cut vs uncut layer 1: " + diff);
      // layer L = 2 is last_hidden_state (Hugging Face: hidden_states[L] is after the final norm)
      assertEquals("last_hidden_state", last.info().outputName());
      assertEquals(2, last.info().layer());
      assertEquals(2, dflt.info().layer());
      assertEquals(0.0, Fixtures.maxAbsDiff(last.embed(w), dflt.embed(w)));
      assertNotEquals(0.0, Fixtures.maxAbsDiff(uncut.embed(w), dflt.embed(w)));
    }
    ModelLoadException e = assertThrows(ModelLoadException.class,
        () -> EmbeddingModel.load(cutFixture(), cpu().toBuilder().layer(2).build()));
    assertTrue(e.getMessage().contains("'hidden_states_2'")
        && e.getMessage().contains("truncate.py"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ModelOptions.builder().layer(-1));
  }

  @Test
  void onePassServesSeveralLayers() throws Exception {
    List<float[]> windows = List.of(Fixtures.signal(3, 16_000), Fixtures.signal(4, 9_000));
    try (EmbeddingModel both = EmbeddingModel.load(Fixtures.model(Fixtures.MASK), cpu());
        EmbeddingModel layer1 =
            EmbeddingModel.load(Fixtures.model(Fixtures.MASK), cpu().toBuilder().layer(1).build())) {
      assertEquals(List.of("last_hidden_state", "hidden_states_1"), both.outputNames());
      float[][][] v = both.embedBatchOutputs(windows, List.of("hidden_states_1", "last_hidden_state"));
      assertEquals(2, v.length);
      float[][] want1 = layer1.embedBatch(windows);
      float[][] wantLast = both.embedBatch(windows);
      for (int w = 0; w < windows.size(); w++) {
        assertEquals(32, v[0][w].length);
        assertTrue(Fixtures.maxAbsDiff(v[0][w], want1[w]) <= 1e-6 * Fixtures.maxAbs(want1[w]));
        assertTrue(Fixtures.maxAbsDiff(v[1][w], wantLast[w]) <= 1e-6 * Fixtures.maxAbs(wantLast[w]));
        assertNotEquals(0.0, Fixtures.maxAbsDiff(v[0][w], v[1][w]));
      }
      assertThrows(IllegalArgumentException.class,
          () -> both.embedBatchOutputs(windows, List.of("hidden_states_7")));
      assertThrows(IllegalArgumentException.class,
          () -> both.embedBatchOutputs(windows, List.of("hidden_states_1", "hidden_states_1")));
    }
  }

  @Test
  void truncateToolCutsAnExportToItsHiddenState() throws Exception {
    PythonTool.require("onnx", "python3-onnx");
    Path out = tmp.resolve("cut.onnx");
    Path src = Fixtures.model(Fixtures.MASK);
    PythonTool.Proc p = PythonTool.tool("truncate.py",
        List.of(src.toString(), out.toString(), "--layers", "1"), 120);
    assertEquals(0, p.exit(), "truncate.py failed:\n" + p.output());
    assertTrue(p.output().contains("outputs hidden_states_1"), p.output());
    assertTrue(Files.size(out) < Files.size(src), "pruned weights: " + Files.size(out));

    try (EmbeddingModel cut = EmbeddingModel.load(out, cpu());
        EmbeddingModel uncut =
            EmbeddingModel.load(src, cpu().toBuilder().outputName("hidden_states_1").build())) {
      assertEquals(List.of("hidden_states_1"),
          List.copyOf(cut.ortSession().getOutputNames()), "that output alone");
      Map<String, String> meta = cut.ortSession().getMetadata().getCustomMetadata();
      Map<String, String> srcMeta = uncut.ortSession().getMetadata().getCustomMetadata();
      assertEquals("1", meta.get("callvec.truncated_after_layer"));
      assertEquals("hidden_states_1", meta.get("callvec.output_names"));
      assertEquals(srcMeta.get("callvec.content_sha256"), meta.get("callvec.source_content_sha256"));
      assertNotEquals(srcMeta.get("callvec.content_sha256"), meta.get("callvec.content_sha256"));
      assertEquals(srcMeta.get("callvec.num_hidden_layers"), meta.get("callvec.num_hidden_layers"));
      assertTrue(meta.get("callvec.exporter").endsWith("tool=truncate.py onnx=" + onnxVersion(meta)),
          meta.get("callvec.exporter"));
      assertEquals(1, cut.info().layer());
      assertEquals(1, cut.info().layersComputed());
      assertTrue(cut.info().metadataComplete());
      for (Fixtures.Window w : Fixtures.windows()) {
        float[] a = Fixtures.flatten(cut.frameFeatures(List.of(w.input()))[0]);
        float[] b = Fixtures.flatten(uncut.frameFeatures(List.of(w.input()))[0]);
        double diff = Fixtures.maxAbsDiff(a, b);
        assertTrue(diff <= 1e-6 * Fixtures.maxAbs(b), w.name() + ": cut vs uncut " + diff);
      }
    }
    PythonTool.Proc verify = PythonTool.tool("callvec_onnx.py", List.of("verify", out.toString()),
        60);
    assertEquals(0, verify.exit(), verify.output());

    PythonTool.Proc bad = PythonTool.tool("truncate.py",
        List.of(src.toString(), tmp.resolve("x.onnx").toString(), "--layers", "2"), 60);
    assertNotEquals(0, bad.exit());
    assertTrue(bad.output().contains("last_hidden_state: nothing to cut"), bad.output());
    assertFalse(Files.exists(tmp.resolve("x.onnx")));
  }

  private static String onnxVersion(Map<String, String> meta) {
    String e = meta.get("callvec.exporter");
    return e.substring(e.lastIndexOf("onnx=") + 5);
  }
}
