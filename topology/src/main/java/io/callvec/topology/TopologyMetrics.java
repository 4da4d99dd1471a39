package io.callvec.topology;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The topology's own meters (Prometheus names in brackets: dots become underscores, counters get
 * {@code _total}, timers {@code _seconds}):
 *
 * <ul>
 *   <li>{@code callvec.chunks} {result=accepted|duplicate|late}: chunks by outcome;
 *   <li>{@code callvec.dead.letters} {reason}: records sent to the dead-letter topic;
 *   <li>{@code callvec.channels.started}, {@code callvec.channels.ended} {reason}: call × channel
 *       streams opened and ended (open streams = started − ended);
 *   <li>{@code callvec.segments}: segment embeddings emitted;
 *   <li>{@code callvec.calls}, {@code callvec.calls.empty}: call embeddings emitted, and ended
 *       streams too short for any segment;
 *   <li>{@code callvec.segment.latency}: from the Kafka timestamp of the last chunk of a segment to
 *       its embedding being produced (end-to-end latency before the commit);
 *   <li>{@code callvec.idle.scan}: time of one idle-timeout scan of a task (it reads the due entries of the time index and works at most about 200 ms);
 *   <li>{@code callvec.gap.filled.samples}: silence inserted into short gaps (samples at 16 kHz);
 *       {@code callvec.runs.new}: long gaps that started a new contiguous run;
 *   <li>{@code callvec.backpressure.waits}: times a task waited for the batcher's full queue;
 *       {@code callvec.windows.resubmitted}: pending windows resubmitted after a restart or
 *       rebalance.
 *   <li>{@code callvec.windows.skipped}: windows not sent to the model because the VAD found too
 *       little speech in them ({@code callvec.vad.min.speech.fraction}); {@code callvec.vad.frames}:
 *       32 ms frames the VAD ran on; {@code callvec.vad}: its time per window;
 *   <li>{@code callvec.streams.open} (gauge): call × channel streams whose state this instance
 *       holds now (open, or ended and waiting for their last windows' inference); it follows task
 *       moves, unlike started − ended.
 * </ul>
 */
public final class TopologyMetrics {
  /** Counter of segment embeddings emitted ({@code callvec_segments_total} in Prometheus). */
  public static final String SEGMENTS = "callvec.segments";

  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final Timer latency;
  private final AtomicLong openStreams = new AtomicLong();
  private final AtomicLong deferredWindows = new AtomicLong();
  private final Timer idleScan;
  private final Timer vad;

  public TopologyMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.latency = Timer.builder("callvec.segment.latency")
        .description("Kafka timestamp of a segment's last chunk to its embedding produced")
        .publishPercentiles(0.5, 0.95, 0.99)
        .publishPercentileHistogram(false)
        .distributionStatisticExpiry(Duration.ofMinutes(2))
        .register(registry);
    Gauge.builder("callvec.streams.open", openStreams, AtomicLong::get)
        .description("call x channel streams whose state this instance holds")
        .register(registry);
    Gauge.builder("callvec.windows.deferred", deferredWindows, AtomicLong::get)
        .description("windows cut and durable in the pending store that the batcher's full queue has not taken yet (overload)")
        .register(registry);
    this.vad = Timer.builder("callvec.vad")
        .description("Voice activity detection over one window's new audio, on the stream thread")
        .register(registry);
    this.idleScan = Timer.builder("callvec.idle.scan")
        .description("One idle-timeout scan of a task: due streams of the time index ended, expired end markers deleted")
        .distributionStatisticExpiry(Duration.ofMinutes(2))
        .register(registry);
    // Register the untagged counters up front so they are exported (at 0) from the start.
    counter("callvec.channels.started", null, null);
    counter(SEGMENTS, null, null);
    counter("callvec.calls", null, null);
    counter("callvec.calls.empty", null, null);
    counter("callvec.gap.filled.samples", null, null);
    counter("callvec.runs.new", null, null);
    counter("callvec.backpressure.waits", null, null);
    counter("callvec.windows.resubmitted", null, null);
    counter("callvec.chunks", "result", "accepted");
  }

  public MeterRegistry registry() {
    return registry;
  }

  private Counter counter(String name, String tag, String value) {
    String id = tag == null ? name : name + "|" + tag + "=" + value;
    return counters.computeIfAbsent(id, k -> {
      Counter.Builder b = Counter.builder(name);
      if (tag != null) {
        b.tag(tag, value);
      }
      return b.register(registry);
    });
  }

  public void chunk(String result) {
    counter("callvec.chunks", "result", result).increment();
  }

  public void deadLetter(String reason) {
    counter("callvec.dead.letters", "reason", reason).increment();
  }

  public void channelStarted() {
    counter("callvec.channels.started", null, null).increment();
  }

  public void channelEnded(String reason) {
    counter("callvec.channels.ended", "reason", reason).increment();
  }

  public void segmentEmitted(long latencyMs) {
    counter(SEGMENTS, null, null).increment();
    latency.record(Math.max(0, latencyMs), TimeUnit.MILLISECONDS);
  }

  public void callEmitted() {
    counter("callvec.calls", null, null).increment();
  }

  public void callWithoutSegments() {
    counter("callvec.calls.empty", null, null).increment();
  }

  /** A window the VAD judged with too little speech: emitted without a vector, not sent to the model. */
  public void windowSkipped() {
    counter("callvec.windows.skipped", null, null).increment();
  }

  /** 32 ms frames the VAD ran on (16 kHz audio of the stream's windows), and how long that took. */
  public void vadRan(long frames, long nanos) {
    if (frames > 0) {
      counter("callvec.vad.frames", null, null).increment(frames);
      vad.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** Time spent in the VAD so far, seconds (all tasks of this instance). */
  public double vadSeconds() {
    return vad.totalTime(TimeUnit.SECONDS);
  }

  public void gapFilled(long samples16k) {
    if (samples16k > 0) {
      counter("callvec.gap.filled.samples", null, null).increment(samples16k);
    }
  }

  public void newRuns(long runs) {
    if (runs > 0) {
      counter("callvec.runs.new", null, null).increment(runs);
    }
  }

  /** A window the batcher's full queue refused; it stays pending and is submitted when there is room. */
  public void backpressure() {
    counter("callvec.backpressure.waits", null, null).increment();
  }

  public void resubmitted(int windows) {
    counter("callvec.windows.resubmitted", null, null).increment(windows);
  }

  /** Adds {@code delta} (negative to remove) to the deferred-windows gauge. */
  public void deferredWindows(long delta) {
    deferredWindows.addAndGet(delta);
  }

  /** Adds {@code delta} (negative to remove) to the open-streams gauge. */
  public void openStreams(long delta) {
    openStreams.addAndGet(delta);
  }

  /** The open-streams gauge's value. */
  public long openStreams() {
    return openStreams.get();
  }

  /** Total of a counter over all its tags (for progress output and tests). */
  public double total(String name) {
    return registry.find(name).counters().stream().mapToDouble(Counter::count).sum();
  }

  /** Records how long one idle scan of a task took. */
  public void idleScan(long nanos) {
    idleScan.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /** The idle-scan timer (max and total time per scan). */
  public Timer idleScan() {
    return idleScan;
  }

  /** The latency timer. */
  public Timer latency() {
    return latency;
  }
}
