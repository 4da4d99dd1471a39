package io.callvec.topology.internals;

import io.callvec.audio.AudioFormatException;
import io.callvec.audio.ChannelFrontEnd;
import io.callvec.audio.Encoding;
import io.callvec.audio.FrontEndCounters;
import io.callvec.audio.WindowPlanner;
import io.callvec.model.ModelInfo;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.CallEndReason;
import io.callvec.schemas.Channel;
import io.callvec.schemas.ModelProvenance;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import io.callvec.topology.CallvecTopology;
import io.callvec.topology.Output;
import io.callvec.topology.TopologyMetrics;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.ChunkMapping;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.common.header.internals.RecordHeaders;
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
 * <p>A window whose inference fails permanently (after the batcher's retries) stops the stream
 * thread with a {@link StreamsException}: nothing is committed for it and it is never dropped.
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
  public static final String HEADER_REASON = "callvec.dlq.reason";

  public static final String HEADER_DETAIL = "callvec.dlq.detail";
  public static final String HEADER_SOURCE = "callvec.dlq.source";

  private static final int BLOCK_HEADER_BYTES = 8;

  private final TopologySettings settings;
  private final InferenceClient inference;
  private final TopologyMetrics metrics;

  private ProcessorContext<String, Output> context;
  private KeyValueStore<Bytes, byte[]> channels;
  private KeyValueStore<Bytes, byte[]> blocks;
  private KeyValueStore<Bytes, byte[]> pending;
  private KeyValueStore<Bytes, Long> ended;
  private TimeIndex timeIndex;
  /** Results of this task's windows; replaced on every init so stale results of a closed run are dropped. */
  private ConcurrentLinkedQueue<Completion> completions = new ConcurrentLinkedQueue<>();
  private ModelInfo modelInfo;
  /** Entries of this task's channel store, counted into {@link TopologyMetrics#openStreams(long)}. */
  private long openStreamsHere;
  private ModelProvenance provenance;

  public CallProcessor(TopologySettings settings, InferenceClient inference, TopologyMetrics metrics) {
    this.settings = settings;
    this.inference = inference;
    this.metrics = metrics;
  }

  private record Completion(Bytes pendingKey, float[] vector, Throwable error) {}

  @Override
  public void init(ProcessorContext<String, Output> context) {
    this.context = context;
    this.channels = context.getStateStore(CallvecTopology.CHANNEL_STORE);
    this.blocks = context.getStateStore(CallvecTopology.BLOCK_STORE);
    this.pending = context.getStateStore(CallvecTopology.PENDING_STORE);
    this.ended = context.getStateStore(CallvecTopology.ENDED_STORE);
    this.timeIndex = new TimeIndex(context.getStateStore(CallvecTopology.TIME_INDEX_STORE));
    rebuildTimeIndexIfMissing();
    this.completions = new ConcurrentLinkedQueue<>();
    this.modelInfo = inference.modelInfo();
    this.provenance = new ModelProvenance(modelInfo.modelId(), modelInfo.revision(), modelInfo.contentSha256());
    context.schedule(Duration.ofMillis(settings.completionPollMs()), PunctuationType.WALL_CLOCK_TIME, now -> drainCompletions());
    context.schedule(Duration.ofMillis(settings.idleScanIntervalMs()), PunctuationType.WALL_CLOCK_TIME, this::scanIdle);
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
    try {
      handle(record);
    } catch (InvalidChunkException e) {
      deadLetter(record, e.reason, e.getMessage());
    }
    drainCompletions();
  }

  private void handle(Record<String, AudioChunk> record) throws InvalidChunkException {
    AudioChunk chunk = record.value();
    if (chunk == null) {
      throw new InvalidChunkException(DeadLetterReason.NULL_VALUE, "record has no value (tombstone)");
    }
    if (record.key() == null && !settings.repartitionByCallId()) {
      throw new InvalidChunkException(DeadLetterReason.NULL_KEY,
          "record has no key: chunks must be keyed by call id so a stream stays in one partition (or set callvec.input.repartition=true)");
    }
    String callId = chunk.getCallId();
    if (callId == null || callId.isBlank() || callId.chars().anyMatch(Character::isISOControl)) {
      throw new InvalidChunkException(DeadLetterReason.INVALID_CALL_ID, "call id is empty or has control characters");
    }
    if (callId.length() > TopologySettings.MAX_CALL_ID_CHARS) {
      throw new InvalidChunkException(DeadLetterReason.CALL_ID_TOO_LONG,
          "call id has " + callId.length() + " chars, at most " + TopologySettings.MAX_CALL_ID_CHARS + " accepted");
    }
    if (record.key() != null && !record.key().equals(callId)) {
      // A chunk keyed otherwise may sit in another partition than the rest of its call, where a second
      // task would build a second, partial stream of it: never mix it in.
      throw new InvalidChunkException(DeadLetterReason.KEY_MISMATCH, "record key '" + truncate(record.key(), 100)
          + "' is not the chunk's call id '" + truncate(callId, 100) + "': chunks must be keyed by call id");
    }
    Channel channel = chunk.getChannel();
    if (channel == null || channel.getIndex() < 0 || channel.getIndex() > TopologySettings.MAX_CHANNEL_INDEX) {
      throw new InvalidChunkException(DeadLetterReason.INVALID_CHANNEL,
          "channel index must be 0.." + TopologySettings.MAX_CHANNEL_INDEX + ", got " + (channel == null ? null : channel.getIndex()));
    }
    if (chunk.getSequenceNumber() < 0) {
      throw new InvalidChunkException(DeadLetterReason.INVALID_SEQUENCE, "sequence number " + chunk.getSequenceNumber() + " < 0");
    }
    if (chunk.getMediaTimestampMs() < 0) {
      throw new InvalidChunkException(DeadLetterReason.INVALID_TIMESTAMP, "media timestamp " + chunk.getMediaTimestampMs() + " ms < 0");
    }
    int payloadBytes = chunk.getPayload() == null ? 0 : chunk.getPayload().remaining();
    if (payloadBytes > settings.frontEnd().maxPayloadBytes()) {
      throw new InvalidChunkException(DeadLetterReason.OVERSIZE_PAYLOAD,
          "payload of " + payloadBytes + " bytes exceeds callvec.max.payload.bytes=" + settings.frontEnd().maxPayloadBytes());
    }
    if (payloadBytes == 0 && !chunk.getEndOfStream()) {
      throw new InvalidChunkException(DeadLetterReason.EMPTY_PAYLOAD, "empty payload on a chunk that is not end-of-stream");
    }

    byte[] prefix = StoreKeys.channelPrefix(callId, channel.getIndex());
    Bytes channelKey = Bytes.wrap(prefix);
    if (ended.get(channelKey) != null) {
      throw new InvalidChunkException(DeadLetterReason.CHUNK_AFTER_END, "stream " + callId + "/" + channel.getIndex() + " has already ended");
    }

    byte[] stored = channels.get(channelKey);
    ChannelState state;
    ChannelFrontEnd frontEnd;
    Encoding encoding;
    try {
      encoding = ChunkMapping.frontEndEncoding(chunk.getEncoding());
    } catch (AudioFormatException e) {
      throw new InvalidChunkException(reasonOf(e.reason()), e.getMessage());
    }
    try {
      if (stored == null) {
        frontEnd = ChannelFrontEnd.createPositional(encoding, chunk.getSampleRateHz(), settings.frontEnd());
        state = new ChannelState();
        state.channelName = channel.getName() == null ? "" : channel.getName();
        state.encodingOrdinal = chunk.getEncoding().ordinal();
        state.sampleRateHz = chunk.getSampleRateHz();
      } else {
        state = ChannelState.fromBytes(stored);
        if (state.encodingOrdinal != chunk.getEncoding().ordinal() || state.sampleRateHz != chunk.getSampleRateHz()) {
          throw new InvalidChunkException(DeadLetterReason.FORMAT_CHANGED, "stream started as " + AudioEncoding.values()[state.encodingOrdinal]
              + " at " + state.sampleRateHz + " Hz, chunk is " + chunk.getEncoding() + " at " + chunk.getSampleRateHz() + " Hz");
        }
        frontEnd = ChannelFrontEnd.fromBytes(state.frontEnd);
      }

      long recordTs = record.timestamp();
      BlockWriter writer = new BlockWriter(prefix, state, recordTs);
      if (payloadBytes > 0) {
        byte[] payload = ChunkMapping.payloadBytes(chunk);
        FrontEndCounters before = frontEnd.counters();
        frontEnd.accept(chunk.getSequenceNumber(), chunk.getMediaTimestampMs(), payload, writer);
        FrontEndCounters after = frontEnd.counters();
        metrics.gapFilled((after.gapFilledSamples() - before.gapFilledSamples()) * 16_000L / chunk.getSampleRateHz());
        metrics.newRuns(after.longGaps() - before.longGaps());
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
      if (stored == null) {
        metrics.channelStarted();
        openStreamsHere++;
        metrics.openStreams(1);
      }
      if (chunk.getEndOfStream()) {
        endChannel(prefix, state, frontEnd, writer, CallEndReason.END_OF_STREAM);
      } else {
        state.frontEnd = frontEnd.toBytes();
        state.nextWindowStart = frontEnd.nextWindowStart16k();
        long now = context.currentSystemTimeMs();
        timeIndex.move(TimeIndex.LAST_SEEN, prefix, state.lastSeenWallMs == ChannelState.NEVER ? null : state.lastSeenWallMs, now);
        state.lastSeenWallMs = now;
        channels.put(channelKey, state.toBytes());
      }
    } catch (AudioFormatException e) {
      throw new InvalidChunkException(reasonOf(e.reason()), e.getMessage());
    }
  }

  /** A chunk that cannot be used, with its dead-letter reason. */
  private static final class InvalidChunkException extends Exception {
    final DeadLetterReason reason;

    InvalidChunkException(DeadLetterReason reason, String detail) {
      super(detail);
      this.reason = reason;
    }
  }

  private static DeadLetterReason reasonOf(AudioFormatException.Reason r) {
    return switch (r) {
      case UNKNOWN_ENCODING -> DeadLetterReason.UNKNOWN_ENCODING;
      case UNSUPPORTED_SAMPLE_RATE -> DeadLetterReason.UNSUPPORTED_SAMPLE_RATE;
      case EMPTY_PAYLOAD -> DeadLetterReason.EMPTY_PAYLOAD;
      case PARTIAL_SAMPLE -> DeadLetterReason.ODD_PCM16_PAYLOAD;
      case PAYLOAD_TOO_LARGE -> DeadLetterReason.OVERSIZE_PAYLOAD;
      case FORMAT_CHANGED -> DeadLetterReason.FORMAT_CHANGED;
      case BAD_TIMESTAMP -> DeadLetterReason.INVALID_TIMESTAMP;
      case BAD_SEQUENCE_NUMBER -> DeadLetterReason.INVALID_SEQUENCE;
      default -> DeadLetterReason.MALFORMED_AUDIO;
    };
  }

  /** Writes front-end output to the block store and cuts windows. */
  private final class BlockWriter implements WindowPlanner.Listener {
    private final byte[] prefix;
    private final ChannelState state;
    private final long recordTs;

    BlockWriter(byte[] prefix, ChannelState state, long recordTs) {
      this.prefix = prefix;
      this.state = state;
      this.recordTs = recordTs;
    }

    @Override
    public void block(long startSample, float[] samples, int offset, int length) {
      ByteBuffer b = ByteBuffer.allocate(BLOCK_HEADER_BYTES + 4 * length).order(ByteOrder.LITTLE_ENDIAN);
      b.putLong(recordTs);
      b.asFloatBuffer().put(samples, offset, length);
      blocks.put(StoreKeys.withLong(prefix, startSample), b.array());
    }

    @Override
    public void window(long index, long startSample, int lengthSamples, boolean partial) {
      PendingWindow w = new PendingWindow((int) index, startSample, lengthSamples);
      float[] audio = readWindow(prefix, w);
      Bytes key = StoreKeys.withLong(prefix, index);
      pending.put(key, w.toBytes());
      state.pendingWindows++;
      submit(key, prefix, w, audio);
    }
  }

  // ---------------------------------------------------------------- inference

  private void submit(Bytes key, byte[] prefix, PendingWindow w, float[] audio) {
    ConcurrentLinkedQueue<Completion> queue = completions;
    while (true) {
      CompletableFuture<float[]> future;
      try {
        future = inference.submit(audio);
      } catch (InferenceClient.SaturatedException e) {
        // Backpressure: the batcher stayed full for its whole submit timeout. Keep this stream thread
        // waiting (consumer lag grows instead of memory). Completions are not drained here: this runs
        // in the middle of a chunk whose channel state is not saved yet.
        metrics.backpressure();
        log.warn("inference queue still full after the submit timeout; waiting (window {} of {})", w.segmentIndex(), StoreKeys.callId(prefix));
        continue;
      } catch (RuntimeException e) {
        throw new StreamsException("cannot submit window " + w.segmentIndex() + " of " + StoreKeys.callId(prefix) + " for inference", e);
      }
      future.whenComplete((vector, error) -> queue.add(new Completion(key, vector, error)));
      return;
    }
  }

  /** The window's 16 kHz audio, from the block store. */
  private float[] readWindow(byte[] prefix, PendingWindow w) {
    float[] out = new float[w.lengthSamples()];
    long end = w.startSample() + w.lengthSamples();
    int filled = 0;
    long expected = w.startSample();
    try (KeyValueIterator<Bytes, byte[]> it = blocks.range(StoreKeys.withLong(prefix, w.startSample()), StoreKeys.withLong(prefix, end - 1))) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        long blockStart = StoreKeys.trailingLong(kv.key.get());
        if (blockStart != expected) {
          throw new IllegalStateException("audio block missing at sample " + expected + " (next block starts at " + blockStart + ")");
        }
        ByteBuffer b = ByteBuffer.wrap(kv.value).order(ByteOrder.LITTLE_ENDIAN);
        long ts = b.getLong();
        w.observeChunkTimestamp(ts);
        int blockSamples = (kv.value.length - BLOCK_HEADER_BYTES) / 4;
        int n = (int) Math.min(blockSamples, end - blockStart);
        b.asFloatBuffer().get(out, filled, n);
        filled += n;
        expected = blockStart + blockSamples;
      }
    }
    if (filled != w.lengthSamples()) {
      throw new IllegalStateException("window " + w.segmentIndex() + " of " + StoreKeys.callId(prefix) + " needs " + w.lengthSamples()
          + " samples from " + w.startSample() + ", the block store holds " + filled);
    }
    return out;
  }

  private void resubmitPending() {
    List<KeyValue<Bytes, byte[]>> all = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = pending.all()) {
      it.forEachRemaining(all::add);
    }
    for (KeyValue<Bytes, byte[]> kv : all) {
      byte[] prefix = StoreKeys.prefixOf(kv.key.get());
      PendingWindow w = PendingWindow.fromBytes(kv.value);
      submit(kv.key, prefix, w, readWindow(prefix, w));
    }
    if (!all.isEmpty()) {
      log.info("task {}: resubmitted {} windows that were pending inference", context.taskId(), all.size());
      metrics.resubmitted(all.size());
    }
  }

  /** Forwards finished inferences; runs on the stream thread only. */
  private void drainCompletions() {
    Completion c;
    while ((c = completions.poll()) != null) {
      byte[] pendingBytes = pending.get(c.pendingKey());
      if (pendingBytes == null) {
        continue; // already emitted (a stale duplicate) or the channel was dropped
      }
      byte[] prefix = StoreKeys.prefixOf(c.pendingKey().get());
      PendingWindow w = PendingWindow.fromBytes(pendingBytes);
      if (c.error() != null) {
        Throwable cause = c.error() instanceof java.util.concurrent.CompletionException ? c.error().getCause() : c.error();
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
    long now = context.currentSystemTimeMs();
    String callId = StoreKeys.callId(prefix);
    Channel channel = new Channel(StoreKeys.channelIndex(prefix), state.channelName);
    long start = w.startSample();
    long end = start + w.lengthSamples();
    SegmentEmbedding seg = SegmentEmbedding.newBuilder()
        .setCallId(callId)
        .setChannel(channel)
        .setSegmentIndex(w.segmentIndex())
        .setStartSample16k(start)
        .setEndSample16k(end)
        .setStartMs(start / TopologySettings.SAMPLES_PER_MS_16K)
        .setEndMs(end / TopologySettings.SAMPLES_PER_MS_16K)
        .setPaddedSamples16k(0L)
        .setSpeechSamples16k(null)
        .setDimension(vector.length)
        .setVector(Vectors.toBytes(vector))
        .setPooling(modelInfo.pooling().name().toLowerCase(java.util.Locale.ROOT))
        .setProvenance(provenance)
        .setFirstChunkTimestampMs(w.firstChunkTimestampMs())
        .setLastChunkTimestampMs(w.lastChunkTimestampMs())
        .setEmbeddedAtMs(now)
        .build();
    context.forward(new Record<>(callId, new Output.Segment(seg), Math.max(w.lastChunkTimestampMs(), 0L)));
    pending.delete(pendingKey);
    metrics.segmentEmitted(now - w.lastChunkTimestampMs());

    if (state.vectorSum == null) {
      state.vectorSum = new double[vector.length];
    }
    long weight = w.lengthSamples();
    for (int i = 0; i < vector.length; i++) {
      state.vectorSum[i] += weight * (double) vector[i];
    }
    state.weightSamples += weight;
    state.embeddedSegments++;
    state.pendingWindows--;
    state.firstSegmentStart = state.firstSegmentStart < 0 ? start : Math.min(state.firstSegmentStart, start);
    state.lastSegmentEnd = Math.max(state.lastSegmentEnd, end);

    if (state.isEnded() && state.pendingWindows == 0) {
      emitCallAndDelete(prefix, state, now);
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
    deleteRange(blocks, prefix, keepFrom);
  }

  /** Deletes keys {@code prefix + [MIN, below)} of a store. */
  private static void deleteRange(KeyValueStore<Bytes, byte[]> store, byte[] prefix, long below) {
    if (below == Long.MIN_VALUE) {
      return;
    }
    List<Bytes> doomed = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = store.range(StoreKeys.withLong(prefix, Long.MIN_VALUE), StoreKeys.withLong(prefix, below - 1))) {
      while (it.hasNext()) {
        doomed.add(it.next().key);
      }
    }
    doomed.forEach(store::delete);
  }

  // ---------------------------------------------------------------- end of call

  private void endChannel(byte[] prefix, ChannelState state, ChannelFrontEnd frontEnd, BlockWriter writer, CallEndReason reason) {
    frontEnd.finish(writer);
    state.frontEnd = new byte[0];
    state.nextWindowStart = frontEnd.timelineEnd16k();
    state.endReason = reason.ordinal() + 1;
    Bytes channelKey = Bytes.wrap(prefix);
    if (state.lastSeenWallMs != ChannelState.NEVER) {
      timeIndex.remove(TimeIndex.LAST_SEEN, prefix, state.lastSeenWallMs);
    }
    long now = context.currentSystemTimeMs();
    ended.put(channelKey, now);
    timeIndex.add(TimeIndex.ENDED, prefix, now);
    metrics.channelEnded(reason.name());
    if (state.pendingWindows == 0) {
      emitCallAndDelete(prefix, state, context.currentSystemTimeMs());
    } else {
      channels.put(channelKey, state.toBytes());
    }
  }

  private void emitCallAndDelete(byte[] prefix, ChannelState state, long now) {
    String callId = StoreKeys.callId(prefix);
    int channelIndex = StoreKeys.channelIndex(prefix);
    if (state.embeddedSegments > 0) {
      float[] mean = new float[state.vectorSum.length];
      for (int i = 0; i < mean.length; i++) {
        mean[i] = (float) (state.vectorSum[i] / state.weightSamples);
      }
      CallEmbedding call = CallEmbedding.newBuilder()
          .setCallId(callId)
          .setChannel(new Channel(channelIndex, state.channelName))
          .setSegmentCount(state.embeddedSegments)
          .setSpeechDurationMs(state.weightSamples / TopologySettings.SAMPLES_PER_MS_16K)
          .setStartMs(state.firstSegmentStart / TopologySettings.SAMPLES_PER_MS_16K)
          .setEndMs(state.lastSegmentEnd / TopologySettings.SAMPLES_PER_MS_16K)
          .setEndReason(CallEndReason.values()[state.endReason - 1])
          .setDimension(mean.length)
          .setVector(Vectors.toBytes(mean))
          .setPooling("duration-weighted-mean/" + modelInfo.pooling().name().toLowerCase(java.util.Locale.ROOT))
          .setProvenance(provenance)
          .setFirstChunkTimestampMs(state.firstChunkTimestampMs)
          .setLastChunkTimestampMs(state.lastChunkTimestampMs)
          .setEmbeddedAtMs(now)
          .build();
      context.forward(new Record<>(callKey(callId, channelIndex), new Output.Call(call), Math.max(state.lastChunkTimestampMs, 0L)));
      metrics.callEmitted();
    } else {
      metrics.callWithoutSegments();
    }
    Bytes channelKey = Bytes.wrap(prefix);
    deleteRange(blocks, prefix, Long.MAX_VALUE);
    deleteRange(pending, prefix, Long.MAX_VALUE);
    channels.delete(channelKey);
    openStreamsHere--;
    metrics.openStreams(-1);
  }

  /** Key of call-embedding records: unique per call × channel, so that a compacted topic keeps every channel. */
  public static String callKey(String callId, int channelIndex) {
    return callId + "|" + channelIndex;
  }

  /**
   * Ends the streams idle for {@code callvec.idle.timeout.ms} and deletes end markers older than
   * their retention. Reads only the due entries of the time index (not every open stream), in
   * batches of {@link #SCAN_BATCH}, and stops after {@link #SCAN_BUDGET_MS} of work: when a million
   * streams go quiet at once, eviction takes several scans instead of one scan blocking the stream
   * thread (and every other call of the task) for seconds.
   */
  private void scanIdle(long nowMs) {
    long t0 = System.nanoTime();
    long deadline = t0 + SCAN_BUDGET_MS * 1_000_000L;
    int endedNow = drainDue(TimeIndex.LAST_SEEN, nowMs - settings.idleTimeoutMs(), deadline, e -> {
      byte[] stored = channels.get(Bytes.wrap(e.prefix()));
      ChannelState state = stored == null ? null : ChannelState.fromBytes(stored);
      if (state == null || state.isEnded() || !e.covers(state.lastSeenWallMs)) {
        timeIndex.remove(e.indexKey());
        return DueOutcome.STALE;
      }
      if (nowMs - state.lastSeenWallMs < settings.idleTimeoutMs()) {
        return DueOutcome.NOT_YET; // in the cut-off second
      }
      byte[] prefix = e.prefix();
      log.debug("idle timeout: ending {}/{}", StoreKeys.callId(prefix), StoreKeys.channelIndex(prefix));
      endChannel(prefix, state, ChannelFrontEnd.fromBytes(state.frontEnd), new BlockWriter(prefix, state, state.lastChunkTimestampMs),
          CallEndReason.IDLE_TIMEOUT); // removes the index entry
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
    drainCompletions();
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
  private int drainDue(byte kind, long uptoMs, long deadlineNanos, java.util.function.Function<TimeIndex.Entry, DueOutcome> handle) {
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

  /** Due entries read from the time index at a time. */
  static final int SCAN_BATCH = 500;
  /** Work one idle scan may do before it leaves the rest to the next scan, ms (a batch in progress is finished). */
  static final long SCAN_BUDGET_MS = 200;

  /**
   * State written before the time index existed (or an index lost with its changelog) has open
   * channels and end markers but no index: index them once, so that they still time out. A channel
   * state without a last-seen time (layout 1) counts as seen now.
   */
  private void rebuildTimeIndexIfMissing() {
    if (!timeIndex.isEmpty()) {
      return;
    }
    long indexed = 0;
    long now = context.currentSystemTimeMs();
    List<KeyValue<Bytes, ChannelState>> unseen = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = channels.all()) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        ChannelState state = ChannelState.fromBytes(kv.value);
        if (state.isEnded()) {
          continue;
        }
        if (state.lastSeenWallMs == ChannelState.NEVER) {
          unseen.add(KeyValue.pair(kv.key, state));
        } else {
          timeIndex.add(TimeIndex.LAST_SEEN, kv.key.get(), state.lastSeenWallMs);
        }
        indexed++;
      }
    }
    for (KeyValue<Bytes, ChannelState> kv : unseen) {
      kv.value.lastSeenWallMs = now;
      channels.put(kv.key, kv.value.toBytes());
      timeIndex.add(TimeIndex.LAST_SEEN, kv.key.get(), now);
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

  // ---------------------------------------------------------------- dead letters

  private void deadLetter(Record<String, AudioChunk> record, DeadLetterReason reason, String detail) {
    metrics.deadLetter(reason.name());
    RecordHeaders headers = new RecordHeaders();
    record.headers().forEach(headers::add);
    headers.add(HEADER_REASON, reason.name().getBytes(StandardCharsets.UTF_8));
    headers.add(HEADER_DETAIL, truncate(detail, 1000).getBytes(StandardCharsets.UTF_8));
    context.recordMetadata().ifPresent(m -> headers.add(HEADER_SOURCE,
        (m.topic() + "/" + m.partition() + "@" + m.offset()).getBytes(StandardCharsets.UTF_8)));
    String key = record.key() == null ? null : truncate(record.key(), TopologySettings.MAX_CALL_ID_CHARS);
    AudioChunk value = record.value();
    if (value != null && reason == DeadLetterReason.CALL_ID_TOO_LONG) {
      value = AudioChunk.newBuilder(value).setCallId(truncate(value.getCallId(), TopologySettings.MAX_CALL_ID_CHARS)).build();
    }
    if (value != null && reason == DeadLetterReason.OVERSIZE_PAYLOAD) {
      value = AudioChunk.newBuilder(value).setPayload(ByteBuffer.allocate(0)).build();
    }
    context.forward(new Record<>(key, new Output.DeadLetter(value), record.timestamp(), headers));
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }

  @Override
  public void close() {
    // Windows still in flight complete into a queue nobody drains; they stay pending in the store
    // and are resubmitted by whichever instance initialises this task next.
    completions = new ConcurrentLinkedQueue<>();
    metrics.openStreams(-openStreamsHere);
    openStreamsHere = 0;
  }
}
