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
            .description("Failed batch attempts (after transient retries; split halves included)")
            .baseUnit("batches")
            .tags(tags)
            .register(registry);
    windowsFailedInference = failedWindows(tags, BatcherMetricNames.REASON_INFERENCE);
    windowsFailedShutdown = failedWindows(tags, BatcherMetricNames.REASON_SHUTDOWN);
    windowsFailedPoison = failedWindows(tags, BatcherMetricNames.REASON_POISON);
    windowsFailedWorkerDied = failedWindows(tags, BatcherMetricNames.REASON_WORKER_DIED);
    poison =
        Counter.builder(BatcherMetricNames.POISON)
            .description("Windows that failed alone while the model embedded others")
            .baseUnit("windows")
            .tags(tags)
            .register(registry);
    outages =
        Counter.builder(BatcherMetricNames.OUTAGES)
            .description("Failed batch attempts during which a known-good probe window failed too")
            .baseUnit("batches")
            .tags(tags)
            .register(registry);
    splits =
        Counter.builder(BatcherMetricNames.SPLITS)
            .description("Failed batches split in two to isolate failing windows")
            .tags(tags)
            .register(registry);
    probes =
        Counter.builder(BatcherMetricNames.PROBES)
            .description("Known-good probe windows run after a failed batch")
            .tags(tags)
            .register(registry);
    workerDeaths =
        Counter.builder(BatcherMetricNames.WORKER_DEATHS)
            .description("Worker threads that died")
            .tags(tags)
            .register(registry);
    cancelled =
        Counter.builder(BatcherMetricNames.CANCELLED)
            .description("Queued windows removed by cancel(owner)")
            .baseUnit("windows")
            .tags(tags)
            .register(registry);
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
    workersAlive.set(workers);
    addGauge(
        Gauge.builder(BatcherMetricNames.WORKERS_ALIVE, workersAlive, AtomicInteger::get)
            .description("Worker threads running (a dead worker is not replaced)")
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
