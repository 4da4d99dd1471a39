package io.callvec.model.batch;

import static io.callvec.model.batch.EngineChecks.WAIT_S;
import static io.callvec.model.batch.ScriptedEmbedder.window;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.callvec.model.InferenceException;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Every meter's value in a scenario whose timing is fixed by a manual ticker. */
class MetricsTest {
  private static final String MODEL = "w2v2-test";

  private static double counter(MeterRegistry r, String name) {
    return r.get(name).tag(BatcherMetricNames.TAG_MODEL, MODEL).counter().count();
  }

  private static double counter(MeterRegistry r, String name, String reason) {
    return r.get(name)
        .tag(BatcherMetricNames.TAG_MODEL, MODEL)
        .tag(BatcherMetricNames.TAG_REASON, reason)
        .counter()
        .count();
  }

  private static double gauge(MeterRegistry r, String name) {
    return r.get(name).tag(BatcherMetricNames.TAG_MODEL, MODEL).gauge().value();
  }

  @Test
  void metersDescribeBatchesWaitsAndFailuresExactly() throws Exception {
    ManualTicker ticker = new ManualTicker();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ScriptedEmbedder embedder =
        new ScriptedEmbedder()
            .advancing(ticker, Duration.ofMillis(7)) // every call "takes" 7 ms
            .script(
                ScriptedEmbedder.failingFromCall(
                    3, () -> new InferenceException("device lost", false)));
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            BatchingOptions.builder()
                .modelName(MODEL)
                .maxBatchWindows(4)
                .maxDelay(Duration.ofMillis(50))
                .ticker(ticker)
                .meterRegistry(registry)
                .retryPolicy(RetryPolicy.none())
                .outageRetryPolicy(RetryPolicy.none())
                .build())) {
      // Batch 1: four 1 s windows submitted 1 ms apart; full at the fourth: waits 3, 2, 1, 0 ms.
      List<CompletableFuture<float[]>> first = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        if (i > 0) {
          ticker.advance(Duration.ofMillis(1));
        }
        first.add(engine.submit(window(16_000, i)));
      }
      EngineChecks.awaitAll(first);
      // Batch 2: one 0.5 s window, dispatched by the 50 ms delay.
      CompletableFuture<float[]> lone = engine.submit(window(8_000, 10));
      ticker.advance(Duration.ofMillis(50));
      lone.get(WAIT_S, TimeUnit.SECONDS);
      // Batch 3: four windows, failed by the embedder, and so is the probe: an outage, no wait.
      List<CompletableFuture<float[]>> failing = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        failing.add(engine.submit(window(16_000, 20 + i)));
      }
      for (CompletableFuture<float[]> f : failing) {
        EngineChecks.failureOf(f);
      }

      DistributionSummary size =
          registry.get(BatcherMetricNames.BATCH_SIZE).tag("model", MODEL).summary();
      assertEquals(3, size.count());
      assertEquals(9.0, size.totalAmount());
      assertEquals(4.0, size.max());
      DistributionSummary fill =
          registry.get(BatcherMetricNames.BATCH_FILL).tag("model", MODEL).summary();
      assertEquals(3, fill.count());
      assertEquals(0.75, fill.mean(), 1e-12); // (1 + 0.25 + 1) / 3
      Timer wait = registry.get(BatcherMetricNames.QUEUE_WAIT).tag("model", MODEL).timer();
      assertEquals(9, wait.count());
      assertEquals(6 + 50 + 0, wait.totalTime(TimeUnit.MILLISECONDS), 1e-9);
      assertEquals(50.0, wait.max(TimeUnit.MILLISECONDS), 1e-9);
      Timer inference = registry.get(BatcherMetricNames.INFERENCE).tag("model", MODEL).timer();
      assertEquals(4, inference.count()); // three batches and one probe
      assertEquals(28.0, inference.totalTime(TimeUnit.MILLISECONDS), 1e-9);
      assertEquals(1.0, counter(registry, BatcherMetricNames.PROBES));
      assertEquals(1.0, counter(registry, BatcherMetricNames.OUTAGES));
      assertEquals(0.0, counter(registry, BatcherMetricNames.POISON));
      assertEquals(0.0, counter(registry, BatcherMetricNames.SPLITS));
      assertEquals(1.0, gauge(registry, BatcherMetricNames.WORKERS_ALIVE));
      assertEquals(5.0, counter(registry, BatcherMetricNames.WINDOWS));
      assertEquals(4.5, counter(registry, BatcherMetricNames.AUDIO), 1e-12); // 4 x 1 s + 0.5 s
      assertEquals(1.0, counter(registry, BatcherMetricNames.BATCH_FAILURES));
      assertEquals(
          4.0,
          counter(
              registry, BatcherMetricNames.WINDOWS_FAILED, BatcherMetricNames.REASON_INFERENCE));
      assertEquals(
          0.0,
          counter(registry, BatcherMetricNames.WINDOWS_FAILED, BatcherMetricNames.REASON_SHUTDOWN));
      assertEquals(0.0, counter(registry, BatcherMetricNames.RETRIES));
      assertEquals(
          0.0,
          counter(registry, BatcherMetricNames.REJECTED, BatcherMetricNames.REASON_QUEUE_FULL));
      assertEquals(0.0, gauge(registry, BatcherMetricNames.QUEUE_DEPTH));
      assertEquals(0.0, gauge(registry, BatcherMetricNames.IN_FLIGHT));
    }
  }

  @Test
  void gaugesFollowTheQueueAndTheRunningBatch() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ScriptedEmbedder embedder = new ScriptedEmbedder().closeGate();
    try (BatchingEngine engine =
        new BatchingEngine(
            embedder,
            BatchingOptions.builder()
                .modelName(MODEL)
                .maxBatchWindows(3)
                .maxDelay(Duration.ofSeconds(600))
                .meterRegistry(registry)
                .build())) {
      assertEquals(0.0, gauge(registry, BatcherMetricNames.QUEUE_DEPTH));
      List<CompletableFuture<float[]>> futures =
          new ArrayList<>(EngineChecks.submitAll(engine, ScriptedEmbedder.windows(3, 400, 0)));
      embedder.awaitEntered(1);
      futures.addAll(EngineChecks.submitAll(engine, ScriptedEmbedder.windows(2, 400, 10)));
      assertEquals(2.0, gauge(registry, BatcherMetricNames.QUEUE_DEPTH));
      assertEquals(3.0, gauge(registry, BatcherMetricNames.IN_FLIGHT));
      futures.add(engine.submit(window(400, 20))); // the second batch is full now
      embedder.openGate();
      EngineChecks.awaitAll(futures);
      assertEquals(0.0, gauge(registry, BatcherMetricNames.QUEUE_DEPTH));
      assertEquals(0.0, gauge(registry, BatcherMetricNames.IN_FLIGHT));
      assertEquals(1.0, registry.get(BatcherMetricNames.BATCH_FILL).summary().mean(), 1e-12);
    }
  }
}
