package io.callvec.cli;

import io.callvec.broker.LocalKafkaCluster;
import io.callvec.broker.LocalSchemaRegistry;
import java.nio.file.Path;

/**
 * The demo's in-JVM broker (and, in confluent mode, its Schema Registry child process), behind a
 * class of its own so that the other commands never load a broker class: the broker jars
 * ({@code lib-demo/}) are on the class path of {@code ./callvec} in a checkout, not in the
 * production image, where {@link #available()} is false and {@code demo} refuses to start with a
 * message instead.
 */
final class DemoBroker implements AutoCloseable {
  /** A class of the broker module, looked up by name so that checking does not load it. */
  static final String BROKER_CLASS = "io.callvec.broker.LocalKafkaCluster";
  /** What the demo's registry is, for its start-up line. */
  static final String REGISTRY_NAME = "Apicurio Registry " + LocalSchemaRegistry.VERSION;

  private final LocalKafkaCluster kafka;
  private final LocalSchemaRegistry registry;

  private DemoBroker(LocalKafkaCluster kafka, LocalSchemaRegistry registry) {
    this.kafka = kafka;
    this.registry = registry;
  }

  /** Whether the broker module is on the class path (it is not in the production image). */
  static boolean available() {
    try {
      Class.forName(BROKER_CLASS, false, DemoBroker.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /**
   * A real single-node KRaft broker in this JVM, data in {@code dataDir}, and with {@code
   * withRegistry} a real Schema Registry as a child process; both ready when this returns.
   */
  static DemoBroker start(Path dataDir, boolean withRegistry) throws Exception {
    LocalKafkaCluster kafka = LocalKafkaCluster.builder().dataDir(dataDir).build();
    try {
      return new DemoBroker(kafka, withRegistry ? LocalSchemaRegistry.start() : null);
    } catch (Exception | Error e) {
      kafka.close();
      throw e;
    }
  }

  String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  /** The registry's Confluent-compatible URL, or null without one. */
  String schemaRegistryUrl() {
    return registry == null ? null : registry.url();
  }

  void createTopics(int partitions, String... topics) {
    kafka.createTopics(partitions, topics);
  }

  @Override
  public void close() throws Exception {
    try {
      if (registry != null) {
        registry.close();
      }
    } finally {
      kafka.close();
    }
  }
}
