package io.callvec.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The GPU-speed stand-in on the main class path ({@link EmbeddingModel#STANDIN_1024_RESOURCE}):
 * dimension 1024, the real model's frame geometry, vectors equal to PyTorch float64 references
 * of the same architecture (goldens from model/tools/fixture.py).
 */
class StandInModelTest {
  private static final double MAX_RELATIVE_ERROR = 1e-4;
  private static final double MIN_COSINE = 0.9999;
  private static final long MAX_BYTES = 5L << 20;

  private static ModelOptions cpu() {
    return ModelOptions.builder().provider(ExecutionProvider.cpu()).intraOpThreads(1).build();
  }

  @Test
  void loadsFromTheClassPathWithDimension1024AndMatchesPyTorch() throws Exception {
    Properties manifest = Fixtures.manifest();
    byte[] bytes = Fixtures.readResource(EmbeddingModel.STANDIN_1024_RESOURCE);
    assertTrue(bytes.length < MAX_BYTES, "stand-in is " + bytes.length + " bytes");
    try (EmbeddingModel m = EmbeddingModel.loadStandIn(cpu())) {
      ModelInfo info = m.info();
      assertEquals(manifest.getProperty("standin_model_id"), info.modelId());
      assertEquals(1024, Integer.parseInt(manifest.getProperty("standin_hidden_size")));
      assertEquals(1024, info.hiddenSize());
      assertEquals(1024, m.dimension());
      assertEquals(320, info.frameStrideSamples());
      assertEquals(400, info.receptiveFieldSamples());
      assertEquals(0, info.layersComputed(), "no transformer layer");
      assertEquals(0, info.layer(), "last_hidden_state of a 0-layer encoder");
      assertTrue(info.metadataComplete());
      assertFalse(m.acceptsMixedLengths());
      List<float[]> inputs = new ArrayList<>();
      for (Fixtures.Window w : Fixtures.windows()) {
        inputs.add(w.input());
      }
      float[][] got = m.embedBatch(inputs); // mixed lengths: one run per length
      List<Fixtures.Window> ws = Fixtures.windows();
      for (int i = 0; i < ws.size(); i++) {
        float[] want = ws.get(i).read("standin.pooled_mean");
        assertEquals(1024, want.length);
        double rel = Fixtures.maxAbsDiff(got[i], want) / Fixtures.maxAbs(want);
        double cos = Similarity.cosine(got[i], want);
        assertTrue(rel <= MAX_RELATIVE_ERROR, ws.get(i).name() + ": relative error " + rel);
        assertTrue(cos >= MIN_COSINE, ws.get(i).name() + ": cosine " + cos);
      }
    }
  }
}
