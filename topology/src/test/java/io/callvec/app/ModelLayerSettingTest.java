package io.callvec.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.model.EmbeddingModel;
import io.callvec.model.ModelLoadException;
import org.junit.jupiter.api.Test;

/** {@code callvec.model.layer} reaches the model's options; bad values fail naming the key. */
class ModelLayerSettingTest {

  private static CallvecConfig layer(String v) {
    return CallvecConfig.builder().set(Settings.MODEL_LAYER.key(), v).build();
  }

  @Test
  void autoPoolsTheDefaultOutputAndANumberPoolsThatLayer() throws Exception {
    int last;
    try (EmbeddingModel m = CallvecApp.loadModel(CallvecConfig.builder().build())) {
      last = m.info().layer();
      assertEquals("last_hidden_state", m.info().outputName());
    }
    assertTrue(last > 0, "the fixture says its layer: " + last);
    try (EmbeddingModel m = CallvecApp.loadModel(layer(String.valueOf(last)))) {
      assertEquals(last, m.info().layer());
    }
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> CallvecApp.loadModel(layer("7")).close());
    assertTrue(e.getMessage().contains("hidden_states_7"), e.getMessage());
  }

  @Test
  void badValuesNameTheKey() {
    var e = assertThrows(CallvecConfig.ConfigException.class, () -> CallvecApp.loadModel(layer("middle")));
    assertTrue(e.getMessage().contains("callvec.model.layer"), e.getMessage());
    e = assertThrows(CallvecConfig.ConfigException.class, () -> CallvecApp.loadModel(layer("-1")));
    assertTrue(e.getMessage().contains("callvec.model.layer"), e.getMessage());
  }
}
