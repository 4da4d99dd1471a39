package io.callvec.topology.internals;

import io.callvec.topology.Output;
import io.callvec.topology.TopologyMetrics;
import io.callvec.topology.TopologySettings;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends the streams whose own input has gone quiet for {@code callvec.idle.timeout.ms}, and deletes
 * end markers older than their retention.
 *
 * <p><b>The idle clock is the task's input, not the wall clock.</b> A stream is idle when the
 * task's <em>input clock</em> has moved on by the timeout since the stream's last chunk. The input
 * clock is the task's stream time (the largest record timestamp it has processed) plus the wall
 * time since the task last processed a record (or since it was initialised), at most the wall
 * clock: while records flow it follows their timestamps, while none arrive it runs with the wall
 * clock. Time the task spent elsewhere (a failover, a restart, a restore) or catching up on a
 * backlog therefore never counts: after a failover the new owner's clock resumes at the restored
 * stream time, and a stream whose next chunks wait in the backlog is not idle while the backlog
 * is read. The cost: the idle timeout relies on record timestamps being the producers' create
 * time (Kafka's default) or the broker's log-append time, with producer clocks that agree within
 * the timeout.
 *
 * <p>Reads only the due entries of the time index (not every open stream), in batches of {@link
 * #SCAN_BATCH}, and stops after {@link #SCAN_BUDGET_MS} of work: when a million streams go quiet at
 * once, eviction takes several scans instead of one scan blocking the stream thread for seconds.
 */
final class IdleReaper {
  private static final Logger log = LoggerFactory.getLogger(IdleReaper.class);
  /** Due entries read from the time index at a time. */
  static final int SCAN_BATCH = 500;
  /** Work one idle scan may do before it leaves the rest to the next scan, ms (a batch in progress is finished). */
  static final long SCAN_BUDGET_MS = 200;

  /** Ends one idle stream (its call embedding, its end marker, its index entries). */
  @FunctionalInterface
  interface Ender {
    void endIdle(byte[] prefix, ChannelState state);
  }

  private final TopologySettings settings;
  private final TopologyMetrics metrics;
  private ProcessorContext<String, Output> context;
  private KeyValueStore<Bytes, byte[]> channels;
  private KeyValueStore<Bytes, Long> ended;
  private TimeIndex timeIndex;
  /** Wall clock when this task was initialised, ms. */
  private long initWallMs;
  /** Wall clock of the task's last input record, ms. */
  private long lastInputWallMs;

  IdleReaper(TopologySettings settings, TopologyMetrics metrics) {
    this.settings = settings;
    this.metrics = metrics;
  }

  void init(ProcessorContext<String, Output> context, KeyValueStore<Bytes, byte[]> channels, KeyValueStore<Bytes, Long> ended,
      TimeIndex timeIndex) {
    this.context = context;
    this.channels = channels;
    this.ended = ended;
    this.timeIndex = timeIndex;
    this.initWallMs = context.currentSystemTimeMs();
    this.lastInputWallMs = initWallMs;
    rebuildTimeIndexIfMissing();
  }

  /**
   * The task's input clock, ms: stream time plus the wall time since the last input record (or
   * the task's initialisation), at most the wall clock (a record from the future does not move it
   * past now).
   */
  long inputClockMs() {
    long now = context.currentSystemTimeMs();
    long streamTime = context.currentStreamTimeMs();
    long base = streamTime < 0 ? initWallMs : streamTime;
    return Math.min(now, base + Math.max(0, now - lastInputWallMs));
  }

  /** Notes that the task processed an input record now. */
  void inputSeen() {
    lastInputWallMs = context.currentSystemTimeMs();
  }

  /** One scan at wall time {@code nowMs}; {@code ender} ends each idle stream. */
  void scan(long nowMs, Ender ender) {
    long t0 = System.nanoTime();
    long deadline = t0 + SCAN_BUDGET_MS * 1_000_000L;
    long input = inputClockMs();
    long upto = input - settings.idleTimeoutMs();
    int endedNow = drainDue(TimeIndex.LAST_SEEN, upto, deadline, e -> {
      byte[] stored = channels.get(Bytes.wrap(e.prefix()));
      ChannelState state = stored == null ? null : ChannelState.fromBytes(stored);
      if (state == null || state.isEnded() || !e.covers(state.lastSeenInputMs)) {
        timeIndex.remove(e.indexKey());
        return DueOutcome.STALE;
      }
      if (input - state.lastSeenInputMs < settings.idleTimeoutMs()) {
        return DueOutcome.NOT_YET; // in the cut-off second
      }
      byte[] prefix = e.prefix();
      log.debug("idle timeout: ending {}/{}", StoreKeys.callId(prefix), StoreKeys.channelIndex(prefix));
      ender.endIdle(prefix, state); // removes the index entry
      return DueOutcome.DONE;
    });
    int expired = drainDue(TimeIndex.ENDED, nowMs - settings.endedRetentionMs(), deadline, e -> {
      Bytes key = Bytes.wrap(e.prefix());
      Long at = ended.get(key);
      DueOutcome outcome = DueOutcome.STALE;
      if (at != null && e.covers(at)) {
        if (nowMs - at < settings.endedRetentionMs()) {
          return DueOutcome.NOT_YET;
        }
        ended.delete(key);
        outcome = DueOutcome.DONE;
      }
      timeIndex.remove(e.indexKey());
      return outcome;
    });
    long tookNanos = System.nanoTime() - t0;
    metrics.idleScan(tookNanos);
    if (tookNanos > 1_000_000_000L) {
      log.warn("task {}: idle scan took {} ms ({} channels ended, {} end markers expired)", context.taskId(), tookNanos / 1_000_000, endedNow,
          expired);
    }
  }

  /** What {@link #drainDue} did with one due entry of the time index. */
  private enum DueOutcome {
    /** Handled (stream ended, marker expired) and its index entry removed. */
    DONE,
    /** A stale index entry, removed. */
    STALE,
    /** In the cut-off second but not due yet: left in place. */
    NOT_YET
  }

  /**
   * Hands the entries of {@code kind} due at {@code uptoMs} to {@code handle}, a batch at a time,
   * until none is left, a batch makes no progress, or {@code deadlineNanos} has passed.
   *
   * @return the entries handled ({@link DueOutcome#DONE})
   */
  private int drainDue(byte kind, long uptoMs, long deadlineNanos, Function<TimeIndex.Entry, DueOutcome> handle) {
    int done = 0;
    boolean more = true;
    while (more && System.nanoTime() < deadlineNanos) {
      List<TimeIndex.Entry> batch = timeIndex.due(kind, uptoMs, SCAN_BATCH);
      int progress = 0;
      for (TimeIndex.Entry e : batch) {
        DueOutcome outcome = handle.apply(e);
        if (outcome != DueOutcome.NOT_YET) {
          progress++;
        }
        if (outcome == DueOutcome.DONE) {
          done++;
        }
      }
      more = batch.size() == SCAN_BATCH && progress > 0;
    }
    return done;
  }

  /**
   * State written before the time index existed (or an index lost with its changelog) has open
   * channels and end markers but no index: index them once, so that they still time out. A channel
   * state without a last-seen time (layout 1) counts as seen at the input clock now.
   */
  private void rebuildTimeIndexIfMissing() {
    if (!timeIndex.isEmpty()) {
      return;
    }
    long indexed = 0;
    long now = inputClockMs();
    // Keys only (tens of bytes each), not the states (up to ≈ 20 KB with a full reorder buffer): an
    // old store with many open channels must not be held on the heap at once.
    List<Bytes> unseen = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = channels.all()) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        ChannelState state = ChannelState.fromBytes(kv.value);
        if (state.isEnded()) {
          continue;
        }
        if (state.lastSeenInputMs == ChannelState.NEVER) {
          unseen.add(kv.key);
        } else {
          timeIndex.add(TimeIndex.LAST_SEEN, kv.key.get(), state.lastSeenInputMs);
        }
        indexed++;
      }
    }
    for (Bytes key : unseen) {
      ChannelState state = ChannelState.fromBytes(channels.get(key));
      state.lastSeenInputMs = now;
      channels.put(key, state.toBytes());
      timeIndex.add(TimeIndex.LAST_SEEN, key.get(), now);
    }
    try (KeyValueIterator<Bytes, Long> it = ended.all()) {
      while (it.hasNext()) {
        KeyValue<Bytes, Long> kv = it.next();
        timeIndex.add(TimeIndex.ENDED, kv.key.get(), kv.value);
        indexed++;
      }
    }
    if (indexed > 0) {
      log.info("task {}: indexed {} open channels and end markers written before the time index", context.taskId(), indexed);
    }
  }
}
