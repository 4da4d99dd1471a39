package io.callvec.it;

import java.util.Map;
import org.apache.kafka.clients.admin.NewTopic;

/** A running Kafka broker handed to tests by {@link KafkaBrokerExtension}. */
public interface KafkaBroker {

  /** Where the broker runs. */
  enum Kind {
    /** A Testcontainers {@code apache/kafka} container. */
    TESTCONTAINERS,
    /** An in-JVM KRaft broker ({@link io.callvec.broker.LocalKafkaCluster}). */
    IN_JVM
  }

  /** {@code bootstrap.servers} for clients. */
  String bootstrapServers();

  /** Client settings that reach the broker ({@code bootstrap.servers}); copy and add your own. */
  default Map<String, Object> clientConfig() {
    return Map.of("bootstrap.servers", bootstrapServers());
  }

  /** Where the broker runs. */
  Kind kind();

  /**
   * Creates the topics (replication factor 1) and waits until every partition has a leader.
   *
   * @param partitions partitions per topic, >= 1
   * @throws io.callvec.broker.LocalKafkaException or {@link IllegalStateException} if a topic cannot be
   *     created (e.g. it exists) within 30 s
   */
  void createTopics(int partitions, String... topics);

  /** Creates the given topics and waits until every partition has a leader. */
  void createTopics(java.util.Collection<NewTopic> topics);
}
