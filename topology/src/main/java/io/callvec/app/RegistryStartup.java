package io.callvec.app;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.registry.ConfluentAvroSerde;
import io.callvec.schemas.registry.RegistryClient;
import io.callvec.schemas.serde.TopicSerdes;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The serdes of {@code callvec.serde} for the app. With {@code confluent}, the output schemas
 * (segments, calls, dead letters) are registered, or looked up when {@code
 * auto.register.schemas=false}, before the app starts, so a missing, unreachable or refusing
 * registry stops the start with a clear error instead of failing on the first record; and the
 * registry client's counters become meters: {@code callvec_registry_requests_total}, {@code
 * callvec_registry_failed_attempts_total} (connection failures, timeouts, 5xx: the outage
 * signal) and {@code callvec_registry_unavailable_total} (lookups that gave up).
 */
final class RegistryStartup {
  private static final Logger log = LoggerFactory.getLogger(RegistryStartup.class);

  private RegistryStartup() {}

  static TopicSerdes serdes(CallvecConfig config, MeterRegistry meters) {
    TopicSerdes serdes;
    try {
      serdes = TopicSerdes.fromConfig(config.asMap());
    } catch (org.apache.kafka.common.config.ConfigException e) {
      throw new CallvecConfig.ConfigException(e.getMessage());
    }
    if (serdes.client().isEmpty()) {
      return serdes;
    }
    RegistryClient client = serdes.client().get();
    FunctionCounter.builder("callvec.registry.requests", client, RegistryClient::requests)
        .description("Schema Registry HTTP requests, every attempt").register(meters);
    FunctionCounter.builder("callvec.registry.failed.attempts", client, RegistryClient::failedAttempts)
        .description("Schema Registry attempts without a usable answer (connection failure, timeout, 5xx)").register(meters);
    FunctionCounter.builder("callvec.registry.unavailable", client, RegistryClient::unavailableErrors)
        .description("Schema lookups that gave up after callvec.registry.retry.max.ms").register(meters);
    int segments = ConfluentAvroSerde.of(SegmentEmbedding.class, client).schemaIdFor(config.get(Settings.SEGMENTS_TOPIC));
    int calls = ConfluentAvroSerde.of(CallEmbedding.class, client).schemaIdFor(config.get(Settings.CALLS_TOPIC));
    int dlq = ConfluentAvroSerde.of(AudioChunk.class, client).schemaIdFor(config.get(Settings.DLQ_TOPIC));
    log.info("Confluent wire format on {}: schema ids segments={} calls={} dead letters={}", client.config(), segments, calls, dlq);
    return serdes;
  }
}
