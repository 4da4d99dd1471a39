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
  private static final String FAILED_DESCRIPTION = "Windows whose futures failed, by reason";
  private static final String REJECTED_DESCRIPTION = "Windows refused by submit, by reason";

  private final MeterRegistry registry;
  private final List<Meter> gauges = new ArrayList<>();
  private final int maxBatchWindows;

  final AtomicInteger queuedWindows = new AtomicInteger();
  final AtomicInteger inFlightWindows = new AtomicInteger();
  final AtomicInteger workersAlive = new AtomicInteger();

  private final DistributionSummary batchSize;
  private final DistributionSummary batchFill;
  private final Timer queueWait;
  private final Timer inference;
  private final Counter windows;
  private final Counter audioSeconds;
  private final Counter batchFailures;
  private final Counter windowsFailedInference;
  private final Counter windowsFailedShutdown;
  private final Counter windowsFailedPoison;
  private final Counter windowsFailedWorkerDied;
  private final Counter poison;
  private final Counter outages;
  private final Counter splits;
  private final Counter probes;
  private final Counter workerDeaths;
  private final Counter cancelled;
  private final Counter retries;
  private final Counter rejectedQueueFull;
  private final Counter rejectedClosed;
  private final Counter rejectedInterrupted;

  BatcherMeters(MeterRegistry registry, String model, int maxBatchWindows, int workers) {
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
        timerUpToAMinute(
            tags,
            BatcherMetricNames.QUEUE_WAIT,
            "Time a window waited from submit to the dispatch of its batch",
            Duration.ofNanos(100_000));
    inference =
        timerUpToAMinute(
            tags,
            BatcherMetricNames.INFERENCE,
            "Duration of one embedBatch call (one attempt of one batch)",
            Duration.ofMillis(1));
    windows =
        counter(
            tags,
            BatcherMetricNames.WINDOWS,
            "Windows embedded (futures completed with a vector)",
            "windows");
    audioSeconds =
        counter(tags, BatcherMetricNames.AUDIO, "Audio embedded, in seconds at 16 kHz", "seconds");
    batchFailures =
        counter(
            tags,
            BatcherMetricNames.BATCH_FAILURES,
            "Failed batch attempts (after transient retries; split halves included)",
            "batches");
    windowsFailedInference = failedWindows(tags, BatcherMetricNames.REASON_INFERENCE);
    windowsFailedShutdown = failedWindows(tags, BatcherMetricNames.REASON_SHUTDOWN);
    windowsFailedPoison = failedWindows(tags, BatcherMetricNames.REASON_POISON);
    windowsFailedWorkerDied = failedWindows(tags, BatcherMetricNames.REASON_WORKER_DIED);
    poison =
        counter(
            tags,
            BatcherMetricNames.POISON,
            "Windows that failed alone while the model embedded others",
            "windows");
    outages =
        counter(
            tags,
            BatcherMetricNames.OUTAGES,
            "Failed batch attempts during which a known-good probe window failed too",
            "batches");
    splits =
        counter(
            tags,
            BatcherMetricNames.SPLITS,
            "Failed batches split in two to isolate failing windows",
            null);
    probes =
        counter(
            tags,
            BatcherMetricNames.PROBES,
            "Known-good probe windows run after a failed batch",
            null);
    workerDeaths =
        counter(tags, BatcherMetricNames.WORKER_DEATHS, "Worker threads that died", null);
    cancelled =
        counter(
            tags,
            BatcherMetricNames.CANCELLED,
            "Queued windows removed by cancel(owner)",
            "windows");
    retries =
        counter(
            tags,
            BatcherMetricNames.RETRIES,
            "Re-runs of batches after transient inference failures",
            null);
    rejectedQueueFull = rejected(tags, BatcherMetricNames.REASON_QUEUE_FULL);
    rejectedClosed = rejected(tags, BatcherMetricNames.REASON_CLOSED);
    rejectedInterrupted = rejected(tags, BatcherMetricNames.REASON_INTERRUPTED);
    gauge(
        tags,
        BatcherMetricNames.QUEUE_DEPTH,
        queuedWindows,
        "Windows queued, not yet in a running batch",
        "windows");
    gauge(
        tags,
        BatcherMetricNames.IN_FLIGHT,
        inFlightWindows,
        "Windows in batches being run (retries included)",
        "windows");
    workersAlive.set(workers);
    gauge(
        tags,
        BatcherMetricNames.WORKERS_ALIVE,
        workersAlive,
        "Worker threads running (a dead worker is not replaced)",
        null);
  }

  private Counter failedWindows(Tags tags, String reason) {
    return windowsByReason(tags, BatcherMetricNames.WINDOWS_FAILED, FAILED_DESCRIPTION, reason);
  }

  private Counter rejected(Tags tags, String reason) {
    return windowsByReason(tags, BatcherMetricNames.REJECTED, REJECTED_DESCRIPTION, reason);
  }

  /** A counter of windows, one per {@code reason} tag value. */
  private Counter windowsByReason(Tags tags, String name, String description, String reason) {
    return counter(tags.and(BatcherMetricNames.TAG_REASON, reason), name, description, "windows");
  }

  /** Registers a timer with a percentile histogram from {@code shortest} to 60 s. */
  private Timer timerUpToAMinute(Tags tags, String name, String description, Duration shortest) {
    return Timer.builder(name)
        .description(description)
        .tags(tags)
        .publishPercentileHistogram()
        .minimumExpectedValue(shortest)
        .maximumExpectedValue(Duration.ofSeconds(60))
        .register(registry);
  }

  /** Registers a counter; {@code baseUnit} null: the counter has no unit. */
  private Counter counter(Tags tags, String name, String description, String baseUnit) {
    return Counter.builder(name)
        .description(description)
        .baseUnit(baseUnit)
        .tags(tags)
        .register(registry);
  }

  /**
   * Registers a gauge of {@code value} (strongly referenced), removed at shutdown; {@code baseUnit}
   * null: the gauge has no unit.
   */
  private void gauge(
      Tags tags, String name, AtomicInteger value, String description, String baseUnit) {
    gauges.add(
        Gauge.builder(name, value, AtomicInteger::get)
            .description(description)
            .baseUnit(baseUnit)
            .tags(tags)
            .strongReference(true)
            .register(registry));
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

  void batchFailed() {
    batchFailures.increment();
  }

  void failedInference(int windowCount) {
    windowsFailedInference.increment(windowCount);
  }

  void poison(int windowCount) {
    poison.increment(windowCount);
    windowsFailedPoison.increment(windowCount);
  }

  void outage() {
    outages.increment();
  }

  void split() {
    splits.increment();
  }

  void probe() {
    probes.increment();
  }

  void workerDied() {
    workerDeaths.increment();
    workersAlive.decrementAndGet();
  }

  void failedWorkerDied(int windowCount) {
    windowsFailedWorkerDied.increment(windowCount);
  }

  void cancelled(int windowCount) {
    cancelled.increment(windowCount);
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
