package io.callvec.model.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.model.EmbeddingModel;
import io.callvec.model.ExecutionProvider;
import io.callvec.model.ModelOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Failure isolation with the real ONNX model (the bundled fixture on CPU): windows the model
 * rejects (a NaN sample; shorter than its 400-sample receptive field, which a configuration can
 * produce) fail alone as poison, and every window batched with them is embedded as if alone.
 */
class RealModelPoisonTest {
  private static final long WAIT_S = 30;

  @Test
  void windowsTheModelRejectsArePoisonAndTheirCompanionsAreEmbedded() throws Exception {
    ModelOptions o = ModelOptions.builder().provider(ExecutionProvider.cpu()).build();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (EmbeddingModel model = EmbeddingModel.loadBundledFixture(o);
        BatchingEngine engine =
            new BatchingEngine(
                model,
                BatchingOptions.builder()
                    .modelName("fixture")
                    .maxBatchWindows(4)
                    .maxDelay(Duration.ofSeconds(600)) // only full batches (and the drain) run
                    .meterRegistry(registry)
                    .build())) {
      List<float[]> good = new ArrayList<>();
      List<CompletableFuture<float[]>> goodFutures = new ArrayList<>();
      float[] nan = ScriptedEmbedder.window(8_000, 99);
      nan[1234] = Float.NaN;
      CompletableFuture<float[]> nanFuture = null;
      for (int i = 0; i < 3; i++) {
        good.add(ScriptedEmbedder.window(8_000, i));
        goodFutures.add(engine.submit(good.get(i), WindowTag.of("0_0", "good-" + i)));
        if (i == 1) {
          nanFuture = engine.submit(nan, WindowTag.of("0_0", "nan"));
        }
      }
      float[] tooShort = ScriptedEmbedder.window(200, 7);
      CompletableFuture<float[]> shortFuture =
          engine.submit(tooShort, WindowTag.of("0_0", "short"));
      engine.shutdown(Duration.ofSeconds(WAIT_S)); // drains the lone short window

      for (int i = 0; i < 3; i++) {
        float[] alone = model.embed(good.get(i));
        float[] batched = goodFutures.get(i).get(WAIT_S, TimeUnit.SECONDS);
        assertEquals(alone.length, batched.length);
        for (int k = 0; k < alone.length; k++) {
          assertEquals(alone[k], batched[k], 1e-4f * Math.max(1f, Math.abs(alone[k])), "dim " + k);
        }
      }
      for (CompletableFuture<float[]> f : List.of(nanFuture, shortFuture)) {
        ExecutionException e =
            assertThrows(ExecutionException.class, () -> f.get(WAIT_S, TimeUnit.SECONDS));
        PoisonWindowException p = assertInstanceOf(PoisonWindowException.class, e.getCause());
        assertInstanceOf(IllegalArgumentException.class, p.getCause().getCause());
        assertTrue(p.tag().windowId().equals("nan") || p.tag().windowId().equals("short"));
      }
      assertEquals(2.0, registry.get(BatcherMetricNames.POISON).counter().count());
      assertEquals(3.0, registry.get(BatcherMetricNames.WINDOWS).counter().count());
      assertEquals(0.0, registry.get(BatcherMetricNames.OUTAGES).counter().count());
    }
  }
}
