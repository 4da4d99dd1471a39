package io.callvec.app;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.model.EmbeddingModel;
import io.callvec.model.ModelInfo;
import io.callvec.model.ModelOptions;
import io.callvec.topology.TopologySettings;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Start-up refuses a minimum final window shorter than the model's receptive field (every call's last window would fail). */
class WindowsFitTheModelTest {

  private static TopologySettings settings(String minFinalMs) {
    return TopologySettings.from(CallvecConfig.builder().overrides(Map.of(Settings.MIN_FINAL_WINDOW_MS.key(), minFinalMs)).build());
  }

  @Test
  void aFinalWindowBelowTheReceptiveFieldIsRefusedWithAClearMessage() throws Exception {
    try (EmbeddingModel model = EmbeddingModel.loadBundledFixture(ModelOptions.defaults())) {
      ModelInfo info = model.info();
      assertTrue(info.receptiveFieldSamples() == 400, "wav2vec2 geometry: 400 samples");
      CallvecConfig.ConfigException e = assertThrows(CallvecConfig.ConfigException.class,
          () -> CallvecApp.checkWindowsFitTheModel(settings("20"), info));
      assertTrue(e.getMessage().contains("callvec.min.final.window.ms") && e.getMessage().contains("400 samples"), e.getMessage());
      assertDoesNotThrow(() -> CallvecApp.checkWindowsFitTheModel(settings("25"), info)); // 400 samples: one frame
      assertDoesNotThrow(() -> CallvecApp.checkWindowsFitTheModel(settings("1000"), info));
    }
  }
}
