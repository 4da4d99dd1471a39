package io.callvec.model.batch;

import io.callvec.model.InferenceException;
import io.callvec.model.WindowEmbedder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a batch on one embedder and isolates failures (see "Failures" in {@link BatchingEngine}):
 *
 * <ol>
 *   <li>An <em>attempt</em> is one {@code embedBatch} call, repeated after a backoff while it fails
 *       transiently, up to {@link BatchingOptions#retryPolicy()}.
 *   <li>When an attempt fails, the runner asks whether the embedder serves other input: yes if it
 *       succeeded on anything since the attempt began, else it <em>probes</em> it with a known-good
 *       window ({@link ModelStatus#canary()}).
 *   <li>If it does, the input is at fault: a group of several windows is split in two halves, each
 *       run again as above; a window that fails alone is <em>poison</em> and only its future fails
 *       ({@link PoisonWindowException}).
 *   <li>If it does not, the model is in an <em>outage</em>: the same group is run again after the
 *       backoffs of {@link BatchingOptions#outageRetryPolicy()}; when those are spent its windows
 *       fail with the embedder's own exception.
 * </ol>
 *
 * A batch of n windows with one poison window costs about 3 log2(n) + 2 calls. Exceptions of the
 * embedder (checked or not) and malformed results are failures as above; an {@link Error}
 * propagates and kills the worker. Not thread-safe: one per worker.
 */
final class BatchRunner {
  private static final Logger log = LoggerFactory.getLogger(BatchRunner.class);

  /** Outcome of an attempt: vectors, or the failure. */
  private record Outcome(float[][] vectors, InferenceException failure) {}

  private final String model;
  private final WindowEmbedder embedder;
  private final int dimension;
  private final RetryPolicy retry;
  private final RetryPolicy outageRetry;
  private final ModelStatus status;
  private final BatcherMeters meters;
  private final Ticker ticker;
  private final Completer completer;
  private final CountDownLatch abortSignal;

  BatchRunner(
      String model,
      WindowEmbedder embedder,
      int dimension,
      BatchingOptions options,
      ModelStatus status,
      BatcherMeters meters,
      Completer completer,
      CountDownLatch abortSignal) {
    this.model = model;
    this.embedder = embedder;
    this.dimension = dimension;
    this.retry = options.retryPolicy();
    this.outageRetry = options.outageRetryPolicy();
    this.status = status;
    this.meters = meters;
    this.ticker = options.ticker();
    this.completer = completer;
    this.abortSignal = abortSignal;
  }

  private Batch current;

  void run(Batch batch) {
    current = batch;
    try {
      runGroup(batch.items);
    } finally {
      current = null;
    }
  }

  /** Takes windows out of the in-flight gauge before their futures complete (gauge first). */
  private void release(int windows) {
    current.released += windows;
    meters.inFlightWindows.addAndGet(-windows);
  }

  private void runGroup(List<QueuedWindow> items) {
    int outageAttempt = 1;
    while (!aborted()) {
      long successesBefore = status.successes();
      List<float[]> windows = Batch.windowsOf(items);
      Outcome r = attempt(windows);
      if (r.vectors != null) {
        status.succeeded(windows);
        release(items.size());
        completer.succeed(items, r.vectors);
        return;
      }
      meters.batchFailed();
      if (aborted()) {
        return; // the shutdown has failed these futures already
      }
      if (status.successes() > successesBefore || probe(items.size(), r.failure)) {
        if (items.size() == 1) {
          QueuedWindow w = items.get(0);
          PoisonWindowException poison =
              new PoisonWindowException(model, w.tag, w.window.length, r.failure);
          log.warn("batcher of model '{}': {}", model, poison.getMessage());
          release(1);
          completer.failPoison(w, poison);
          return;
        }
        meters.split();
        int half = items.size() / 2;
        log.info(
            "batcher of model '{}': a batch of {} windows failed while the model serves other"
                + " input; splitting it into {} + {} to isolate the failing window(s): {}",
            model,
            items.size(),
            half,
            items.size() - half,
            r.failure.toString());
        runGroup(items.subList(0, half));
        runGroup(items.subList(half, items.size()));
        return;
      }
      status.outage();
      meters.outage();
      if (outageAttempt >= outageRetry.maxAttempts()) {
        log.error(
            "batcher of model '{}': model outage: a batch of {} windows and a known-good probe"
                + " window failed, {} attempt(s) of the outage retry policy spent; failing the"
                + " batch: {}",
            model,
            items.size(),
            outageAttempt,
            r.failure.toString());
        release(items.size());
        completer.failInference(items, r.failure);
        return;
      }
      outageAttempt++;
      Duration backoff = outageRetry.backoffBefore(outageAttempt);
      log.warn(
          "batcher of model '{}': model outage (a known-good probe window failed too); running"
              + " the batch of {} windows again in {} ms (outage attempt {} of {}): {}",
          model,
          items.size(),
          backoff.toMillis(),
          outageAttempt,
          outageRetry.maxAttempts(),
          r.failure.toString());
      if (!waitBackoff(backoff)) {
        return;
      }
    }
  }

  /** Runs the canary alone; true when the embedder embedded it. */
  private boolean probe(int failedWindows, InferenceException failure) {
    meters.probe();
    List<float[]> canary = List.of(status.canary());
    Outcome r = attempt(canary);
    if (r.vectors != null) {
      status.succeeded(List.of()); // a success, but the probe is no new canary
      return true;
    }
    log.warn(
        "batcher of model '{}': a batch of {} windows failed ({}) and so did a known-good probe"
            + " window ({})",
        model,
        failedWindows,
        failure.toString(),
        r.failure.toString());
    return false;
  }

  /** One embedBatch call, repeated while it fails transiently, per the retry policy. */
  private Outcome attempt(List<float[]> windows) {
    int n = windows.size();
    int attempt = 0;
    while (true) {
      attempt++;
      long t0 = ticker.nanoTime();
      InferenceException failure;
      try {
        float[][] vectors = embedder.embedBatch(windows);
        meters.inference(ticker.nanoTime() - t0);
        String problem = checkResult(vectors, n);
        if (problem == null) {
          return new Outcome(vectors, null);
        }
        return new Outcome(null, new InferenceException(problem, false));
      } catch (InferenceException e) {
        meters.inference(ticker.nanoTime() - t0);
        failure = e;
      } catch (Exception e) {
        meters.inference(ticker.nanoTime() - t0);
        return new Outcome(
            null,
            new InferenceException(
                "embedder " + embedderName() + " threw " + e + " on a batch of " + n + " windows",
                e,
                false));
      }
      if (!failure.isTransient() || attempt >= retry.maxAttempts()) {
        return new Outcome(null, failure);
      }
      Duration backoff = retry.backoffBefore(attempt + 1);
      log.warn(
          "batcher of model '{}': transient failure of a batch of {} windows (attempt {} of {}),"
              + " retrying in {} ms: {}",
          model,
          n,
          attempt,
          retry.maxAttempts(),
          backoff.toMillis(),
          failure.getMessage());
      if (!waitBackoff(backoff)) {
        return new Outcome(null, failure);
      }
      meters.retry();
    }
  }

  private boolean aborted() {
    return abortSignal.getCount() == 0;
  }

  /** Waits out a backoff (real time); false if a shutdown gave up on in-flight work meanwhile. */
  private boolean waitBackoff(Duration backoff) {
    try {
      return !abortSignal.await(
          Math.min(backoff.toNanos(), DispatchQueue.MAX_WAIT_NANOS), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      return false;
    }
  }

  private String embedderName() {
    return embedder.getClass().getName();
  }

  private String checkResult(float[][] vectors, int n) {
    String who = "embedder " + embedderName();
    if (vectors == null) {
      return who + " returned null for a batch of " + n + " windows; expected " + n + " vectors";
    }
    if (vectors.length != n) {
      return who
          + " returned "
          + vectors.length
          + " vectors for a batch of "
          + n
          + " windows; expected "
          + n
          + " (one per window)";
    }
    for (int i = 0; i < n; i++) {
      float[] v = vectors[i];
      int found = v == null ? -1 : v.length;
      if (found != dimension) {
        return who
            + " returned "
            + (v == null ? "null" : "a vector of " + found + " floats")
            + " for window "
            + i
            + " of a batch of "
            + n
            + "; expected "
            + dimension
            + " floats (its dimension())";
      }
    }
    return null;
  }
}
