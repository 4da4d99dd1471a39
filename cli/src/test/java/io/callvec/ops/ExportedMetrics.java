package io.callvec.ops;

import io.callvec.app.HttpEndpoint;
import io.callvec.broker.LocalKafkaCluster;
import io.callvec.model.EmbeddingModel;
import io.callvec.model.ModelOptions;
import io.callvec.model.batch.BatchingEngine;
import io.callvec.model.batch.BatchingOptions;
import io.callvec.topology.TopologyMetrics;
import io.callvec.topology.internals.DeadLetterReason;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * The Prometheus text that callvec's {@code /metrics} serves, produced by registering the meters
 * the way {@code io.callvec.app.CallvecApp} does (JVM memory, the shared batcher over the bundled
 * fixture model, the topology's meters, Kafka Streams bridged with {@link KafkaStreamsMetrics}),
 * recording a few real events so that timers, summaries and tagged counters exist, and scraping it
 * over HTTP from {@link HttpEndpoint}.
 */
final class ExportedMetrics {
  private ExportedMetrics() {}

  /** Scrapes once; takes ≈ 5–10 s (a broker, a Streams app, three windows of inference). */
  static String scrape(Path stateDir) throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    try (LocalKafkaCluster kafka = LocalKafkaCluster.startSingleNode();
        EmbeddingModel model = EmbeddingModel.loadBundledFixture(ModelOptions.defaults());
        BatchingEngine engine = new BatchingEngine(model, BatchingOptions.builder()
            .modelName(model.info().modelId())
            .maxBatchWindows(8)
            .maxDelay(Duration.ofMillis(5))
            .meterRegistry(registry)
            .build())) {
      // The batcher: a few 1 s windows of noise, so that its timers and summaries have samples.
      Random random = new Random(42);
      List<CompletableFuture<float[]>> futures = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        float[] w = new float[BatchingEngine.SAMPLE_RATE_HZ];
        for (int j = 0; j < w.length; j++) {
          w[j] = (float) (0.1 * random.nextGaussian());
        }
        futures.add(engine.submit(w));
      }
      for (CompletableFuture<float[]> f : futures) {
        f.get(30, TimeUnit.SECONDS);
      }

      // The topology's meters, and one event of each tagged kind.
      TopologyMetrics metrics = new TopologyMetrics(registry);
      metrics.deadLetter(DeadLetterReason.MALFORMED_AUDIO.name());
      metrics.channelStarted();
      metrics.channelEnded("END_OF_STREAM");
      metrics.segmentEmitted(120);
      metrics.chunk("late");

      // Kafka Streams: a pass-through app on a real broker, bound once it runs and has processed records.
      kafka.createTopics(2, "metrics-in", "metrics-out");
      StreamsBuilder b = new StreamsBuilder();
      b.stream("metrics-in", Consumed.with(Serdes.String(), Serdes.String()))
          .mapValues(v -> v.toUpperCase())
          .to("metrics-out", Produced.with(Serdes.String(), Serdes.String()));
      Properties p = new Properties();
      p.putAll(kafka.clientConfig());
      p.put(StreamsConfig.APPLICATION_ID_CONFIG, "metrics-names");
      p.put(StreamsConfig.STATE_DIR_CONFIG, Files.createDirectories(stateDir).toString());
      p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
      p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
      try (KafkaStreams streams = new KafkaStreams(b.build(), p)) {
        KafkaStreamsMetrics streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(registry);
        streams.start();
        Map<String, Object> pc = new HashMap<>(kafka.clientConfig());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pc, new StringSerializer(), new StringSerializer())) {
          for (int i = 0; i < 20; i++) {
            producer.send(new ProducerRecord<>("metrics-in", "k" + i, "v" + i));
          }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(streams.state() == KafkaStreams.State.RUNNING && processed(streams) >= 20)) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("Kafka Streams did not process 20 records within 30 s: state " + streams.state());
          }
          Thread.sleep(50);
        }
        // The binder adds metrics that appeared after bindTo on its next refresh; bind again now.
        streamsMetrics.close();
        streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(registry);
        try (HttpEndpoint http = HttpEndpoint.start(0, registry, () -> true, () -> true)) {
          HttpResponse<String> r = HttpClient.newHttpClient().send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + "/metrics")).build(),
              HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() != 200) {
            throw new IOException("/metrics answered " + r.statusCode());
          }
          return r.body();
        } finally {
          streamsMetrics.close();
          streams.close(Duration.ofSeconds(10));
        }
      }
    }
  }

  private static double processed(KafkaStreams streams) {
    return streams.metrics().entrySet().stream()
        .filter(e -> e.getKey().name().equals("process-total") && e.getKey().group().equals("stream-thread-metrics"))
        .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
        .sum();
  }
}
