package io.callvec.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.model.WindowEmbedder;
import io.callvec.model.batch.BatchingEngine;
import io.callvec.model.batch.BatchingOptions;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

/**
 * {@code /health/live} and {@code /health/ready} follow the micro-batcher: a real {@link
 * BatchingEngine} whose only worker dies of an {@link Error} makes both answer 503 while Kafka
 * Streams is still RUNNING.
 */
class HealthProbesTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** Returns 2-float vectors, or throws {@code death} once {@code die} is set. */
  private static final class DyingEmbedder implements WindowEmbedder {
    final AtomicBoolean die = new AtomicBoolean();
    final Error death = new OutOfMemoryError("native arena exhausted (test)");

    @Override
    public float[][] embedBatch(List<float[]> windows) {
      if (die.get()) {
        throw death;
      }
      float[][] out = new float[windows.size()][];
      for (int i = 0; i < out.length; i++) {
        out[i] = new float[] {1f, 0f};
      }
      return out;
    }

    @Override
    public boolean acceptsMixedLengths() {
      return true;
    }

    @Override
    public int dimension() {
      return 2;
    }
  }

  private static int status(HttpEndpoint http, String path) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://localhost:" + http.port() + path)).timeout(Duration.ofSeconds(5)).build();
    return HTTP.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void aDeadWorkerMakesTheInstanceNeitherLiveNorReady() throws Exception {
    DyingEmbedder embedder = new DyingEmbedder();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (BatchingEngine engine = new BatchingEngine(embedder, BatchingOptions.builder().modelName("health").maxBatchWindows(1)
        .maxDelay(Duration.ZERO).workers(1).build())) {
      KafkaStreams.State running = KafkaStreams.State.RUNNING;
      HttpEndpoint http = HttpEndpoint.start(0, registry, () -> HealthProbes.live(running, engine.health()),
          () -> HealthProbes.ready(running, engine.health()));
      try {
        assertEquals(1f, engine.submit(new float[400]).get(10, TimeUnit.SECONDS)[0], "the model serves before the worker dies");
        assertEquals(200, status(http, "/health/live"));
        assertEquals(200, status(http, "/health/ready"));

        embedder.die.set(true);
        CompletableFuture<float[]> f = engine.submit(new float[400]);
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getCause() == embedder.death, "the future fails with the worker's death: " + e.getCause());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (engine.health().workersAlive() > 0 && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
        assertEquals(0, engine.health().workersAlive(), "the worker thread ended");
        assertEquals(503, status(http, "/health/live"), "live with no batcher worker left");
        assertEquals(503, status(http, "/health/ready"), "ready with no batcher worker left");
        assertFalse(HealthProbes.live(KafkaStreams.State.RUNNING, engine.health()));
      } finally {
        http.close();
      }
    }
  }

  @Test
  void streamsInErrorIsNotLiveEvenWithAHealthyEngine() throws Exception {
    try (BatchingEngine engine = new BatchingEngine(new DyingEmbedder(), BatchingOptions.builder().modelName("ok").workers(1).build())) {
      assertTrue(HealthProbes.live(KafkaStreams.State.RUNNING, engine.health()));
      assertTrue(HealthProbes.ready(KafkaStreams.State.RUNNING, engine.health()));
      assertTrue(HealthProbes.live(KafkaStreams.State.REBALANCING, engine.health()));
      assertFalse(HealthProbes.ready(KafkaStreams.State.REBALANCING, engine.health()));
      assertFalse(HealthProbes.live(KafkaStreams.State.ERROR, engine.health()));
      assertFalse(HealthProbes.live(KafkaStreams.State.PENDING_ERROR, engine.health()));
    }
  }
}
