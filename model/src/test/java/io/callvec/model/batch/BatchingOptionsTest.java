package io.callvec.model.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class BatchingOptionsTest {

  @Test
  void defaultsAreTheDocumentedOnes() {
    BatchingOptions o = BatchingOptions.builder().build();
    assertEquals("default", o.modelName());
    assertEquals(8, o.maxBatchWindows());
    assertEquals(Duration.ofMillis(10), o.maxDelay());
    assertEquals(128, o.queueCapacityWindows());
    assertEquals(0, o.workers());
    assertEquals(Duration.ofSeconds(10), o.submitTimeout());
    assertEquals(Duration.ofSeconds(30), o.drainTimeout());
    assertEquals(Duration.ofSeconds(10), o.workerJoinTimeout());
    assertSame(RetryPolicy.defaults(), o.retryPolicy());
    assertEquals(4, o.outageRetryPolicy().maxAttempts());
    assertEquals(Duration.ofMillis(500), o.outageRetryPolicy().backoffBefore(2));
    assertEquals(Duration.ofSeconds(2), o.outageRetryPolicy().backoffBefore(4));
    assertEquals(16_000, o.canaryWindowSamples());
    assertSame(Ticker.SYSTEM, o.ticker());
    assertTrue(o.completionExecutor().isEmpty());
    assertFalse(o.ownsEmbedder());
    assertTrue(o.meterRegistry() instanceof SimpleMeterRegistry);
  }

  @Test
  void defaultQueueCapacityIsSixteenFullBatches() {
    assertEquals(512, BatchingOptions.builder().maxBatchWindows(32).build().queueCapacityWindows());
    assertEquals(
        40,
        BatchingOptions.builder()
            .maxBatchWindows(32)
            .queueCapacityWindows(40)
            .build()
            .queueCapacityWindows());
  }

  @Test
  void toBuilderKeepsEverySetting() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    BatchingOptions o =
        BatchingOptions.builder()
            .modelName("m")
            .maxBatchWindows(4)
            .maxDelay(Duration.ofMillis(3))
            .queueCapacityWindows(9)
            .workers(2)
            .submitTimeout(Duration.ofMillis(5))
            .drainTimeout(Duration.ofMillis(6))
            .workerJoinTimeout(Duration.ofMillis(7))
            .retryPolicy(RetryPolicy.none())
            .outageRetryPolicy(RetryPolicy.of(2, Duration.ZERO, 1.0, Duration.ZERO))
            .canaryWindowSamples(1234)
            .meterRegistry(registry)
            .ownsEmbedder(true)
            .build();
    BatchingOptions copy = o.toBuilder().build();
    assertEquals(o.toString(), copy.toString());
    assertEquals(1234, copy.canaryWindowSamples());
    assertEquals(2, copy.outageRetryPolicy().maxAttempts());
    assertSame(registry, copy.meterRegistry());
    assertEquals(9, copy.queueCapacityWindows());
  }

  @Test
  void invalidValuesAreRefusedWithTheFoundValue() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> BatchingOptions.builder().maxBatchWindows(0));
    assertTrue(e.getMessage().contains("found 0"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> BatchingOptions.builder().maxBatchWindows(4097));
    assertThrows(
        IllegalArgumentException.class,
        () -> BatchingOptions.builder().maxDelay(Duration.ofMillis(-1)));
    assertThrows(
        IllegalArgumentException.class,
        () -> BatchingOptions.builder().maxDelay(Duration.ofHours(2)));
    assertThrows(
        IllegalArgumentException.class, () -> BatchingOptions.builder().queueCapacityWindows(0));
    assertThrows(IllegalArgumentException.class, () -> BatchingOptions.builder().workers(-1));
    assertThrows(
        IllegalArgumentException.class,
        () -> BatchingOptions.builder().submitTimeout(Duration.ofSeconds(-1)));
    assertThrows(IllegalArgumentException.class, () -> BatchingOptions.builder().modelName(" "));
    assertThrows(NullPointerException.class, () -> BatchingOptions.builder().retryPolicy(null));
    assertThrows(
        NullPointerException.class, () -> BatchingOptions.builder().outageRetryPolicy(null));
    IllegalArgumentException canary =
        assertThrows(
            IllegalArgumentException.class, () -> BatchingOptions.builder().canaryWindowSamples(0));
    assertTrue(canary.getMessage().contains("found 0"), canary.getMessage());
    IllegalArgumentException tooSmall =
        assertThrows(
            IllegalArgumentException.class,
            () -> BatchingOptions.builder().maxBatchWindows(8).queueCapacityWindows(4).build());
    assertTrue(tooSmall.getMessage().contains("(4) must be >= maxBatchWindows (8)"));
  }
}
