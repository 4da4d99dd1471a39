package io.callvec.model.batch;

/**
 * Names of the Micrometer meters of a {@link BatchingEngine}. Every meter carries the tag {@value
 * #TAG_MODEL} = {@link BatchingOptions#modelName()}; some add {@value #TAG_REASON}. The Prometheus
 * names are what Micrometer's Prometheus registry exports (dots become underscores, the base unit
 * and {@code _total} are appended).
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type, unit</th><th>Prometheus</th><th>meaning</th></tr>
 *   <tr><td>{@value #BATCH_SIZE}</td><td>summary, windows</td>
 *       <td>callvec_batcher_batch_size_windows_{count,sum,max,bucket}</td>
 *       <td>windows per dispatched batch (histogram)</td></tr>
 *   <tr><td>{@value #BATCH_FILL}</td><td>summary, ratio 0..1</td>
 *       <td>callvec_batcher_batch_fill_{count,sum,max,bucket}</td>
 *       <td>batch size / maxBatchWindows per batch; mean fill = sum / count</td></tr>
 *   <tr><td>{@value #QUEUE_WAIT}</td><td>timer</td>
 *       <td>callvec_batcher_queue_wait_seconds_{count,sum,max,bucket}</td>
 *       <td>per window, submit to dispatch of its batch</td></tr>
 *   <tr><td>{@value #INFERENCE}</td><td>timer</td>
 *       <td>callvec_batcher_inference_seconds_{count,sum,max,bucket}</td>
 *       <td>per embedBatch call (each attempt of each batch)</td></tr>
 *   <tr><td>{@value #WINDOWS}</td><td>counter, windows</td>
 *       <td>callvec_batcher_windows_total</td>
 *       <td>windows embedded; its rate is windows/s</td></tr>
 *   <tr><td>{@value #AUDIO}</td><td>counter, seconds</td>
 *       <td>callvec_batcher_audio_seconds_total</td>
 *       <td>audio embedded in seconds (samples / 16,000); its rate is audio-seconds/s, i.e. the
 *       real-time factor of the whole engine</td></tr>
 *   <tr><td>{@value #QUEUE_DEPTH}</td><td>gauge, windows</td>
 *       <td>callvec_batcher_queue_depth_windows</td>
 *       <td>windows queued, not yet dispatched</td></tr>
 *   <tr><td>{@value #IN_FLIGHT}</td><td>gauge, windows</td>
 *       <td>callvec_batcher_inflight_windows</td><td>windows in running batches</td></tr>
 *   <tr><td>{@value #BATCH_FAILURES}</td><td>counter, batches</td>
 *       <td>callvec_batcher_batch_failures_batches_total</td>
 *       <td>failed batch attempts, after transient retries (halves of split batches included)
 *       </td></tr>
 *   <tr><td>{@value #WINDOWS_FAILED}</td><td>counter, windows;
 *       reason=inference|poison|shutdown|worker_died</td>
 *       <td>callvec_batcher_windows_failed_windows_total</td>
 *       <td>windows whose futures failed</td></tr>
 *   <tr><td>{@value #POISON}</td><td>counter, windows</td>
 *       <td>callvec_batcher_poison_windows_total</td>
 *       <td>poison windows: failed alone while the model embedded others</td></tr>
 *   <tr><td>{@value #OUTAGES}</td><td>counter, batches</td>
 *       <td>callvec_batcher_outages_batches_total</td>
 *       <td>failed batch attempts during which a known-good probe failed too (model outage)</td>
 *       </tr>
 *   <tr><td>{@value #SPLITS}</td><td>counter</td><td>callvec_batcher_splits_total</td>
 *       <td>failed batches split in two</td></tr>
 *   <tr><td>{@value #PROBES}</td><td>counter</td><td>callvec_batcher_probes_total</td>
 *       <td>known-good probe windows run after failures</td></tr>
 *   <tr><td>{@value #WORKERS_ALIVE}</td><td>gauge</td>
 *       <td>callvec_batcher_workers_alive</td><td>worker threads running</td></tr>
 *   <tr><td>{@value #WORKER_DEATHS}</td><td>counter</td>
 *       <td>callvec_batcher_worker_deaths_total</td><td>worker threads that died</td></tr>
 *   <tr><td>{@value #CANCELLED}</td><td>counter, windows</td>
 *       <td>callvec_batcher_cancelled_windows_total</td>
 *       <td>queued windows removed by cancel(owner)</td></tr>
 *   <tr><td>{@value #RETRIES}</td><td>counter</td><td>callvec_batcher_retries_total</td>
 *       <td>re-runs after transient failures</td></tr>
 *   <tr><td>{@value #REJECTED}</td><td>counter, windows; reason=queue_full|closed|interrupted</td>
 *       <td>callvec_batcher_rejected_windows_total</td><td>windows refused by submit</td></tr>
 * </table>
 *
 * <p>An engine removes its three gauges from the registry when its shutdown ends; counters and
 * timers stay, and a later engine with the same model name continues them.
 */
public final class BatcherMetricNames {
  private BatcherMetricNames() {}

  public static final String PREFIX = "callvec.batcher.";
  public static final String TAG_MODEL = "model";
  public static final String TAG_REASON = "reason";

  public static final String BATCH_SIZE = PREFIX + "batch.size";
  public static final String BATCH_FILL = PREFIX + "batch.fill";
  public static final String QUEUE_WAIT = PREFIX + "queue.wait";
  public static final String INFERENCE = PREFIX + "inference";
  public static final String WINDOWS = PREFIX + "windows";
  public static final String AUDIO = PREFIX + "audio";
  public static final String QUEUE_DEPTH = PREFIX + "queue.depth";
  public static final String IN_FLIGHT = PREFIX + "inflight";
  public static final String BATCH_FAILURES = PREFIX + "batch.failures";
  public static final String WINDOWS_FAILED = PREFIX + "windows.failed";
  public static final String RETRIES = PREFIX + "retries";
  public static final String REJECTED = PREFIX + "rejected";
  public static final String POISON = PREFIX + "poison";
  public static final String OUTAGES = PREFIX + "outages";
  public static final String SPLITS = PREFIX + "splits";
  public static final String PROBES = PREFIX + "probes";
  public static final String WORKERS_ALIVE = PREFIX + "workers.alive";
  public static final String WORKER_DEATHS = PREFIX + "worker.deaths";
  public static final String CANCELLED = PREFIX + "cancelled";

  /** {@value #WINDOWS_FAILED} reason: the model failed the window (outage retries spent). */
  public static final String REASON_INFERENCE = "inference";

  /** {@value #WINDOWS_FAILED} reason: a shutdown gave up on the window. */
  public static final String REASON_SHUTDOWN = "shutdown";

  /** {@value #WINDOWS_FAILED} reason: a poison window (failed alone, the model works). */
  public static final String REASON_POISON = "poison";

  /** {@value #WINDOWS_FAILED} reason: the worker running it died, or no worker was left. */
  public static final String REASON_WORKER_DIED = "worker_died";

  /** {@value #REJECTED} reason: the queue stayed full for the submit timeout. */
  public static final String REASON_QUEUE_FULL = "queue_full";

  /** {@value #REJECTED} reason: submit after shutdown began. */
  public static final String REASON_CLOSED = "closed";

  /** {@value #REJECTED} reason: the submitter was interrupted while blocked. */
  public static final String REASON_INTERRUPTED = "interrupted";
}
