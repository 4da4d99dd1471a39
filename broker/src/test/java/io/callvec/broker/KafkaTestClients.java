package io.callvec.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Plain string clients for broker tests. */
final class KafkaTestClients {

  private KafkaTestClients() {}

  static KafkaProducer<String, String> transactionalProducer(LocalKafkaCluster kafka, String transactionalId) {
    Map<String, Object> cfg = new HashMap<>(kafka.clientConfig());
    cfg.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    cfg.put(ProducerConfig.ACKS_CONFIG, "all");
    cfg.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    cfg.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
    return new KafkaProducer<>(cfg, new StringSerializer(), new StringSerializer());
  }

  static KafkaProducer<String, String> idempotentProducer(LocalKafkaCluster kafka) {
    Map<String, Object> cfg = new HashMap<>(kafka.clientConfig());
    cfg.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    cfg.put(ProducerConfig.ACKS_CONFIG, "all");
    cfg.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
    return new KafkaProducer<>(cfg, new StringSerializer(), new StringSerializer());
  }

  /** Reads {@code topic} from the beginning until {@code expected} records or the timeout. */
  static List<ConsumerRecord<String, String>> readAll(
      LocalKafkaCluster kafka, String topic, String isolation, int expected, Duration timeout) {
    Map<String, Object> cfg = new HashMap<>(kafka.clientConfig());
    cfg.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + topic + "-" + isolation + "-" + System.nanoTime());
    cfg.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cfg.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    cfg.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<ConsumerRecord<String, String>> out = new ArrayList<>();
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cfg, new StringDeserializer(), new StringDeserializer())) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      // One more short poll: records beyond the expected count would show a bug.
      c.poll(Duration.ofMillis(300)).forEach(out::add);
    }
    return out;
  }
}
