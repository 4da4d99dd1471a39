package io.callvec.cli;

import io.callvec.broker.LocalKafkaCluster;
import java.nio.file.Path;

/**
 * The demo's in-JVM broker, behind a class of its own so that the other commands never load a broker
 * class: the broker jars ({@code lib-demo/}) are on the class path of {@code ./callvec} in a
 * checkout, not in the production image, where {@link #available()} is false and {@code demo}
 * refuses to start with a message instead.
 */
final class DemoBroker implements AutoCloseable {
  /** A class of the broker module, looked up by name so that checking does not load it. */
  static final String BROKER_CLASS = "io.callvec.broker.LocalKafkaCluster";

  private final LocalKafkaCluster kafka;

  private DemoBroker(LocalKafkaCluster kafka) {
    this.kafka = kafka;
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

  /** A real single-node KRaft broker in this JVM, data in {@code dataDir}; ready when this returns. */
  static DemoBroker start(Path dataDir) {
    return new DemoBroker(LocalKafkaCluster.builder().dataDir(dataDir).build());
  }

  String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  void createTopics(int partitions, String... topics) {
    kafka.createTopics(partitions, topics);
  }

  @Override
  public void close() {
    kafka.close();
  }
}
