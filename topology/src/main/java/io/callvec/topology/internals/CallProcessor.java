package io.callvec.topology.internals;

import io.callvec.audio.AudioFormatException;
import io.callvec.audio.ChannelFrontEnd;
import io.callvec.audio.Encoding;
import io.callvec.audio.FrontEndCounters;
import io.callvec.model.batch.PoisonWindowException;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.CallEndReason;
import io.callvec.schemas.Channel;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.topology.CallvecTopology;
import io.callvec.topology.Output;
import io.callvec.topology.SpeechDetection;
import io.callvec.topology.TopologyMetrics;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.ChunkMapping;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heart of callvec: per call × channel, chunks in, segment and call embeddings out.
 *
 * <h2>Exactly once with asynchronous inference</h2>
 *
 * A window is cut while processing the chunk that completes it. Its coordinates go into the
 * changelogged pending store and its audio stays in the block store; both writes belong to the
 * transaction that consumes the chunk. The window is then submitted to the shared micro-batcher.
 * Results come back on batcher threads into this task's completion queue, which the stream thread
 * drains (after each record and on a wall-clock punctuator): the segment record is forwarded and the
 * pending entry deleted, in the same transaction. So, whatever crashes when:
 *
 * <ul>
 *   <li>a window whose chunk was not committed is cut again when the chunk is reprocessed;
 *   <li>a window committed as pending but not yet emitted is resubmitted from the pending store
 *       when the task is initialised (on this or another instance);
 *   <li>an emitted segment's transaction commits the deletion of its pending entry with it, so it is
 *       never emitted twice; an aborted one leaves the entry pending.
 * </ul>
 *
 * <p>A window the model fails on alone while it embeds others (a {@code PoisonWindowException}
 * from the batcher, which splits a failed batch to find it) is dead-lettered with its coordinates
 * and counted in the call's {@code failedSegments}. Any other inference failure (an outage, after
 * the batcher's retries) stops the stream thread with a {@link StreamsException}: nothing is
 * committed for it and it is never dropped.
 *
 * <h2>The parts, in the order a chunk meets them</h2>
 *
 * {@link ChunkIntake} (checks without state), the front end and {@code BlockWriter} (audio blocks,
 * windows cut and made durable as pending), {@link WindowDispatch} (to the batcher without waiting
 * for room, and back), {@link Emission} (the segment and call embedding records), {@link
 * StreamEnding} (when an end-of-stream chunk closes its stream: at once, or after its missing
 * chunks or the reorder lateness), {@link IdleReaper} (streams whose input went quiet, ending
 * streams whose wait is over), {@link DeadLetters}.
 *
 * <h2>State per open call × channel</h2>
 *
 * {@link ChannelState} (small), audio blocks from the oldest pending window to the newest sample
 * (about one window plus pending windows), pending window coordinates, a time-index entry. After the
 * call embedding is emitted all of it is deleted, and a small "ended" marker rejects late chunks for
 * {@link TopologySettings#endedRetentionMs()}.
 */
public final class CallProcessor implements Processor<String, AudioChunk, String, Output> {
  private static final Logger log = LoggerFactory.getLogger(CallProcessor.class);

  /** DLQ header names. */
  public static final String HEADER_REASON = DeadLetters.HEADER_REASON;

  public static final String HEADER_DETAIL = DeadLetters.HEADER_DETAIL;
  public static final String HEADER_SOURCE = DeadLetters.HEADER_SOURCE;

  /**
   * System property: when {@code true}, streams started by this instance keep their audio as 16 kHz
   * float blocks, resampled chunk by chunk, as the previous version did (see {@link AudioBlocks}):
   * a reference mode for tests and benchmarks; the default keeps the audio as received.
   */
  public static final String REFERENCE_BLOCKS_PROPERTY = "callvec.blocks.reference16k";

  /** Whether new streams use the 16 kHz float layout ({@link #REFERENCE_BLOCKS_PROPERTY}). */
  private final boolean float16kBlocks = Boolean.getBoolean(REFERENCE_BLOCKS_PROPERTY);

  private final TopologySettings settings;
  private final WriteDownCountingStore.Registry blockWriteDowns;
  private final InferenceClient inference;
  private final TopologyMetrics metrics;

  private ProcessorContext<String, Output> context;
  private KeyValueStore<Bytes, byte[]> channels;
  private AudioBlocks blocks;
  private KeyValueStore<Bytes, byte[]> pending;
  /** The channels' running vector sums (in the pending store), written when a segment is pooled. */
  private CallSums sums;
  private KeyValueStore<Bytes, Long> ended;
  private TimeIndex timeIndex;
  /** The task's windows on their way to the batcher and back. */
  private final WindowDispatch dispatch;
  /** Ends streams whose input has gone quiet. */
  private final IdleReaper reaper;
  private DeadLetters deadLetters;
  /** Entries of this task's channel store, counted into {@link TopologyMetrics#openStreams(long)}. */
  private long openStreamsHere;
  /** The output records: segments and call embeddings. */
  private Emission emission;
  /** Voice activity detection: which windows go to the model, and their speech samples. */
  private final SpeechGate gate;
  /** When an end-of-stream chunk closes its stream (at once, or after the missing chunks or the reorder lateness). */
  private final StreamEnding ending;
  /** Front ends of recent streams, reused while the stored state is what they saved. */
  private final FrontEnds frontEnds = new FrontEnds();

  public CallProcessor(TopologySettings settings, InferenceClient inference, TopologyMetrics metrics) {
    this(settings, inference, metrics, SpeechDetection.off());
  }

  /** With voice activity detection as {@code speech} says ({@link SpeechGate}). */
  public CallProcessor(TopologySettings settings, InferenceClient inference, TopologyMetrics metrics, SpeechDetection speech) {
    this(settings, inference, metrics, speech, new WriteDownCountingStore.Registry());
  }

  /**
   * With the block store's write-down counts in {@code blockWriteDowns} (a block store built by
   * {@link WriteDownCountingStore#persistent} with the same registry lets a stream append its chunks
   * to one block per commit interval; without, every chunk's audio is a block of its own).
   */
  public CallProcessor(TopologySettings settings, InferenceClient inference, TopologyMetrics metrics, SpeechDetection speech,
      WriteDownCountingStore.Registry blockWriteDowns) {
    this.blockWriteDowns = blockWriteDowns;
    this.settings = settings;
    this.inference = inference;
    this.metrics = metrics;
    this.dispatch = new WindowDispatch(inference, metrics);
    this.reaper = new IdleReaper(settings, metrics);
    this.gate = new SpeechGate(speech, metrics, settings.frontEnd().hopSamples());
    this.ending = new StreamEnding(settings.frontEnd().reorderLatenessMs());
  }

  @Override
  public void init(ProcessorContext<String, Output> context) {
    this.context = context;
    frontEnds.clear();
    this.channels = context.getStateStore(CallvecTopology.CHANNEL_STORE);
    this.blocks = new AudioBlocks(context.getStateStore(CallvecTopology.BLOCK_STORE), blockWriteDowns.writeDowns(context.taskId()));
    this.pending = context.getStateStore(CallvecTopology.PENDING_STORE);
    this.sums = new CallSums(pending);
    this.ended = context.getStateStore(CallvecTopology.ENDED_STORE);
    this.timeIndex = new TimeIndex(context.getStateStore(CallvecTopology.TIME_INDEX_STORE));
    ending.init(timeIndex);
    gate.init(context.getStateStore(CallvecTopology.VAD_STORE));
    this.deadLetters = new DeadLetters(context, metrics);
    reaper.init(context, channels, ended, timeIndex);
    dispatch.open(context.taskId().toString(), this::readPendingWindow);
    this.emission = new Emission(context, inference.modelInfo());
    context.schedule(Duration.ofMillis(settings.completionPollMs()), PunctuationType.WALL_CLOCK_TIME, now -> pollInference());
    context.schedule(Duration.ofMillis(settings.idleScanIntervalMs()), PunctuationType.WALL_CLOCK_TIME, this::scanIdle);
    if (ending.waitMs() > 0) {
      context.schedule(Duration.ofMillis(ending.scanIntervalMs()), PunctuationType.WALL_CLOCK_TIME, now -> scanEndWaits());
    }
    long open = 0;
    try (KeyValueIterator<Bytes, byte[]> it = channels.all()) {
      while (it.hasNext()) {
        it.next();
        open++;
      }
    }
    metrics.openStreams(open - openStreamsHere);
    openStreamsHere = open;
    resubmitPending();
  }

  // ---------------------------------------------------------------- input

  @Override
  public void process(Record<String, AudioChunk> record) {
    reaper.inputSeen();
    try {
      ChunkIntake.validate(record, settings);
      handle(record);
    } catch (InvalidChunkException e) {
      deadLetters.chunk(record, e.reason, e.getMessage());
    }
    pollInference();
  }

  /** The completion punctuator's work, also done after every record: deferred windows in, results out. */
  private void pollInference() {
    dispatch.drainBacklog();
    drainCompletions();
  }

  /** A chunk that passed {@link ChunkIntake}: through the stream's front end, its audio into blocks, windows cut. */
  private void handle(Record<String, AudioChunk> record) throws InvalidChunkException {
    AudioChunk chunk = record.value();
    String callId = chunk.getCallId();
    Channel channel = chunk.getChannel();
    int payloadBytes = ChunkIntake.payloadBytes(chunk);

    byte[] prefix = StoreKeys.channelPrefix(callId, channel.getIndex());
    Bytes channelKey = Bytes.wrap(prefix);
    byte[] stored = channels.get(channelKey);
    // The end marker is written when the state is marked ended (endChannel); the state goes when its
    // last pending window is emitted, the marker later. So a stored state answers for itself and only
    // a stream without one needs the marker looked up.
    if (stored == null && ended.get(channelKey) != null) {
      throw afterEnd(callId, channel);
    }

    ChannelState state;
    ChannelFrontEnd frontEnd;
    Encoding encoding;
    try {
      encoding = ChunkMapping.frontEndEncoding(chunk.getEncoding());
    } catch (AudioFormatException e) {
      throw new InvalidChunkException(ChunkIntake.reasonOf(e.reason()), e.getMessage());
    }
    try {
      if (stored == null) {
        frontEnd = float16kBlocks
            ? ChannelFrontEnd.createPositional(encoding, chunk.getSampleRateHz(), settings.frontEnd())
            : ChannelFrontEnd.createSourceBlocks(encoding, chunk.getSampleRateHz(), settings.frontEnd());
        state = new ChannelState();
        state.channelName = channel.getName() == null ? "" : channel.getName();
        state.encodingOrdinal = chunk.getEncoding().ordinal();
        state.sampleRateHz = chunk.getSampleRateHz();
      } else {
        FrontEnds.Entry kept = frontEnds.takeIfSame(channelKey, stored);
        state = kept != null ? kept.channel() : ChannelState.fromBytes(stored);
        if (state.isEnded()) {
          throw afterEnd(callId, channel);
        }
        if (state.encodingOrdinal != chunk.getEncoding().ordinal() || state.sampleRateHz != chunk.getSampleRateHz()) {
          throw new InvalidChunkException(DeadLetterReason.FORMAT_CHANGED, "stream started as " + AudioEncoding.values()[state.encodingOrdinal]
              + " at " + state.sampleRateHz + " Hz, chunk is " + chunk.getEncoding() + " at " + chunk.getSampleRateHz() + " Hz");
        }
        sums.adopt(prefix, state); // a sum written inline by the previous version moves out of the per-chunk state
        StreamEnding.admit(state, callId + "/" + channel.getIndex(), chunk.getSequenceNumber());
        frontEnd = kept != null ? kept.frontEnd() : frontEnds.take(channelKey, state.frontEnd);
      }

      long recordTs = record.timestamp();
      BlockWriter writer = new BlockWriter(prefix, state, encoding, recordTs);
      boolean newRun = false;
      if (payloadBytes > 0) {
        byte[] payload = ChunkMapping.payloadBytes(chunk);
        FrontEndCounters before = frontEnd.counters();
        frontEnd.accept(chunk.getSequenceNumber(), chunk.getMediaTimestampMs(), payload, writer);
        FrontEndCounters after = frontEnd.counters();
        metrics.gapFilled((after.gapFilledSamples() - before.gapFilledSamples()) * 16_000L / chunk.getSampleRateHz());
        metrics.newRuns(after.longGaps() - before.longGaps());
        newRun = after.runs() > before.runs();
        if (after.duplicateChunks() > before.duplicateChunks()) {
          metrics.chunk("duplicate");
          throw new InvalidChunkException(DeadLetterReason.DUPLICATE, "duplicate of an accepted chunk (sequence " + chunk.getSequenceNumber() + ")");
        }
        if (after.lateChunks() > before.lateChunks()) {
          metrics.chunk("late");
          throw new InvalidChunkException(DeadLetterReason.TOO_LATE, "chunk at " + chunk.getMediaTimestampMs()
              + " ms arrived after its position was emitted (reorder lateness " + settings.frontEnd().reorderLatenessMs() + " ms)");
        }
        state.firstChunkTimestampMs = Math.min(state.firstChunkTimestampMs, recordTs);
        state.lastChunkTimestampMs = Math.max(state.lastChunkTimestampMs, recordTs);
      }
      metrics.chunk("accepted");
      StreamEnding.accepted(state, chunk.getSequenceNumber());
      if (stored == null) {
        metrics.channelStarted();
        openStreamsHere++;
        metrics.openStreams(1);
      }
      long input = reaper.inputClockMs();
      if (ending.closesNow(prefix, state, chunk.getSequenceNumber(), chunk.getEndOfStream(), input)) {
        endChannel(prefix, state, frontEnd, writer, CallEndReason.END_OF_STREAM);
      } else {
        state.frontEnd = frontEnd.toBytes();
        state.nextWindowStart = frontEnd.nextWindowStart16k();
        if (newRun) {
          pruneBlocks(prefix, state); // a run ended: its audio no window took is dropped (runs shorter than a window included)
        }
        timeIndex.move(TimeIndex.LAST_SEEN, prefix, state.lastSeenInputMs == ChannelState.NEVER ? null : state.lastSeenInputMs, input);
        state.lastSeenInputMs = input;
        byte[] written = state.toBytes();
        channels.put(channelKey, written);
        frontEnds.keep(channelKey, frontEnd, state.frontEnd, state, written);
      }
    } catch (AudioFormatException e) {
      throw new InvalidChunkException(ChunkIntake.reasonOf(e.reason()), e.getMessage());
    }
  }

  private static InvalidChunkException afterEnd(String callId, Channel channel) {
    return new InvalidChunkException(DeadLetterReason.CHUNK_AFTER_END, "stream " + callId + "/" + channel.getIndex() + " has already ended");
  }

  /** Writes front-end output to the block store ({@link AudioBlocks}, either layout) and cuts windows. */
  private final class BlockWriter implements ChannelFrontEnd.SourceListener {
    private final byte[] prefix;
    private final ChannelState state;
    private final Encoding encoding;
    private final long recordTs;

    BlockWriter(byte[] prefix, ChannelState state, Encoding encoding, long recordTs) {
      this.prefix = prefix;
      this.state = state;
      this.encoding = encoding;
      this.recordTs = recordTs;
    }

    @Override
    public void block(long startSample, float[] samples, int offset, int length) {
      blocks.writeFloat16k(prefix, startSample, recordTs, samples, offset, length);
    }

    @Override
    public void sourceBlock(long runStart16k, long runStartSource, long runOffset, float[] samples, int offset, int length) {
      blocks.writeSource(prefix, encoding, state.sampleRateHz, runStart16k, runStartSource, runOffset, recordTs, samples, offset, length);
    }

    @Override
    public void window(long index, long startSample, int lengthSamples, boolean partial) {
      PendingWindow w = new PendingWindow((int) index, startSample, lengthSamples);
      float[] audio = readWindow(prefix, w);
      Bytes key = StoreKeys.withLong(prefix, index);
      SpeechGate.Decision speech = gate.window(prefix, key, startSample, audio);
      if (speech.skip()) {
        emitSkipped(prefix, state, w, speech.speechSamples16k());
        return;
      }
      pending.put(key, w.toBytes());
      state.pendingWindows++;
      dispatch.submit(key, windowId(prefix, w), audio);
    }
  }

  // ---------------------------------------------------------------- inference

  /** A window's identity in the batcher's logs and errors: {@code <call id>/<channel>/<segment index>}. */
  private static String windowId(byte[] prefix, PendingWindow w) {
    return StoreKeys.callId(prefix) + "/" + StoreKeys.channelIndex(prefix) + "/" + w.segmentIndex();
  }

  /** The audio of the window pending under {@code pendingKey}, for a deferred submission. */
  private float[] readPendingWindow(Bytes pendingKey) {
    byte[] stored = pending.get(pendingKey);
    if (stored == null) {
      throw new IllegalStateException("deferred window without a pending entry: " + StoreKeys.callId(StoreKeys.prefixOf(pendingKey.get())));
    }
    return readWindow(StoreKeys.prefixOf(pendingKey.get()), PendingWindow.fromBytes(stored));
  }

  /** The window's 16 kHz audio, from the block store. */
  private float[] readWindow(byte[] prefix, PendingWindow w) {
    return blocks.readWindow(prefix, w);
  }

  private void resubmitPending() {
    List<KeyValue<Bytes, byte[]>> all = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = pending.all()) {
      it.forEachRemaining(all::add);
    }
    all.removeIf(kv -> CallSums.isSumKey(kv.key));
    for (KeyValue<Bytes, byte[]> kv : all) {
      byte[] prefix = StoreKeys.prefixOf(kv.key.get());
      PendingWindow w = PendingWindow.fromBytes(kv.value);
      dispatch.submit(kv.key, windowId(prefix, w), readWindow(prefix, w));
    }
    if (!all.isEmpty()) {
      log.info("task {}: resubmitted {} windows that were pending inference", context.taskId(), all.size());
      metrics.resubmitted(all.size());
    }
  }

  /** Forwards finished inferences; runs on the stream thread only. */
  private void drainCompletions() {
    WindowDispatch.Completion c;
    while ((c = dispatch.poll()) != null) {
      byte[] pendingBytes = pending.get(c.pendingKey());
      if (pendingBytes == null) {
        continue; // already emitted (a stale duplicate) or the channel was dropped
      }
      byte[] prefix = StoreKeys.prefixOf(c.pendingKey().get());
      PendingWindow w = PendingWindow.fromBytes(pendingBytes);
      if (c.error() != null) {
        Throwable cause = WindowDispatch.unwrap(c.error());
        if (cause instanceof CancellationException) {
          continue; // withdrawn (task closing): stays pending for the next owner
        }
        if (cause instanceof PoisonWindowException poison) {
          poisonWindow(prefix, c.pendingKey(), w, poison);
          continue;
        }
        throw new StreamsException("inference failed for window " + w.segmentIndex() + " of call " + StoreKeys.callId(prefix)
            + " channel " + StoreKeys.channelIndex(prefix) + ": " + cause + " — stopping without committing it", cause);
      }
      emitSegment(prefix, c.pendingKey(), w, c.vector());
    }
  }

  private void emitSegment(byte[] prefix, Bytes pendingKey, PendingWindow w, float[] vector) {
    Bytes channelKey = Bytes.wrap(prefix);
    byte[] stored = channels.get(channelKey);
    if (stored == null) {
      throw new IllegalStateException("pending window without channel state: " + StoreKeys.callId(prefix));
    }
    ChannelState state = ChannelState.fromBytes(stored);
    sums.adopt(prefix, state);
    long now = context.currentSystemTimeMs();
    String callId = StoreKeys.callId(prefix);
    int channelIndex = StoreKeys.channelIndex(prefix);
    long start = w.startSample();
    long end = start + w.lengthSamples();
    SegmentEmbedding seg = emission.segment(prefix, state.channelName, w, gate.speechSamples(pendingKey), vector, null, now);
    pending.delete(pendingKey);
    gate.emitted(pendingKey);
    metrics.segmentEmitted(now - w.lastChunkTimestampMs());

    double[] sum = sums.read(prefix);
    if (sum == null) {
      sum = new double[vector.length];
    } else if (sum.length != vector.length) {
      throw new IllegalStateException("segment " + w.segmentIndex() + " of " + callId + "/" + channelIndex + " has dimension "
          + vector.length + ", the call's earlier segments " + sum.length);
    }
    long weight = gate.weight(seg.getSpeechSamples16k(), w.lengthSamples());
    for (int i = 0; i < vector.length; i++) {
      sum[i] += weight * (double) vector[i];
    }
    state.weightSamples += weight;
    state.embeddedSegments++;
    state.pendingWindows--;
    state.firstSegmentStart = state.firstSegmentStart < 0 ? start : Math.min(state.firstSegmentStart, start);
    state.lastSegmentEnd = Math.max(state.lastSegmentEnd, end);

    if (state.isEnded() && state.pendingWindows == 0) {
      emitCallAndDelete(prefix, state, sum, now);
    } else {
      sums.write(prefix, sum);
      pruneBlocks(prefix, state);
      channels.put(channelKey, state.toBytes());
    }
  }

  /**
   * A window the VAD found with too little speech ({@link SpeechGate}): its segment record goes out
   * now, without a vector ({@code dimension} 0, empty {@code vector}, {@code skipped} says why), in
   * the transaction of the chunk that cut it; it is not pooled, and the blocks before it are pruned.
   */
  private void emitSkipped(byte[] prefix, ChannelState state, PendingWindow w, long speechSamples16k) {
    emission.segment(prefix, state.channelName, w, speechSamples16k, null, SpeechGate.SKIPPED_BELOW_MIN_SPEECH, context.currentSystemTimeMs());
    pruneBlocks(prefix, state);
  }

  /**
   * A window the model failed on alone while it embedded others ({@link PoisonWindowException}):
   * dead-lettered with its coordinates, counted in the call's {@code failedSegments}, not pooled;
   * the stream goes on.
   */
  private void poisonWindow(byte[] prefix, Bytes pendingKey, PendingWindow w, PoisonWindowException poison) {
    Bytes channelKey = Bytes.wrap(prefix);
    byte[] stored = channels.get(channelKey);
    if (stored == null) {
      throw new IllegalStateException("pending window without channel state: " + StoreKeys.callId(prefix));
    }
    ChannelState state = ChannelState.fromBytes(stored);
    sums.adopt(prefix, state);
    String callId = StoreKeys.callId(prefix);
    Channel channel = new Channel(StoreKeys.channelIndex(prefix), state.channelName);
    Throwable cause = poison.getCause() == null ? poison : poison.getCause();
    log.warn("poison window {} of {}/{}: dead-lettered, the stream goes on: {}", w.segmentIndex(), callId, channel.getIndex(), cause.toString());
    deadLetters.poisonWindow(callId, channel, AudioEncoding.values()[state.encodingOrdinal], state.sampleRateHz, w, cause.toString());
    pending.delete(pendingKey);
    gate.emitted(pendingKey);
    state.pendingWindows--;
    state.failedSegments++;
    if (state.isEnded() && state.pendingWindows == 0) {
      emitCallAndDelete(prefix, state, sums.read(prefix), context.currentSystemTimeMs());
    } else {
      pruneBlocks(prefix, state);
      channels.put(channelKey, state.toBytes());
    }
  }

  /** Deletes audio blocks that no pending or future window needs. */
  private void pruneBlocks(byte[] prefix, ChannelState state) {
    long keepFrom = state.nextWindowStart;
    try (KeyValueIterator<Bytes, byte[]> it = pending.range(StoreKeys.withLong(prefix, 0), StoreKeys.withLong(prefix, Long.MAX_VALUE))) {
      if (it.hasNext()) {
        keepFrom = Math.min(keepFrom, PendingWindow.fromBytes(it.next().value).startSample());
      }
    }
    blocks.prune(prefix, keepFrom);
  }

  // ---------------------------------------------------------------- end of call

  private void endChannel(byte[] prefix, ChannelState state, ChannelFrontEnd frontEnd, BlockWriter writer, CallEndReason reason) {
    frontEnds.forget(Bytes.wrap(prefix));
    sums.adopt(prefix, state);
    ending.closing(prefix, state);
    frontEnd.finish(writer);
    state.frontEnd = new byte[0];
    state.nextWindowStart = frontEnd.timelineEnd16k();
    state.endReason = reason.ordinal() + 1;
    Bytes channelKey = Bytes.wrap(prefix);
    if (state.lastSeenInputMs != ChannelState.NEVER) {
      timeIndex.remove(TimeIndex.LAST_SEEN, prefix, state.lastSeenInputMs);
    }
    long now = context.currentSystemTimeMs();
    ended.put(channelKey, now);
    timeIndex.add(TimeIndex.ENDED, prefix, now);
    metrics.channelEnded(reason.name());
    if (state.pendingWindows == 0) {
      emitCallAndDelete(prefix, state, sums.read(prefix), context.currentSystemTimeMs());
    } else {
      channels.put(channelKey, state.toBytes());
    }
  }

  /**
   * Emits the call embedding (the mean of {@code sum}, the channel's running vector sum, null
   * without pooled segments) and deletes the channel's state, blocks, pending entries and sum.
   */
  private void emitCallAndDelete(byte[] prefix, ChannelState state, double[] sum, long now) {
    if (state.embeddedSegments > 0) {
      emission.call(prefix, state, sum, gate.callWeighting(), gate.skippedSegments(prefix), now);
      metrics.callEmitted();
    } else {
      metrics.callWithoutSegments();
    }
    Bytes channelKey = Bytes.wrap(prefix);
    blocks.deleteAll(prefix);
    StoreKeys.deleteBelow(pending, prefix, Long.MAX_VALUE); // pending windows and the vector sum (CallSums.KEY_INDEX)
    gate.delete(prefix);
    channels.delete(channelKey);
    openStreamsHere--;
    metrics.openStreams(-1);
  }

  /** Key of call-embedding records: unique per call × channel, so that a compacted topic keeps every channel. */
  public static String callKey(String callId, int channelIndex) {
    return callId + "|" + channelIndex;
  }

  /**
   * The idle punctuator: {@link IdleReaper} ends the streams whose input has gone quiet (an ending
   * stream, whose end-of-stream chunk came, as {@code END_OF_STREAM}).
   */
  private void scanIdle(long nowMs) {
    reaper.scan(nowMs, (prefix, state) -> endWithoutChunk(prefix, state, state.isEnding() ? CallEndReason.END_OF_STREAM : CallEndReason.IDLE_TIMEOUT));
    pollInference();
  }

  /** The end-of-stream wait punctuator: closes the ending streams whose wait for missing chunks is over ({@link StreamEnding}). */
  private void scanEndWaits() {
    reaper.scanEndWaits(ending, (prefix, state) -> endWithoutChunk(prefix, state, CallEndReason.END_OF_STREAM));
    pollInference();
  }

  /** Ends a stream from a punctuator: its front end's buffered audio is flushed and its last windows cut. */
  private void endWithoutChunk(byte[] prefix, ChannelState state, CallEndReason reason) {
    ChannelFrontEnd frontEnd = ChannelFrontEnd.fromBytes(state.frontEnd);
    endChannel(prefix, state, frontEnd, new BlockWriter(prefix, state, frontEnd.encoding(), state.lastChunkTimestampMs), reason);
  }

  @Override
  public void close() {
    // Queued windows are withdrawn from the batcher; windows already running complete into a queue
    // nobody drains. All stay pending in the store and are resubmitted by whichever instance
    // initialises this task next.
    dispatch.close();
    if (context != null) {
      log.debug("task {} closing: front ends reused for {} chunks ({} with their channel state), rebuilt for {}",
          context.taskId(), frontEnds.hits(), frontEnds.channelHits(), frontEnds.misses());
    }
    frontEnds.clear();
    if (blocks != null) {
      blocks.clear();
    }
    metrics.openStreams(-openStreamsHere);
    openStreamsHere = 0;
  }
}
