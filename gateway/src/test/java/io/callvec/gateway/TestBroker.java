package io.callvec.gateway;

import io.callvec.broker.LocalKafkaCluster;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real single-node KRaft broker for one test class, with the class's topic created:
 * {@code @RegisterExtension static final TestBroker BROKER = new TestBroker(TOPIC, 3);}, then
 * {@code BROKER.kafka()}. Closed after the class on every path.
 */
final class TestBroker implements BeforeAllCallback, AfterAllCallback {
  private final String topic;
  private final int partitions;
  private LocalKafkaCluster kafka;

  TestBroker(String topic, int partitions) {
    this.topic = topic;
    this.partitions = partitions;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    kafka = LocalKafkaCluster.startSingleNode();
    kafka.createTopics(partitions, topic);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (kafka != null) {
      kafka.close();
      kafka = null;
    }
  }

  LocalKafkaCluster kafka() {
    if (kafka == null) {
      throw new IllegalStateException("the broker runs only while the test class does");
    }
    return kafka;
  }
}
