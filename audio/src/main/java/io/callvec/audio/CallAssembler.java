package io.callvec.audio;

import io.callvec.audio.AudioFormatException.Reason;
import io.callvec.audio.internal.StateReader;
import io.callvec.audio.internal.StateWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reassembles the decoded chunks of one call x channel into contiguous runs of audio at the source
 * sample rate: reorders within a bounded lateness, drops duplicates and late chunks, fills short gaps
 * with silence and starts a new run after a long one. Pure logic, no I/O; not thread-safe.
 *
 * <p><b>Position.</b> A chunk's place on the call's timeline is its media timestamp: it starts at
 * source sample {@code round(timestampMs * sampleRateHz / 1000)} (positions are source samples since
 * the call started, timestamp 0). The sequence number only identifies chunks (duplicates) and breaks
 * ties between chunks at the same position (the lower number wins). Providers send 20 ms frames
 * whose order is not guaranteed (Twilio Media Streams, Amazon Connect, Telnyx); timestamps are on the
 * media timeline, so they survive reordering and show losses as gaps. Because timestamps are whole
 * milliseconds (and 20 ms is not a whole number of samples at every rate), a chunk that starts within
 * {@code timestampToleranceMs} of the end of the audio already emitted is placed right there
 * (contiguous): small timestamp jitter neither invents silence nor drops audio.
 *
 * <p><b>Emission.</b> Audio is pushed to a {@link Sink} as soon as it is contiguous with what was
 * emitted (no added latency for in-order streams). A gap is held open until the newest audio received
 * ends at least {@code reorderLatenessMs} after the gap's end (a chunk arriving later than that is too
 * late); then a gap of at most {@code maxGapFillMs} is filled with silence (zeros) and a longer one
 * ends the run: {@link Sink#startRun} announces a new run at the timeline offset of the next chunk, and
 * no audio is invented across the gap. The first run starts at offset 0 (or at the first chunk, if the
 * call's audio begins more than {@code maxGapFillMs} after timestamp 0).
 *
 * <p><b>Drops.</b> A chunk whose sequence number was already accepted is a duplicate (tracked for the
 * last {@value #SEQUENCE_WINDOW} sequence numbers). A chunk that lies entirely before the emitted end
 * arrived too late and is dropped, never reordered into the past; a chunk that partly overlaps audio
 * already placed loses the overlapping samples. All drops are counted.
 *
 * <p><b>End.</b> {@link #finish} (end of stream, or an idle timeout the caller decides) emits whatever
 * is buffered, filling or breaking gaps as above; {@link #flush} does the same without ending.
 *
 * <p><b>Memory and state.</b> The reorder buffer holds only chunks that start within the lateness
 * window of the newest audio, i.e. about {@code reorderLatenessMs} of audio plus one chunk (hard cap
 * {@code 2 x lateness + 1 s}, beyond which the oldest gap is resolved early). {@link #toBytes()}
 * serialises it with the cursors and counters (version 1).
 */
public final class CallAssembler {

  /** Receives assembled audio: runs of contiguous samples. */
  public interface Sink extends SampleSink {
    /**
     * A run of contiguous audio starts at {@code startSample} (source-rate samples since call start).
     * Called before the first samples of the stream and after every gap longer than the maximum fill.
     */
    void startRun(long startSample);
  }

  /** Sequence numbers remembered for duplicate detection, counted back from the highest seen. */
  public static final int SEQUENCE_WINDOW = 512;
  /** Largest accepted media timestamp, ms (2^40 ms, about 34 years). */
  public static final long MAX_TIMESTAMP_MS = 1L << 40;

  private static final char STATE_KIND = 'A';
  private static final int STATE_VERSION = 1;
  private static final float[] ZEROS = new float[2048];

  private final int sampleRateHz;
  private final int reorderLatenessSamples;
  private final int maxGapFillSamples;
  private final int timestampToleranceSamples;
  private final long maxPendingSamples;

  /** End of the audio emitted so far (source samples since call start). */
  private long cursor;
  private boolean runOpen;
  /** Highest chunk end seen (source samples), -1 before the first chunk. */
  private long maxEndSeen = -1;
  private long highestSequence = -1;
  private final long[] seenSequences = new long[SEQUENCE_WINDOW / 64];
  /** Buffered chunks, sorted by (start, sequence); every start > cursor + tolerance. */
  private final List<Pending> pending = new ArrayList<>();
  private long pendingSamples;
  private boolean finished;

  private long chunks;
  private long samples;
  private long duplicateChunks;
  private long lateChunks;
  private long lateSamples;
  private long overlapSamples;
  private long gapsFilled;
  private long gapFilledSamples;
  private long longGaps;
  private long runs;

  private static final class Pending {
    final long start;
    final long sequence;
    final float[] samples;

    Pending(long start, long sequence, float[] samples) {
      this.start = start;
      this.sequence = sequence;
      this.samples = samples;
    }
  }

  /**
   * @param sampleRateHz the source sample rate, Hz (1 .. 192000)
   * @param reorderLatenessMs how long (in audio time) a gap waits for late chunks, ms (>= 0)
   * @param maxGapFillMs longest gap filled with silence, ms (>= 0); longer gaps start a new run
   * @param timestampToleranceMs timestamp jitter absorbed when placing a chunk next to the audio
   *     before it, ms (>= 0; keep it well below the chunk duration so that a lost chunk shows as a gap)
   */
  public CallAssembler(int sampleRateHz, int reorderLatenessMs, int maxGapFillMs, int timestampToleranceMs) {
    this(
        sampleRateHz,
        msToSamples(reorderLatenessMs, sampleRateHz, "reorderLatenessMs"),
        msToSamples(maxGapFillMs, sampleRateHz, "maxGapFillMs"),
        msToSamples(timestampToleranceMs, sampleRateHz, "timestampToleranceMs"),
        true);
  }

  /** Settings already converted to samples; {@code inSamples} only distinguishes the signature. */
  private CallAssembler(int rate, int latenessSamples, int maxGapSamples, int toleranceSamples, boolean inSamples) {
    if (rate < 1 || rate > Resampler.MAX_INPUT_RATE_HZ) {
      throw new IllegalArgumentException("sampleRateHz must be in [1, 192000], was " + rate);
    }
    this.sampleRateHz = rate;
    this.reorderLatenessSamples = latenessSamples;
    this.maxGapFillSamples = maxGapSamples;
    this.timestampToleranceSamples = toleranceSamples;
    this.maxPendingSamples = 2L * latenessSamples + rate;
  }

  private static int msToSamples(int ms, int rateHz, String name) {
    if (ms < 0 || ms > 3_600_000) {
      throw new IllegalArgumentException(name + " must be in [0, 3600000] ms, was " + ms);
    }
    return (int) (((long) ms * rateHz + 500) / 1000);
  }

  /**
   * Accepts one decoded chunk and pushes whatever audio became ready to {@code sink}.
   *
   * @param sequenceNumber the chunk's sequence number (>= 0; unique per chunk of this call x channel)
   * @param timestampMs the chunk's media timestamp: ms since the start of the call (>= 0)
   * @param samples decoded samples at the source rate (copied if buffered)
   * @throws AudioFormatException for a negative sequence number, a negative or absurd timestamp or no
   *     samples (the state is unchanged then)
   * @throws IllegalStateException after {@link #finish}
   */
  public void accept(long sequenceNumber, long timestampMs, float[] samples, int offset, int length, Sink sink) {
    if (finished) {
      throw new IllegalStateException("the stream was finished: no more chunks are accepted");
    }
    if (sequenceNumber < 0) {
      throw new AudioFormatException(
          Reason.BAD_SEQUENCE_NUMBER, "sequence number " + sequenceNumber + " is negative: expected >= 0");
    }
    if (timestampMs < 0 || timestampMs > MAX_TIMESTAMP_MS) {
      throw new AudioFormatException(
          Reason.BAD_TIMESTAMP,
          "media timestamp " + timestampMs + " ms is outside [0, " + MAX_TIMESTAMP_MS + "] ms since call start");
    }
    if (length <= 0) {
      throw new AudioFormatException(Reason.EMPTY_PAYLOAD, "chunk " + sequenceNumber + " has no samples");
    }
    java.util.Objects.checkFromIndexSize(offset, length, samples.length);
    if (isSeen(sequenceNumber)) {
      duplicateChunks++;
      return;
    }
    markSeen(sequenceNumber);
    chunks++;
    this.samples += length;
    long start = Math.floorDiv(timestampMs * sampleRateHz + 500, 1000);
    maxEndSeen = Math.max(maxEndSeen, start + length);
    if (Math.abs(start - cursor) <= timestampToleranceSamples) {
      start = cursor; // contiguous with the emitted audio (every buffered chunk starts later)
    }
    if (start + length <= cursor) {
      lateChunks++;
      lateSamples += length;
    } else if (start <= cursor) {
      int trim = (int) (cursor - start);
      overlapSamples += trim;
      emit(samples, offset + trim, length - trim, sink);
    } else {
      insert(new Pending(start, sequenceNumber, Arrays.copyOfRange(samples, offset, offset + length)));
    }
    drain(false, sink);
  }

  /**
   * Emits everything buffered (gaps filled or broken as usual, without waiting) and keeps accepting
   * chunks; chunks for positions before the new end are late from then on.
   */
  public void flush(Sink sink) {
    if (!finished) {
      drain(true, sink);
    }
  }

  /** Ends the stream (end of call or idle timeout): emits everything buffered. Idempotent. */
  public void finish(Sink sink) {
    flush(sink);
    finished = true;
  }

  // ---------------------------------------------------------------------------------------------

  private void insert(Pending p) {
    int lo = 0;
    int hi = pending.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      Pending m = pending.get(mid);
      if (m.start < p.start || (m.start == p.start && m.sequence < p.sequence)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    pending.add(lo, p);
    pendingSamples += p.samples.length;
  }

  private void drain(boolean force, Sink sink) {
    while (!pending.isEmpty()) {
      Pending p = pending.get(0);
      if (p.start <= cursor + timestampToleranceSamples) {
        pending.remove(0);
        pendingSamples -= p.samples.length;
        int n = p.samples.length;
        if (p.start >= cursor - timestampToleranceSamples) {
          emit(p.samples, 0, n, sink); // contiguous (within the tolerance)
        } else if (p.start + n <= cursor) {
          overlapSamples += n; // entirely covered by audio placed before it
        } else {
          int trim = (int) (cursor - p.start);
          overlapSamples += trim;
          emit(p.samples, trim, n - trim, sink);
        }
        continue;
      }
      boolean due = force
          || p.start <= maxEndSeen - reorderLatenessSamples
          || pendingSamples > maxPendingSamples;
      if (!due) {
        break;
      }
      long gap = p.start - cursor;
      if (gap <= maxGapFillSamples) {
        gapsFilled++;
        gapFilledSamples += gap;
        emitSilence(gap, sink);
      } else {
        longGaps++;
        runOpen = false;
        cursor = p.start;
      }
    }
  }

  private void ensureRun(Sink sink) {
    if (!runOpen) {
      runOpen = true;
      runs++;
      sink.startRun(cursor);
    }
  }

  private void emit(float[] s, int off, int len, Sink sink) {
    if (len > 0) {
      ensureRun(sink);
      sink.accept(s, off, len);
      cursor += len;
    }
  }

  private void emitSilence(long count, Sink sink) {
    ensureRun(sink);
    long left = count;
    while (left > 0) {
      int n = (int) Math.min(left, ZEROS.length);
      sink.accept(ZEROS, 0, n);
      left -= n;
    }
    cursor += count;
  }

  private boolean isSeen(long seq) {
    if (highestSequence < 0 || seq > highestSequence || seq <= highestSequence - SEQUENCE_WINDOW) {
      return false;
    }
    int bit = (int) (seq % SEQUENCE_WINDOW);
    return (seenSequences[bit >>> 6] & (1L << (bit & 63))) != 0;
  }

  private void markSeen(long seq) {
    if (seq > highestSequence) {
      if (highestSequence < 0 || seq - highestSequence >= SEQUENCE_WINDOW) {
        Arrays.fill(seenSequences, 0L);
      } else {
        for (long s = highestSequence + 1; s <= seq; s++) {
          int bit = (int) (s % SEQUENCE_WINDOW);
          seenSequences[bit >>> 6] &= ~(1L << (bit & 63));
        }
      }
      highestSequence = seq;
    } else if (seq <= highestSequence - SEQUENCE_WINDOW) {
      return; // too old to remember
    }
    int bit = (int) (seq % SEQUENCE_WINDOW);
    seenSequences[bit >>> 6] |= 1L << (bit & 63);
  }

  // ---------------------------------------------------------------------------------------------

  /** The source sample rate, Hz. */
  public int sampleRateHz() {
    return sampleRateHz;
  }

  /** End of the audio emitted so far: source samples since call start. */
  public long emittedEndSample() {
    return cursor;
  }

  /** Samples held in the reorder buffer. */
  public long bufferedSamples() {
    return pendingSamples;
  }

  /** Whether {@link #finish} was called. */
  public boolean isFinished() {
    return finished;
  }

  /** Chunks accepted (not duplicates). */
  public long chunks() {
    return chunks;
  }

  /** Samples in accepted chunks (including those later dropped as late or overlapping). */
  public long samples() {
    return samples;
  }

  /** Chunks dropped because their sequence number was already accepted. */
  public long duplicateChunks() {
    return duplicateChunks;
  }

  /** Chunks dropped because their whole span had already been emitted. */
  public long lateChunks() {
    return lateChunks;
  }

  /** Samples of {@link #lateChunks()}. */
  public long lateSamples() {
    return lateSamples;
  }

  /** Samples dropped because their position was already covered by other audio. */
  public long overlapSamples() {
    return overlapSamples;
  }

  /** Gaps filled with silence. */
  public long gapsFilled() {
    return gapsFilled;
  }

  /** Silence samples inserted into filled gaps. */
  public long gapFilledSamples() {
    return gapFilledSamples;
  }

  /** Gaps longer than the maximum fill (each starts a new run; includes a late start of the call). */
  public long longGaps() {
    return longGaps;
  }

  /** Runs started (the first run included). */
  public long runs() {
    return runs;
  }

  // ---------------------------------------------------------------------------------------------

  /** Serialises the state (format version 1): settings, cursors, duplicate window, counters, buffer. */
  public byte[] toBytes() {
    StateWriter w = new StateWriter(256 + 4 * (int) pendingSamples + 24 * pending.size());
    writeTo(w);
    return w.toByteArray();
  }

  void writeTo(StateWriter w) {
    w.header(STATE_KIND, STATE_VERSION)
        .writeInt(sampleRateHz)
        .writeInt(reorderLatenessSamples)
        .writeInt(maxGapFillSamples)
        .writeInt(timestampToleranceSamples)
        .writeLong(cursor)
        .writeBoolean(runOpen)
        .writeLong(maxEndSeen)
        .writeLong(highestSequence);
    for (long bits : seenSequences) {
      w.writeLong(bits);
    }
    w.writeBoolean(finished);
    for (long c : new long[] {chunks, samples, duplicateChunks, lateChunks, lateSamples, overlapSamples,
        gapsFilled, gapFilledSamples, longGaps, runs}) {
      w.writeLong(c);
    }
    w.writeInt(pending.size());
    for (Pending p : pending) {
      w.writeLong(p.start).writeLong(p.sequence).writeFloats(p.samples, 0, p.samples.length);
    }
  }

  /**
   * Restores an assembler written by {@link #toBytes()}.
   *
   * @throws AudioStateException if the blob is not an assembler state of version 1 or is inconsistent
   */
  public static CallAssembler fromBytes(byte[] state) {
    StateReader r = StateReader.of(state, "assembler state");
    CallAssembler a = readFrom(r);
    r.end();
    return a;
  }

  static CallAssembler readFrom(StateReader r) {
    r.header(STATE_KIND, STATE_VERSION, "assembler state");
    int rate = r.readInt("sample rate (Hz)", 1, Resampler.MAX_INPUT_RATE_HZ);
    long maxSamples = 3_600_000L * rate / 1000 + 1;
    int lateness = r.readInt("lateness (samples)", 0, (int) maxSamples);
    int gap = r.readInt("max gap fill (samples)", 0, (int) maxSamples);
    int tol = r.readInt("timestamp tolerance (samples)", 0, (int) maxSamples);
    CallAssembler a = new CallAssembler(rate, lateness, gap, tol, true);
    a.cursor = r.readLong("emitted end (samples)", 0, Long.MAX_VALUE / 2);
    a.runOpen = r.readBoolean();
    a.maxEndSeen = r.readLong("max end seen (samples)", -1, Long.MAX_VALUE / 2);
    a.highestSequence = r.readLong("highest sequence number", -1, Long.MAX_VALUE);
    for (int i = 0; i < a.seenSequences.length; i++) {
      a.seenSequences[i] = r.readLong();
    }
    a.finished = r.readBoolean();
    long[] c = new long[10];
    for (int i = 0; i < c.length; i++) {
      c[i] = r.readLong("counter " + i, 0, Long.MAX_VALUE);
    }
    a.chunks = c[0];
    a.samples = c[1];
    a.duplicateChunks = c[2];
    a.lateChunks = c[3];
    a.lateSamples = c[4];
    a.overlapSamples = c[5];
    a.gapsFilled = c[6];
    a.gapFilledSamples = c[7];
    a.longGaps = c[8];
    a.runs = c[9];
    int n = r.readInt("buffered chunks", 0, 1 << 20);
    long prevStart = Long.MIN_VALUE;
    long prevSeq = -1;
    for (int i = 0; i < n; i++) {
      long start = r.readLong("buffered chunk start", 0, Long.MAX_VALUE / 2);
      long seq = r.readLong("buffered chunk sequence number", 0, Long.MAX_VALUE);
      float[] s = r.readFloats("buffered chunk samples", Integer.MAX_VALUE / 8);
      r.require(s.length > 0, "buffered chunk " + seq + " has no samples");
      r.require(start > a.cursor + a.timestampToleranceSamples,
          "buffered chunk at " + start + " should have been emitted (emitted end " + a.cursor + ")");
      r.require(start > prevStart || (start == prevStart && seq > prevSeq), "buffered chunks are not sorted");
      a.pending.add(new Pending(start, seq, s));
      a.pendingSamples += s.length;
      prevStart = start;
      prevSeq = seq;
    }
    return a;
  }
}
