package io.callvec.it.support;

import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.serde.CallvecSerdes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Everything committed on an app's output topics, read from the beginning with {@code
 * isolation.level=read_committed} (what a downstream consumer sees: records of aborted transactions
 * never appear).
 */
public final class CommittedOutput {
  /** Segment embeddings in the order read (per partition: offset order). */
  public final List<SegmentEmbedding> segments = new ArrayList<>();
  /** Call embeddings in the order read. */
  public final List<CallEmbedding> calls = new ArrayList<>();
  /** Dead letters, raw. */
  public final List<ConsumerRecord<String, byte[]>> deadLetters = new ArrayList<>();

  /**
   * Consumer settings of a reader that sees what a downstream consumer sees: {@code read_committed},
   * from the earliest offset, in a group of its own ({@code groupPrefix-<random>}) that commits nothing.
   */
  static Properties readCommittedConsumer(Map<String, Object> clientConfig, String groupPrefix) {
    Properties p = new Properties();
    p.putAll(clientConfig);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupPrefix + "-" + UUID.randomUUID());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    return p;
  }

  /**
   * Reads until at least {@code expectedCalls} call embeddings have arrived and then {@code quiet}
   * longer (so that duplicates would show), or until {@code timeout}.
   *
   * @param clientConfig reaches the cluster ({@code bootstrap.servers}, ...)
   * @param watchdog run on every poll (about every 200 ms); throw from it to stop early, e.g. when the
   *     app died
   * @param timeout longest the whole read may take
   * @param quiet how long to keep reading after the last expected call embedding
   */
  public static CommittedOutput read(Map<String, Object> clientConfig, AppTopics topics, int expectedCalls, Duration timeout, Duration quiet,
      Runnable watchdog) {
    Properties p = readCommittedConsumer(clientConfig, "reader");
    CommittedOutput out = new CommittedOutput();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topics.segments(), topics.calls(), topics.dlq()));
      long deadline = System.nanoTime() + timeout.toNanos();
      long quietUntil = Long.MAX_VALUE;
      while (System.nanoTime() < Math.min(deadline, quietUntil)) {
        if (watchdog != null) {
          watchdog.run();
        }
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.topic().equals(topics.segments())) {
            out.segments.add(CallvecSerdes.segmentEmbedding().deserializer().deserialize(r.topic(), r.value()));
          } else if (r.topic().equals(topics.calls())) {
            out.calls.add(CallvecSerdes.callEmbedding().deserializer().deserialize(r.topic(), r.value()));
          } else {
            out.deadLetters.add(r);
          }
        }
        if (out.calls.size() >= expectedCalls && quietUntil == Long.MAX_VALUE) {
          quietUntil = System.nanoTime() + quiet.toNanos();
        }
      }
    }
    return out;
  }

  /** Records read in all (segments + calls + dead letters). */
  public int records() {
    return segments.size() + calls.size() + deadLetters.size();
  }
}
