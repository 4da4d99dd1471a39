package io.callvec.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class OptionsTest {
  @Test
  void parsesProviders() {
    assertEquals(ExecutionProvider.cpu(), ExecutionProvider.parse("CPU"));
    assertEquals(ExecutionProvider.auto(), ExecutionProvider.parse(" auto "));
    assertEquals(ExecutionProvider.cuda(0), ExecutionProvider.parse("cuda"));
    assertEquals(ExecutionProvider.cuda(3), ExecutionProvider.parse("cuda:3"));
    assertEquals(ExecutionProvider.tensorRt(1), ExecutionProvider.parse("tensorrt:1"));
    assertEquals("cuda:3", ExecutionProvider.cuda(3).toString());
    assertEquals("cpu", ExecutionProvider.cpu().toString());
    for (String bad : new String[] {"gpu", "cuda:x", "cuda:-1", "cpu:0", ""}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> ExecutionProvider.parse(bad), bad);
      assertFalse(e.getMessage().isEmpty());
    }
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ExecutionProvider.parse("gpu"))
        .getMessage().contains("expected cpu, auto, cuda[:device] or tensorrt[:device]"));
  }

  @Test
  void builderDefaultsAndCopies() {
    ModelOptions d = ModelOptions.defaults();
    assertEquals(ExecutionProvider.auto(), d.provider());
    assertEquals(0, d.intraOpThreads());
    assertFalse(d.intraOpSpinning(), "idle intra-op threads sleep unless asked to spin");
    assertEquals(Pooling.MEAN, d.pooling());
    assertFalse(d.l2Normalize());
    assertEquals("last_hidden_state", d.outputName());
    assertTrue(d.normalizeInput().isEmpty());
    ModelOptions o = d.toBuilder().provider("tensorrt").tensorRtFp16(true)
        .tensorRtEngineCacheDir(Path.of("/tmp/trt")).pooling(Pooling.MEAN_STD).intraOpThreads(2)
        .intraOpSpinning(true).l2Normalize(true).normalizeInput(false).build();
    assertEquals(ExecutionProvider.tensorRt(0), o.provider());
    assertTrue(o.tensorRtFp16());
    assertEquals(Path.of("/tmp/trt"), o.tensorRtEngineCacheDir().orElseThrow());
    assertEquals(2, o.intraOpThreads());
    assertTrue(o.intraOpSpinning());
    assertEquals(Boolean.FALSE, o.normalizeInput().orElseThrow());
    assertEquals(Pooling.MEAN, d.pooling(), "defaults unchanged");
    assertThrows(IllegalArgumentException.class, () -> ModelOptions.builder().intraOpThreads(-1));
    assertThrows(IllegalArgumentException.class, () -> ModelOptions.builder().outputName(" "));
    assertEquals(64, Pooling.MEAN_STD.dimension(32));
    assertEquals(32, Pooling.MEAN.dimension(32));
  }
}
