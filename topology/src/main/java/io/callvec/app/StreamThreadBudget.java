package io.callvec.app;

import io.callvec.schemas.serde.SerdeFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start-up check of the stream thread's longest wait against Kafka's two clocks that end a
 * stalled stream thread: {@code transaction.timeout.ms} (under exactly-once the broker aborts a
 * transaction open longer than this and the producer is then fenced: a rebalance, work redone) and
 * {@code max.poll.interval.ms} (the consumer leaves the group).
 *
 * <p>What the stream thread can wait for, by design (README "The stream thread under overload"):
 * never for the batcher (submission is non-blocking, refused windows stay durable and deferred), so
 * the model's speed, batch size and queue capacity do not count; one commit interval between
 * commits; and, with {@code callvec.serde=confluent} only, one schema lookup of an unknown schema id,
 * which retries an unreachable registry for up to {@code callvec.registry.retry.max.ms} plus one
 * request timeout.
 *
 * <p>Refused (a {@link CallvecConfig.ConfigException} naming the settings): {@code
 * commit.interval.ms} not below half of {@code transaction.timeout.ms} or of {@code
 * max.poll.interval.ms}; a registry wait not below {@code max.poll.interval.ms}. Logged as a
 * warning, not refused: a registry wait at or above {@code transaction.timeout.ms} (the shipped
 * registry defaults, 60 s + 10 s against 10 s: a registry outage that long aborts the open
 * transaction and fences the producer, exactly once still holds; lower the registry settings, or
 * accept it, since the instance stops after that wait anyway).
 */
final class StreamThreadBudget {
  private static final Logger log = LoggerFactory.getLogger(StreamThreadBudget.class);

  /** Kafka Streams' producer {@code transaction.timeout.ms} under exactly-once when not set, ms. */
  static final long STREAMS_EOS_TRANSACTION_TIMEOUT_MS = 10_000;
  /** Kafka's consumer {@code max.poll.interval.ms} when not set, ms. */
  static final long DEFAULT_MAX_POLL_INTERVAL_MS = 300_000;
  /** Kafka Streams' {@code commit.interval.ms} under exactly-once when not set, ms. */
  static final long STREAMS_EOS_COMMIT_INTERVAL_MS = 100;

  /**
   * The figures checked, ms.
   *
   * @param transactionTimeoutMs effective {@code transaction.timeout.ms} (0 without exactly-once)
   * @param maxPollIntervalMs effective {@code max.poll.interval.ms}
   * @param commitIntervalMs effective {@code commit.interval.ms}
   * @param registryWaitMs longest wait for one schema lookup on the stream thread (0 unless confluent)
   */
  record Figures(long transactionTimeoutMs, long maxPollIntervalMs, long commitIntervalMs, long registryWaitMs) {}

  private StreamThreadBudget() {}

  /**
   * Checks {@code config}; returns the figures.
   *
   * @throws CallvecConfig.ConfigException if a relation above is broken
   */
  static Figures check(CallvecConfig config) {
    boolean eos = config.raw("processing.guarantee") != null && config.raw("processing.guarantee").startsWith("exactly_once");
    long tx = eos ? kafkaMs(config, STREAMS_EOS_TRANSACTION_TIMEOUT_MS, "producer.transaction.timeout.ms", "transaction.timeout.ms") : 0;
    long poll = kafkaMs(config, DEFAULT_MAX_POLL_INTERVAL_MS, "main.consumer.max.poll.interval.ms", "consumer.max.poll.interval.ms",
        "max.poll.interval.ms");
    long commit = kafkaMs(config, eos ? STREAMS_EOS_COMMIT_INTERVAL_MS : 30_000, "commit.interval.ms");
    boolean confluent = SerdeFormat.parse(config.get(Settings.SERDE)) == SerdeFormat.CONFLUENT;
    long registry = confluent ? config.getLong(Settings.REGISTRY_RETRY_MAX_MS) + config.getLong(Settings.REGISTRY_REQUEST_TIMEOUT_MS) : 0;
    Figures f = new Figures(tx, poll, commit, registry);
    if (eos && 2 * commit >= tx) {
      throw new CallvecConfig.ConfigException("commit.interval.ms = " + commit + " must be below half of transaction.timeout.ms = " + tx
          + ": every transaction stays open at least one commit interval, and the broker aborts one open longer than its timeout");
    }
    if (2 * commit >= poll) {
      throw new CallvecConfig.ConfigException("commit.interval.ms = " + commit + " must be below half of max.poll.interval.ms = " + poll);
    }
    if (registry >= poll) {
      throw new CallvecConfig.ConfigException("a schema lookup may hold the stream thread for " + Settings.REGISTRY_RETRY_MAX_MS.key() + " + "
          + Settings.REGISTRY_REQUEST_TIMEOUT_MS.key() + " = " + registry + " ms, not below max.poll.interval.ms = " + poll
          + ": lower the registry settings or raise max.poll.interval.ms");
    }
    if (eos && registry >= tx) {
      log.warn("a schema lookup of an unknown schema id may hold the stream thread for {} + {} = {} ms while the registry is unreachable, "
              + "not below transaction.timeout.ms = {} ms: an outage that long aborts the open transaction and fences the producer "
              + "(a rebalance; exactly once holds); lower the registry settings to avoid it", Settings.REGISTRY_RETRY_MAX_MS.key(),
          Settings.REGISTRY_REQUEST_TIMEOUT_MS.key(), registry, tx);
    }
    return f;
  }

  /** The first of {@code keys} set in {@code config}, as ms, or {@code fallback}. */
  private static long kafkaMs(CallvecConfig config, long fallback, String... keys) {
    for (String k : keys) {
      String v = config.raw(k);
      if (v != null && !v.isBlank()) {
        try {
          return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
          throw new CallvecConfig.ConfigException("setting '" + k + "' must be a number of milliseconds, got '" + v + "'");
        }
      }
    }
    return fallback;
  }
}
