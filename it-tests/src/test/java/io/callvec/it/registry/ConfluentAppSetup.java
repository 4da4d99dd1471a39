package io.callvec.it.registry;

import io.callvec.app.CallvecConfig;
import io.callvec.broker.LocalSchemaRegistry;
import io.callvec.it.KafkaBroker;
import io.callvec.it.support.InJvmAppSettings;
import io.callvec.it.support.WorkDirs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * For test classes that run the app in this JVM on the Confluent serde (a JUnit extension, registered
 * as a static field): one Apicurio registry for the class, and the instances' state folders under one
 * temporary root; started before the class's first test, stopped and deleted after its last.
 */
final class ConfluentAppSetup implements BeforeAllCallback, AfterAllCallback {
  private LocalSchemaRegistry registry;
  private Path stateRoot;

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    registry = LocalSchemaRegistry.start();
    stateRoot = Files.createTempDirectory("callvec-it-confluent-");
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    try {
      if (registry != null) {
        registry.close();
      }
    } finally {
      WorkDirs.deleteTree(stateRoot);
    }
  }

  /**
   * A consumer of what the app instance of {@code cfg} committed ({@code read_committed}, from the
   * earliest offset, in group {@code groupId}), subscribed to its segment, call and dead-letter topics.
   */
  static KafkaConsumer<String, byte[]> outputConsumer(KafkaBroker broker, String groupId, CallvecConfig cfg) {
    Properties c = new Properties();
    c.putAll(broker.clientConfig());
    c.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
    try {
      consumer.subscribe(List.of(cfg.raw("callvec.segments.topic"), cfg.raw("callvec.calls.topic"), cfg.raw("callvec.dlq.topic")));
      return consumer;
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
  }

  /** The class's registry (the tests may stop and restart it). */
  LocalSchemaRegistry registry() {
    return registry;
  }

  /**
   * Settings of an in-JVM instance for {@code prefix} (state in {@code <root>/prefix}) on the
   * Confluent serde with the registry at {@code registryUrl}; a mutable map, to add to.
   */
  Map<String, String> confluentApp(KafkaBroker broker, String prefix, String registryUrl) {
    Map<String, String> m = singleObjectApp(broker, prefix);
    m.put("callvec.serde", "confluent");
    m.put("schema.registry.url", registryUrl);
    return m;
  }

  /** The same on the default single-object serde (no registry). */
  Map<String, String> singleObjectApp(KafkaBroker broker, String prefix) {
    return InJvmAppSettings.of(broker.bootstrapServers(), prefix, stateRoot.resolve(prefix));
  }
}
