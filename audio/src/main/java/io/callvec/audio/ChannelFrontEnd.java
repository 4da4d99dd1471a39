package io.callvec.audio;

import io.callvec.audio.AudioFormatException.Reason;
import io.callvec.audio.internal.StateReader;
import io.callvec.audio.internal.StateWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The audio front end of one call x channel: decode, reassemble, resample to 16 kHz, cut windows.
 * This is the class the Kafka Streams topology uses; it holds no Kafka types and does no I/O.
 *
 * <pre>{@code
 * ChannelFrontEnd fe = ChannelFrontEnd.create(Encoding.MULAW, 8000, FrontEndConfig.DEFAULTS);
 * for (AudioChunk c : chunks) {
 *   for (AudioWindow w : fe.accept(c)) { embed(w); }      // 0 or more windows per chunk
 * }
 * for (AudioWindow w : fe.finish()) { embed(w); }         // end of call or idle timeout
 * byte[] state = fe.toBytes();                            // to a state store; ChannelFrontEnd.fromBytes(state)
 * }</pre>
 *
 * <p><b>Chain.</b> {@link AudioDecoder} -> {@link CallAssembler} (at the source rate, where the
 * chunks' timestamps and lengths are exact) -> {@link Resampler} (restarted at every new run, so its
 * filter never smears audio across a long gap) -> {@link Segmenter} (16 kHz). A run that starts at
 * source sample {@code s} starts at 16 kHz sample {@code round(s * 16000 / sampleRateHz)} of the call's
 * timeline; each run's resampled length is {@link Resampler#outputLength} of its source length.
 *
 * <p><b>Latency.</b> In-order audio flows straight through; a window is emitted as soon as its last
 * sample is computable (the resampler holds back K = 77 input samples, 9.6 ms at 8 kHz). A gap holds
 * the stream back for up to the reorder lateness.
 *
 * <p><b>Errors.</b> {@link #accept} validates the chunk (format, payload size, timestamp, sequence
 * number) before changing anything; an {@link AudioFormatException} leaves the state as it was, so the
 * chunk can be dead-lettered and the stream continues.
 *
 * <p><b>Positional mode</b> ({@link #createPositional}): the same chain, but the windowing stage is a
 * bare {@link WindowPlanner} that keeps no audio: the caller receives the 16 kHz audio as blocks and
 * the windows as positions ({@link #accept(long, long, byte[], WindowPlanner.Listener)}) and keeps the
 * audio itself (the streaming topology's previous block layout, still used for the streams it
 * started; new streams use the source-rate mode). The state is then a few hundred
 * bytes plus the reorder buffer, whatever the window length.
 *
 * <p><b>Source-rate mode</b> ({@link #createSourceBlocks}): positional, but the audio goes to a {@link
 * SourceListener} as the runs' source-rate samples (decoded chunks and inserted gap-fill silence)
 * before resampling, and the resampler only counts: the caller keeps the audio compactly (as
 * received) and computes a window's 16 kHz samples when it is cut, with {@link Resampler#render},
 * bit-identical to what the other modes produce. The per-chunk state is then the settings, the
 * reorder buffer and a few longs; no resampler history.
 *
 * <p><b>State</b> ({@link #toBytes()}, version 2; version 3 in source-rate mode): the settings, the three stages' states and their
 * counters; bounded by one window of 16 kHz floats (320 KB at 5 s), the reorder buffer (about the
 * lateness window at the source rate, 16 KB at 8 kHz) and the resampler's history (0.6 KB).
 * Not thread-safe: one instance per call x channel, used by one thread at a time.
 */
public final class ChannelFrontEnd {

  private static final char STATE_KIND = 'F';
  private static final int STATE_VERSION = 2;
  /** The state format of the source-rate mode ({@link #createSourceBlocks}). */
  private static final int SOURCE_STATE_VERSION = 3;

  /**
   * Receives a source-rate front end's audio ({@link #createSourceBlocks}): the runs' samples at
   * the source rate, and the windows as positions at 16 kHz.
   */
  public interface SourceListener extends WindowPlanner.Listener {
    /**
     * {@code length} (>= 1) source-rate samples of the current run, from run sample {@code
     * runOffset}; copy what you keep. The run starts at source sample {@code runStartSource} of the
     * call's timeline and at 16 kHz sample {@code runStart16k}; its 16 kHz output sample {@code j}
     * is timeline sample {@code runStart16k + j} and is {@link Resampler#render} output {@code j} of
     * the run's samples (windows never span two runs).
     */
    void sourceBlock(long runStart16k, long runStartSource, long runOffset, float[] samples, int offset, int length);

    /** Not called in source-rate mode. */
    @Override
    default void block(long startSample, float[] samples, int offset, int length) {
      throw new IllegalStateException("a source-rate front end reports no 16 kHz blocks");
    }
  }

  private final Encoding encoding;
  private final int sampleRateHz;
  private final FrontEndConfig config;
  private final CallAssembler assembler;
  /** Null in source-rate mode, where the run counters below stand in for it. */
  private final Resampler resampler;
  /** Source-rate mode: the current run's start (source and 16 kHz samples) and its counts. */
  private final boolean sourceBlocks;
  private long runStartSource;
  private long runStart16k;
  private long runInputSamples;
  private long runOutputSamples;
  /** The windowing stage: a buffering segmenter, or (positional mode) a bare planner. */
  private final Segmenter segmenter;
  private final WindowPlanner planner;
  /** Positional mode: where the current call's blocks and windows go. */
  private WindowPlanner.Listener external;
  private boolean finished;

  private float[] decoded = new float[320];
  private List<AudioWindow> collected;
  private final Consumer<AudioWindow> collector = this::collect;
  private final SampleSink toSegmenter = this::segment;
  private final CallAssembler.Sink fromAssembler = new CallAssembler.Sink() {
    @Override
    public void startRun(long startSample) {
      ChannelFrontEnd.this.startRun(startSample);
    }

    @Override
    public void accept(float[] samples, int offset, int length) {
      if (sourceBlocks) {
        acceptSource(samples, offset, length);
      } else {
        resampler.process(samples, offset, length, toSegmenter);
      }
    }
  };

  private ChannelFrontEnd(
      Encoding encoding, int sampleRateHz, FrontEndConfig config, CallAssembler a, Resampler r, Segmenter s, WindowPlanner p) {
    this.encoding = encoding;
    this.sampleRateHz = sampleRateHz;
    this.config = config;
    this.assembler = a;
    this.resampler = r;
    this.segmenter = s;
    this.planner = p;
    this.sourceBlocks = r == null;
  }

  /**
   * A front end for a call x channel whose chunks have the given encoding and sample rate.
   *
   * @throws AudioFormatException ({@link Reason#UNKNOWN_ENCODING}, {@link
   *     Reason#UNSUPPORTED_SAMPLE_RATE}) if the format cannot be processed
   */
  public static ChannelFrontEnd create(Encoding encoding, int sampleRateHz, FrontEndConfig config) {
    return create(encoding, sampleRateHz, config, false);
  }

  /**
   * A front end in positional mode (see the class comment): windows are reported as positions and the
   * 16 kHz audio as blocks to the listener given to {@link #accept(long, long, byte[],
   * WindowPlanner.Listener)} and {@link #finish(WindowPlanner.Listener)}.
   */
  public static ChannelFrontEnd createPositional(Encoding encoding, int sampleRateHz, FrontEndConfig config) {
    return create(encoding, sampleRateHz, config, true);
  }

  /**
   * A front end in source-rate mode (see the class comment): windows are reported as positions and
   * the audio as source-rate blocks to the {@link SourceListener} given to {@link #accept(long, long,
   * byte[], WindowPlanner.Listener)} and {@link #finish(WindowPlanner.Listener)}.
   */
  public static ChannelFrontEnd createSourceBlocks(Encoding encoding, int sampleRateHz, FrontEndConfig config) {
    ChannelFrontEnd positional = create(encoding, sampleRateHz, config, true); // validates everything
    return new ChannelFrontEnd(
        encoding, sampleRateHz, config, positional.assembler, null, null,
        new WindowPlanner(config.windowSamples(), config.hopSamples(), config.minFinalWindowSamples()));
  }

  private static ChannelFrontEnd create(Encoding encoding, int sampleRateHz, FrontEndConfig config, boolean positional) {
    Objects.requireNonNull(config, "config");
    if (encoding == null) {
      throw new AudioFormatException(Reason.UNKNOWN_ENCODING, "no encoding given: expected MULAW, ALAW or PCM_S16LE");
    }
    Resampler r = new Resampler(sampleRateHz); // validates the rate
    CallAssembler a = new CallAssembler(
        sampleRateHz, config.reorderLatenessMs(), config.maxGapFillMs(), config.timestampToleranceMs());
    if (positional) {
      WindowPlanner p = new WindowPlanner(config.windowSamples(), config.hopSamples(), config.minFinalWindowSamples());
      return new ChannelFrontEnd(encoding, sampleRateHz, config, a, r, null, p);
    }
    Segmenter s = new Segmenter(config.windowSamples(), config.hopSamples(), config.minFinalWindowSamples());
    return new ChannelFrontEnd(encoding, sampleRateHz, config, a, r, s, null);
  }

  /**
   * Accepts a chunk and returns the windows it completed (usually none; never null).
   *
   * @throws AudioFormatException if the chunk's encoding or rate differs from this front end's
   *     ({@link Reason#FORMAT_CHANGED}), its payload is malformed, or its timestamp or sequence number
   *     is invalid; the state is unchanged then
   * @throws IllegalStateException after {@link #finish()}
   */
  public List<AudioWindow> accept(AudioChunk chunk) {
    Objects.requireNonNull(chunk, "chunk");
    if (chunk.encoding() != encoding || chunk.sampleRateHz() != sampleRateHz) {
      throw new AudioFormatException(
          chunk.encoding() == null ? Reason.UNKNOWN_ENCODING : Reason.FORMAT_CHANGED,
          "chunk " + chunk.sequenceNumber() + " is " + chunk.encoding() + " at " + chunk.sampleRateHz()
              + " Hz, but this call x channel is " + encoding + " at " + sampleRateHz + " Hz");
    }
    return accept(chunk.sequenceNumber(), chunk.timestampMs(), chunk.payload());
  }

  /**
   * Accepts a chunk in this front end's encoding and rate; see {@link #accept(AudioChunk)}.
   *
   * @param sequenceNumber the chunk's sequence number (>= 0)
   * @param timestampMs the chunk's media timestamp, ms since call start (>= 0)
   * @param payload the encoded samples
   */
  public List<AudioWindow> accept(long sequenceNumber, long timestampMs, byte[] payload) {
    if (planner != null) {
      throw new IllegalStateException("a positional front end needs a listener: accept(sequence, timestamp, payload, listener)");
    }
    return acceptInternal(sequenceNumber, timestampMs, payload);
  }

  /**
   * Positional mode: accepts a chunk; the 16 kHz audio it completes goes to {@code listener} as blocks,
   * and the windows it completes as positions. Validation and errors as {@link #accept(AudioChunk)}.
   */
  public void accept(long sequenceNumber, long timestampMs, byte[] payload, WindowPlanner.Listener listener) {
    requirePositional(listener);
    external = listener;
    try {
      acceptInternal(sequenceNumber, timestampMs, payload);
    } finally {
      external = null;
    }
  }

  /** Positional mode: {@link #finish()}, reporting to {@code listener}. */
  public void finish(WindowPlanner.Listener listener) {
    requirePositional(listener);
    external = listener;
    try {
      finishInternal();
    } finally {
      external = null;
    }
  }

  private void requirePositional(WindowPlanner.Listener listener) {
    Objects.requireNonNull(listener, "listener");
    if (planner == null) {
      throw new IllegalStateException("not a positional front end: use accept(sequence, timestamp, payload)");
    }
    if (sourceBlocks && !(listener instanceof SourceListener)) {
      throw new IllegalArgumentException("a source-rate front end needs a ChannelFrontEnd.SourceListener, got " + listener.getClass().getName());
    }
  }

  private List<AudioWindow> acceptInternal(long sequenceNumber, long timestampMs, byte[] payload) {
    if (finished) {
      throw new IllegalStateException("this call x channel was finished: no more chunks are accepted");
    }
    if (payload == null) {
      throw new AudioFormatException(Reason.EMPTY_PAYLOAD, "chunk " + sequenceNumber + " has a null payload");
    }
    int n = AudioDecoder.sampleCount(encoding, payload.length, config.maxPayloadBytes());
    if (sequenceNumber < 0) {
      throw new AudioFormatException(
          Reason.BAD_SEQUENCE_NUMBER, "sequence number " + sequenceNumber + " is negative: expected >= 0");
    }
    if (timestampMs < 0 || timestampMs > CallAssembler.MAX_TIMESTAMP_MS) {
      throw new AudioFormatException(
          Reason.BAD_TIMESTAMP,
          "chunk " + sequenceNumber + ": media timestamp " + timestampMs + " ms is outside [0, "
              + CallAssembler.MAX_TIMESTAMP_MS + "] ms since call start");
    }
    if (decoded.length < n) {
      decoded = new float[Math.max(n, 2 * decoded.length)];
    }
    AudioDecoder.decode(encoding, payload, 0, payload.length, decoded, 0, config.maxPayloadBytes());
    collected = null;
    assembler.accept(sequenceNumber, timestampMs, decoded, 0, n, fromAssembler);
    return drainCollected();
  }

  /**
   * Ends the call x channel (end of stream, or an idle timeout the caller decides): emits the buffered
   * audio and the final partial window (if at least the configured minimum). Returns the windows
   * emitted (possibly none). Idempotent; {@link #accept} throws afterwards.
   */
  public List<AudioWindow> finish() {
    if (planner != null) {
      throw new IllegalStateException("a positional front end needs a listener: finish(listener)");
    }
    return finishInternal();
  }

  private List<AudioWindow> finishInternal() {
    if (finished) {
      return List.of();
    }
    collected = null;
    assembler.finish(fromAssembler);
    endRun();
    finished = true;
    return drainCollected();
  }

  private void startRun(long sourceStartSample) {
    endRun();
    if (sourceBlocks) {
      runStartSource = sourceStartSample;
      runStart16k = Math.max(Resampler.outputLength(sourceStartSample, sampleRateHz), timelineEnd16k());
      runInputSamples = 0;
      runOutputSamples = 0;
      planner.startRun(runStart16k, external);
      return;
    }
    resampler.reset();
    // Rounding both run ends to 16 kHz could place a run one sample before the previous run's end.
    long start16k = Math.max(Resampler.outputLength(sourceStartSample, sampleRateHz), timelineEnd16k());
    if (planner != null) {
      planner.startRun(start16k, external);
    } else {
      segmenter.startRun(start16k, collector);
    }
  }

  private void endRun() {
    if (sourceBlocks) {
      if (planner.isRunOpen()) {
        advance(Resampler.outputLength(runInputSamples, sampleRateHz));
        planner.endRun(external);
      }
      return;
    }
    if (planner != null ? planner.isRunOpen() : segmenter.isRunOpen()) {
      resampler.flush(toSegmenter);
      if (planner != null) {
        planner.endRun(external);
      } else {
        segmenter.endRun(collector);
      }
    }
  }

  /** Source-rate mode: the samples go to the listener as they are; the planner learns the 16 kHz count. */
  private void acceptSource(float[] samples, int offset, int length) {
    if (length == 0) {
      return;
    }
    ((SourceListener) external).sourceBlock(runStart16k, runStartSource, runInputSamples, samples, offset, length);
    runInputSamples += length;
    advance(Resampler.readyOutputs(runInputSamples, sampleRateHz));
  }

  private void advance(long outputsNow) {
    long n = outputsNow - runOutputSamples;
    runOutputSamples = outputsNow;
    while (n > 0) {
      int step = (int) Math.min(n, Integer.MAX_VALUE);
      planner.advance(step, external);
      n -= step;
    }
  }

  private void segment(float[] samples, int offset, int length) {
    if (planner != null) {
      planner.append(samples, offset, length, external);
    } else {
      segmenter.accept(samples, offset, length, collector);
    }
  }

  private void collect(AudioWindow w) {
    if (collected == null) {
      collected = new ArrayList<>(2);
    }
    collected.add(w);
  }

  private List<AudioWindow> drainCollected() {
    List<AudioWindow> out = collected == null ? List.of() : collected;
    collected = null;
    return out;
  }

  // ---------------------------------------------------------------------------------------------

  public Encoding encoding() {
    return encoding;
  }

  /** The source sample rate, Hz. */
  public int sampleRateHz() {
    return sampleRateHz;
  }

  public FrontEndConfig config() {
    return config;
  }

  /** Whether {@link #finish()} was called. */
  public boolean isFinished() {
    return finished;
  }

  /** A snapshot of the counters. */
  public FrontEndCounters counters() {
    return new FrontEndCounters(
        assembler.chunks(),
        assembler.samples(),
        assembler.duplicateChunks(),
        assembler.lateChunks(),
        assembler.lateSamples(),
        assembler.overlapSamples(),
        assembler.gapsFilled(),
        assembler.gapFilledSamples(),
        assembler.longGaps(),
        assembler.runs(),
        planner != null ? planner.samples() : segmenter.samples(),
        planner != null ? planner.windows() : segmenter.windows(),
        planner != null ? planner.partialWindows() : segmenter.partialWindows(),
        planner != null ? planner.droppedTailSamples() : segmenter.droppedTailSamples());
  }

  /** End of the 16 kHz audio produced so far, samples on the call's timeline. */
  public long timelineEnd16k() {
    return planner != null ? planner.timelineEnd() : segmenter.timelineEnd();
  }

  /**
   * Positional mode: start of the next window, samples at 16 kHz; audio before it is only needed by
   * windows already reported.
   */
  public long nextWindowStart16k() {
    if (planner == null) {
      throw new IllegalStateException("not a positional front end");
    }
    return planner.nextWindowStart();
  }

  /**
   * Serialises the whole state (format version {@value #STATE_VERSION}); {@link #fromBytes} continues bit-identically. The
   * blob carries the settings, so a restored front end keeps the settings it started with.
   */
  public byte[] toBytes() {
    StateWriter w = StateWriter.scratch();
    w.header(STATE_KIND, sourceBlocks ? SOURCE_STATE_VERSION : STATE_VERSION)
        .writeByte(encoding.code())
        .writeInt(sampleRateHz)
        .writeInt(config.maxPayloadBytes())
        .writeInt(config.reorderLatenessMs())
        .writeInt(config.maxGapFillMs())
        .writeInt(config.timestampToleranceMs())
        .writeInt(config.windowMs())
        .writeInt(config.hopMs())
        .writeInt(config.minFinalWindowMs())
        .writeBoolean(finished);
    assembler.writeTo(w);
    if (sourceBlocks) {
      w.writeLong(runStartSource).writeLong(runStart16k).writeLong(runInputSamples).writeLong(runOutputSamples);
      planner.writeTo(w);
      return w.toByteArray();
    }
    resampler.writeTo(w);
    w.writeBoolean(planner != null);
    if (planner != null) {
      planner.writeTo(w);
    } else {
      segmenter.writeTo(w);
    }
    return w.toByteArray();
  }

  /**
   * Restores a front end written by {@link #toBytes()}.
   *
   * @throws AudioStateException if the blob is not a front-end state of version {@value #STATE_VERSION}, is truncated or
   *     inconsistent, or was written by a build with a different resampler design
   */
  public static ChannelFrontEnd fromBytes(byte[] state) {
    boolean source = state != null && state.length >= 4 && state[3] == SOURCE_STATE_VERSION;
    StateReader r = StateReader.of(state, "front-end state")
        .header(STATE_KIND, source ? SOURCE_STATE_VERSION : STATE_VERSION, "front-end state");
    Encoding enc = Encoding.fromCode(r.readByte());
    int rate = r.readInt("sample rate (Hz)", Resampler.MIN_INPUT_RATE_HZ, Resampler.MAX_INPUT_RATE_HZ);
    FrontEndConfig cfg;
    try {
      cfg = new FrontEndConfig(r.readInt(), r.readInt(), r.readInt(), r.readInt(), r.readInt(), r.readInt(), r.readInt());
    } catch (IllegalArgumentException e) {
      throw new AudioStateException("corrupt front-end state: " + e.getMessage());
    }
    boolean fin = r.readBoolean();
    CallAssembler a = CallAssembler.readFrom(r);
    if (source) {
      return readSourceMode(r, enc, rate, cfg, fin, a);
    }
    Resampler res = Resampler.readFrom(r);
    boolean positional = r.readBoolean();
    Segmenter s = positional ? null : Segmenter.readFrom(r);
    WindowPlanner p = positional ? WindowPlanner.readFrom(r) : null;
    r.end();
    r.require(a.sampleRateHz() == rate && res.inputRateHz() == rate, "stage rates differ from " + rate + " Hz");
    int w = positional ? p.windowSamples() : s.windowSamples();
    int h = positional ? p.hopSamples() : s.hopSamples();
    int m = positional ? p.minFinalSamples() : s.minFinalSamples();
    r.require(
        w == cfg.windowSamples() && h == cfg.hopSamples() && m == cfg.minFinalWindowSamples(),
        "windowing settings differ from the stored configuration");
    ChannelFrontEnd fe = new ChannelFrontEnd(enc, rate, cfg, a, res, s, p);
    fe.finished = fin;
    return fe;
  }

  /** The rest of a version-3 (source-rate mode) state, after the assembler's. */
  private static ChannelFrontEnd readSourceMode(StateReader r, Encoding enc, int rate, FrontEndConfig cfg, boolean fin, CallAssembler a) {
    long runSource = r.readLong("run start (source samples)", 0, Long.MAX_VALUE / 4);
    long run16k = r.readLong("run start (16 kHz samples)", 0, Long.MAX_VALUE / 4);
    long in = r.readLong("run input samples", 0, Long.MAX_VALUE / 4);
    long out = r.readLong("run output samples", 0, Long.MAX_VALUE / 4);
    WindowPlanner p = WindowPlanner.readFrom(r);
    r.end();
    r.require(a.sampleRateHz() == rate, "assembler rate differs from " + rate + " Hz");
    r.require(
        p.windowSamples() == cfg.windowSamples() && p.hopSamples() == cfg.hopSamples() && p.minFinalSamples() == cfg.minFinalWindowSamples(),
        "windowing settings differ from the stored configuration");
    if (p.isRunOpen()) {
      r.require(
          out == Resampler.readyOutputs(in, rate),
          "run output count " + out + " does not match its " + in + " input samples (expected " + Resampler.readyOutputs(in, rate) + ")");
      r.require(p.timelineEnd() == run16k + out, "planner at " + p.timelineEnd() + ", run ends at " + (run16k + out));
    }
    ChannelFrontEnd fe = new ChannelFrontEnd(enc, rate, cfg, a, null, null, p);
    fe.runStartSource = runSource;
    fe.runStart16k = run16k;
    fe.runInputSamples = in;
    fe.runOutputSamples = out;
    fe.finished = fin;
    return fe;
  }
}
