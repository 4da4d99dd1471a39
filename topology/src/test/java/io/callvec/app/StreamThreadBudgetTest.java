package io.callvec.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The start-up check of the stream thread's longest wait against transaction.timeout.ms and max.poll.interval.ms. */
class StreamThreadBudgetTest {

  private static CallvecConfig config(Map<String, String> overrides) {
    return CallvecConfig.builder().overrides(overrides).build();
  }

  @Test
  void theShippedDefaultsPassWithKafkaStreamsExactlyOnceClocks() {
    StreamThreadBudget.Figures f = StreamThreadBudget.check(CallvecConfig.defaults());
    assertEquals(10_000, f.transactionTimeoutMs());
    assertEquals(300_000, f.maxPollIntervalMs());
    assertEquals(100, f.commitIntervalMs());
    assertEquals(0, f.registryWaitMs(), "single-object serde: no registry lookup on the stream thread");
  }

  @Test
  void aCommitIntervalNearTheTransactionTimeoutIsRefusedAtStart() {
    CallvecConfig.ConfigException e = assertThrows(CallvecConfig.ConfigException.class,
        () -> config(Map.of("commit.interval.ms", "6000")));
    assertTrue(e.getMessage().contains("commit.interval.ms = 6000") && e.getMessage().contains("transaction.timeout.ms = 10000"), e.getMessage());
    // the producer-prefixed spelling counts too
    e = assertThrows(CallvecConfig.ConfigException.class,
        () -> config(Map.of("commit.interval.ms", "1000", "producer.transaction.timeout.ms", "1500")));
    assertTrue(e.getMessage().contains("transaction.timeout.ms = 1500"), e.getMessage());
    // a longer transaction timeout makes room for it
    assertEquals(6000, StreamThreadBudget.check(config(Map.of("commit.interval.ms", "6000", "transaction.timeout.ms", "30000"))).commitIntervalMs());
  }

  @Test
  void aCommitIntervalNearMaxPollIntervalIsRefusedWithoutExactlyOnce() {
    CallvecConfig.ConfigException e = assertThrows(CallvecConfig.ConfigException.class,
        () -> config(Map.of("processing.guarantee", "at_least_once", "commit.interval.ms", "60000", "max.poll.interval.ms", "100000")));
    assertTrue(e.getMessage().contains("max.poll.interval.ms = 100000"), e.getMessage());
  }

  @Test
  void aRegistryWaitBeyondMaxPollIntervalIsRefusedAndTheDefaultsAreCounted() {
    Map<String, String> confluent = Map.of("callvec.serde", "confluent", "schema.registry.url", "http://localhost:1");
    StreamThreadBudget.Figures f = StreamThreadBudget.check(config(confluent));
    assertEquals(60_000 + 10_000, f.registryWaitMs(), "retry budget + one request timeout");
    CallvecConfig.ConfigException e = assertThrows(CallvecConfig.ConfigException.class, () -> config(Map.of("callvec.serde", "confluent",
        "schema.registry.url", "http://localhost:1", "callvec.registry.retry.max.ms", "295000")));
    assertTrue(e.getMessage().contains("callvec.registry.retry.max.ms") && e.getMessage().contains("305000 ms")
        && e.getMessage().contains("max.poll.interval.ms = 300000"), e.getMessage());
  }
}
