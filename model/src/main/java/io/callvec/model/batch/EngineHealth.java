package io.callvec.model.batch;

import java.time.Duration;
import java.util.Optional;

/**
 * A snapshot of a {@link BatchingEngine}'s health, for liveness and readiness probes. Ages are
 * measured with the engine's {@link Ticker}.
 *
 * @param model the engine's model name
 * @param workers worker threads started
 * @param workersAlive worker threads still running (a dead worker is never replaced)
 * @param queuedWindows windows queued, not yet dispatched
 * @param inFlightWindows windows in running batches
 * @param queueCapacityWindows bound of the queue, in windows
 * @param sinceLastSuccess time since an {@code embedBatch} call last succeeded (probes included);
 *     empty if none has yet
 * @param sinceProgress time since the last success, or since the engine started if none: with work
 *     waiting, how long nothing has been embedded
 * @param modelOutage true while the model fails known-good input too (set by a failed probe,
 *     cleared by the next success)
 * @param shutdown true once a shutdown has begun
 */
public record EngineHealth(
    String model,
    int workers,
    int workersAlive,
    int queuedWindows,
    int inFlightWindows,
    int queueCapacityWindows,
    Optional<Duration> sinceLastSuccess,
    Duration sinceProgress,
    boolean modelOutage,
    boolean shutdown) {

  /**
   * Live: not shut down and every worker alive. A dead worker never comes back, so a process whose
   * engine is not live should be restarted.
   */
  public boolean isLive() {
    return !shutdown && workersAlive == workers;
  }

  /** Ready: live and the model is not in an outage. */
  public boolean isReady() {
    return isLive() && !modelOutage;
  }

  /**
   * Work is waiting (queued or running) and nothing has been embedded for longer than {@code
   * limit}: a worker is stuck in {@code embedBatch}, or the model is down.
   */
  public boolean isStalled(Duration limit) {
    return queuedWindows + inFlightWindows > 0 && sinceProgress.compareTo(limit) > 0;
  }
}
