package io.callvec.model.batch;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The meters of one engine (names in {@link BatcherMetricNames}); its gauges are removed at
 * shutdown.
 */
final class BatcherMeters {
  private final MeterRegistry registry;
  private final List<Meter> gauges = new ArrayList<>();
  private final int maxBatchWindows;

  final AtomicInteger queuedWindows = new AtomicInteger();
  final AtomicInteger inFlightWindows = new AtomicInteger();

  private final DistributionSummary batchSize;
  private final DistributionSummary batchFill;
  private final Timer queueWait;
  private final Timer inference;
  private final Counter windows;
  private final Counter audioSeconds;
  private final Counter batchFailures;
  private final Counter windowsFailedInference;
  private final Counter windowsFailedShutdown;
  private final Counter retries;
  private final Counter rejectedQueueFull;
  private final Counter rejectedClosed;
  private final Counter rejectedInterrupted;

  BatcherMeters(MeterRegistry registry, String model, int maxBatchWindows) {
    this.registry = registry;
    this.maxBatchWindows = maxBatchWindows;
    Tags tags = Tags.of(BatcherMetricNames.TAG_MODEL, model);
    batchSize =
        DistributionSummary.builder(BatcherMetricNames.BATCH_SIZE)
            .description("Windows per dispatched batch")
            .baseUnit("windows")
            .tags(tags)
            .publishPercentileHistogram()
            .minimumExpectedValue(1.0)
            .maximumExpectedValue((double) Math.max(2, maxBatchWindows))
            .register(registry);
    batchFill =
        DistributionSummary.builder(BatcherMetricNames.BATCH_FILL)
            .description("Batch size / max batch size, 0..1, per dispatched batch")
            .tags(tags)
            .serviceLevelObjectives(0.25, 0.5, 0.75, 0.9, 1.0)
            .register(registry);
    queueWait =
        Timer.builder(BatcherMetricNames.QUEUE_WAIT)
            .description("Time a window waited from submit to the dispatch of its batch")
            .tags(tags)
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofNanos(100_000))
            .maximumExpectedValue(Duration.ofSeconds(60))
            .register(registry);
    inference =
        Timer.builder(BatcherMetricNames.INFERENCE)
            .description("Duration of one embedBatch call (one attempt of one batch)")
            .tags(tags)
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofSeconds(60))
            .register(registry);
    windows =
        Counter.builder(BatcherMetricNames.WINDOWS)
            .description("Windows embedded (futures completed with a vector)")
            .baseUnit("windows")
            .tags(tags)
            .register(registry);
    audioSeconds =
        Counter.builder(BatcherMetricNames.AUDIO)
            .description("Audio embedded, in seconds at 16 kHz")
            .baseUnit("seconds")
            .tags(tags)
            .register(registry);
    batchFailures =
        Counter.builder(BatcherMetricNames.BATCH_FAILURES)
            .description("Batches whose windows failed (after retries)")
            .baseUnit("batches")
            .tags(tags)
            .register(registry);
    windowsFailedInference = failedWindows(tags, BatcherMetricNames.REASON_INFERENCE);
    windowsFailedShutdown = failedWindows(tags, BatcherMetricNames.REASON_SHUTDOWN);
    retries =
        Counter.builder(BatcherMetricNames.RETRIES)
            .description("Re-runs of batches after transient inference failures")
            .tags(tags)
            .register(registry);
    rejectedQueueFull = rejected(tags, BatcherMetricNames.REASON_QUEUE_FULL);
    rejectedClosed = rejected(tags, BatcherMetricNames.REASON_CLOSED);
    rejectedInterrupted = rejected(tags, BatcherMetricNames.REASON_INTERRUPTED);
    addGauge(
        Gauge.builder(BatcherMetricNames.QUEUE_DEPTH, queuedWindows, AtomicInteger::get)
            .description("Windows queued, not yet in a running batch")
            .baseUnit("windows")
            .tags(tags)
            .strongReference(true)
            .register(registry));
    addGauge(
        Gauge.builder(BatcherMetricNames.IN_FLIGHT, inFlightWindows, AtomicInteger::get)
            .description("Windows in batches being run (retries included)")
            .baseUnit("windows")
            .tags(tags)
            .strongReference(true)
            .register(registry));
  }

  private Counter failedWindows(Tags tags, String reason) {
    return Counter.builder(BatcherMetricNames.WINDOWS_FAILED)
        .description("Windows whose futures failed, by reason")
        .baseUnit("windows")
        .tags(tags)
        .tag(BatcherMetricNames.TAG_REASON, reason)
        .register(registry);
  }

  private Counter rejected(Tags tags, String reason) {
    return Counter.builder(BatcherMetricNames.REJECTED)
        .description("Windows refused by submit, by reason")
        .baseUnit("windows")
        .tags(tags)
        .tag(BatcherMetricNames.TAG_REASON, reason)
        .register(registry);
  }

  private void addGauge(Gauge gauge) {
    gauges.add(gauge);
  }

  void dispatched(int windowsInBatch) {
    batchSize.record(windowsInBatch);
    batchFill.record((double) windowsInBatch / maxBatchWindows);
  }

  void queueWait(long nanos) {
    queueWait.record(Math.max(0, nanos), TimeUnit.NANOSECONDS);
  }

  void inference(long nanos) {
    inference.record(Math.max(0, nanos), TimeUnit.NANOSECONDS);
  }

  void embedded(int windowCount, long samples) {
    windows.increment(windowCount);
    audioSeconds.increment(samples / (double) BatchingEngine.SAMPLE_RATE_HZ);
  }

  void batchFailed(int windowsFailed) {
    batchFailures.increment();
    windowsFailedInference.increment(windowsFailed);
  }

  void failedByShutdown(int windowCount) {
    windowsFailedShutdown.increment(windowCount);
  }

  void retry() {
    retries.increment();
  }

  void rejectedQueueFull() {
    rejectedQueueFull.increment();
  }

  void rejectedClosed() {
    rejectedClosed.increment();
  }

  void rejectedInterrupted() {
    rejectedInterrupted.increment();
  }

  /**
   * Removes this engine's gauges, so that a later engine of the same model registers its own
   * instead of getting these (bound to this engine's state). Counters and timers stay: their final
   * values remain visible, and a later engine of the same model continues them.
   */
  void removeGauges() {
    for (Meter m : gauges) {
      registry.remove(m);
    }
    gauges.clear();
  }
}
