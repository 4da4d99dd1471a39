package io.callvec.app;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The topics callvec reads and writes, with the partition counts and topic configs that {@code
 * callvec topics create} provisions (Kafka Streams creates its own internal changelog and
 * repartition topics).
 *
 * <table>
 *   <caption>Topics</caption>
 *   <tr><th>role</th><th>name (setting)</th><th>partitions</th><th>configs</th></tr>
 *   <tr><td>input</td><td>{@code callvec.input.topic}</td><td>{@code partitions}</td>
 *       <td>retention 24 h; {@code max.message.bytes} at least 1 MiB and at least {@code
 *       callvec.max.payload.bytes} + 16 KiB of record overhead</td></tr>
 *   <tr><td>segments</td><td>{@code callvec.segments.topic}</td><td>{@code partitions}</td>
 *       <td>retention 7 d</td></tr>
 *   <tr><td>calls</td><td>{@code callvec.calls.topic}</td><td>{@code partitions}</td>
 *       <td>{@code cleanup.policy=compact} (latest embedding per {@code <call id>|<channel index>})</td></tr>
 *   <tr><td>dlq</td><td>{@code callvec.dlq.topic}</td><td>{@code dlqPartitions}</td>
 *       <td>retention 14 d</td></tr>
 * </table>
 *
 * When a replication factor is given, every topic gets {@code min.insync.replicas} 2 if it is 3 or
 * more (one replica may be down and writes with {@code acks=all} still succeed), else 1; without
 * one, the broker's {@code default.replication.factor} and {@code min.insync.replicas} apply.
 *
 * @param topics the topics, in the order input, segments, calls, dlq
 */
public record TopicPlan(List<Topic> topics) {

  /** Retention of the input topic, in milliseconds (24 h): enough to replay a day of audio. */
  public static final long INPUT_RETENTION_MS = 24L * 3600 * 1000;
  /** Retention of the segment embeddings topic, in milliseconds (7 d). */
  public static final long SEGMENTS_RETENTION_MS = 7L * 24 * 3600 * 1000;
  /** Retention of the dead-letter topic, in milliseconds (14 d): time to inspect and replay. */
  public static final long DLQ_RETENTION_MS = 14L * 24 * 3600 * 1000;
  /** Smallest {@code max.message.bytes} of the input topic, in bytes (the broker's default, 1 MiB + 12). */
  public static final int MIN_INPUT_MAX_MESSAGE_BYTES = 1_048_588;
  /** Record batch overhead allowed on top of the largest chunk payload, in bytes. */
  public static final int RECORD_OVERHEAD_BYTES = 16 * 1024;
  /** Default partitions of the input and output topics. */
  public static final int DEFAULT_PARTITIONS = 12;
  /** Default partitions of the dead-letter topic: dead letters are rare and read in order. */
  public static final int DEFAULT_DLQ_PARTITIONS = 1;

  /** What a topic is for. */
  public enum Role {
    INPUT, SEGMENTS, CALLS, DLQ;

    /** Lower-case name, as printed. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * One planned topic.
   *
   * @param role what it is for
   * @param name topic name
   * @param partitions partition count, >= 1
   * @param replicationFactor replicas per partition, or empty for the broker's {@code
   *     default.replication.factor}
   * @param configs topic-level configs to set (unmodifiable, in insertion order)
   */
  public record Topic(Role role, String name, int partitions, Optional<Short> replicationFactor, Map<String, String> configs) {
    public Topic {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("topic name of role " + role + " must not be blank");
      }
      if (partitions < 1) {
        throw new IllegalArgumentException("partitions of " + name + " must be >= 1, found " + partitions);
      }
      configs = Collections.unmodifiableMap(new LinkedHashMap<>(configs));
    }
  }

  public TopicPlan {
    topics = List.copyOf(topics);
  }

  /**
   * The plan for a configuration.
   *
   * @param config topic names and {@code callvec.max.payload.bytes} come from here
   * @param partitions partitions of the input, segments and calls topics, >= 1
   * @param dlqPartitions partitions of the dead-letter topic, >= 1
   * @param replicationFactor replicas per partition (1..32767), or empty for the broker's default
   * @throws IllegalArgumentException on a count out of range or two roles sharing a topic name
   */
  public static TopicPlan of(CallvecConfig config, int partitions, int dlqPartitions, Optional<Short> replicationFactor) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, found " + partitions);
    }
    if (dlqPartitions < 1) {
      throw new IllegalArgumentException("DLQ partitions must be >= 1, found " + dlqPartitions);
    }
    if (replicationFactor.isPresent() && replicationFactor.get() < 1) {
      throw new IllegalArgumentException("replication factor must be >= 1, found " + replicationFactor.get());
    }
    long maxPayloadBytes = config.getLong(Settings.MAX_PAYLOAD_BYTES);
    long inputMaxMessageBytes = Math.max(MIN_INPUT_MAX_MESSAGE_BYTES, maxPayloadBytes + RECORD_OVERHEAD_BYTES);
    if (inputMaxMessageBytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("callvec.max.payload.bytes is too large for a Kafka record: " + maxPayloadBytes);
    }

    List<Topic> list = new ArrayList<>();
    list.add(new Topic(Role.INPUT, config.get(Settings.INPUT_TOPIC), partitions, replicationFactor, withMinIsr(replicationFactor, Map.of(
        "cleanup.policy", "delete",
        "retention.ms", Long.toString(INPUT_RETENTION_MS),
        "max.message.bytes", Long.toString(inputMaxMessageBytes)))));
    list.add(new Topic(Role.SEGMENTS, config.get(Settings.SEGMENTS_TOPIC), partitions, replicationFactor, withMinIsr(replicationFactor, Map.of(
        "cleanup.policy", "delete",
        "retention.ms", Long.toString(SEGMENTS_RETENTION_MS)))));
    list.add(new Topic(Role.CALLS, config.get(Settings.CALLS_TOPIC), partitions, replicationFactor, withMinIsr(replicationFactor, Map.of(
        "cleanup.policy", "compact"))));
    list.add(new Topic(Role.DLQ, config.get(Settings.DLQ_TOPIC), dlqPartitions, replicationFactor, withMinIsr(replicationFactor, Map.of(
        "cleanup.policy", "delete",
        "retention.ms", Long.toString(DLQ_RETENTION_MS)))));

    Map<String, Role> seen = new LinkedHashMap<>();
    for (Topic t : list) {
      Role other = seen.putIfAbsent(t.name(), t.role());
      if (other != null) {
        throw new IllegalArgumentException("topic '" + t.name() + "' is configured for both " + other.label() + " and " + t.role().label());
      }
    }
    return new TopicPlan(list);
  }

  /** The topic of a role. */
  public Topic topic(Role role) {
    return topics.stream().filter(t -> t.role() == role).findFirst()
        .orElseThrow(() -> new IllegalStateException("no topic for role " + role));
  }

  private static Map<String, String> withMinIsr(Optional<Short> replicationFactor, Map<String, String> base) {
    Map<String, String> m = new LinkedHashMap<>();
    // Fixed order for stable output: cleanup.policy, retention.ms, max.message.bytes, min.insync.replicas.
    for (String k : List.of("cleanup.policy", "retention.ms", "max.message.bytes")) {
      if (base.containsKey(k)) {
        m.put(k, base.get(k));
      }
    }
    replicationFactor.ifPresent(rf -> m.put("min.insync.replicas", rf >= 3 ? "2" : "1"));
    return m;
  }
}
