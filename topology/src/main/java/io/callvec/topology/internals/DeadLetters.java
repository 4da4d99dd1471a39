package io.callvec.topology.internals;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.Channel;
import io.callvec.topology.Output;
import io.callvec.topology.TopologyMetrics;
import io.callvec.topology.TopologySettings;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Writes dead letters: the refused input record with the reason and detail headers (and its
 * source coordinates), or, for a poison window, a coordinates-only record of the window. Each is
 * counted per reason.
 */
final class DeadLetters {
  /** DLQ header names. */
  static final String HEADER_REASON = "callvec.dlq.reason";
  static final String HEADER_DETAIL = "callvec.dlq.detail";
  static final String HEADER_SOURCE = "callvec.dlq.source";
  /** Longest detail header, characters. */
  private static final int MAX_DETAIL_CHARS = 1000;

  private final ProcessorContext<String, Output> context;
  private final TopologyMetrics metrics;

  DeadLetters(ProcessorContext<String, Output> context, TopologyMetrics metrics) {
    this.context = context;
    this.metrics = metrics;
  }

  /** The refused input record, its headers kept, with reason, detail and source headers added. */
  void chunk(Record<String, AudioChunk> record, DeadLetterReason reason, String detail) {
    metrics.deadLetter(reason.name());
    RecordHeaders headers = headers(reason, detail);
    record.headers().forEach(headers::add);
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

  /**
   * A window the model fails on alone ({@link DeadLetterReason#POISON_WINDOW}): a record with the
   * window's coordinates (sequence number = segment index, media timestamp = start, empty payload;
   * metadata {@code startSample16k}, {@code endSample16k}), keyed by call id.
   */
  void poisonWindow(String callId, Channel channel, AudioEncoding encoding, int sampleRateHz, PendingWindow w, String cause) {
    DeadLetterReason reason = DeadLetterReason.POISON_WINDOW;
    metrics.deadLetter(reason.name());
    long start = w.startSample();
    long end = start + w.lengthSamples();
    String detail = "window " + w.segmentIndex() + " of " + callId + "/" + channel.getIndex() + " [" + start + ", " + end
        + ") at 16 kHz failed alone while the model embedded others: " + cause;
    AudioChunk coordinates = AudioChunk.newBuilder()
        .setCallId(callId)
        .setChannel(channel)
        .setSequenceNumber(w.segmentIndex())
        .setMediaTimestampMs(start / TopologySettings.SAMPLES_PER_MS_16K)
        .setEncoding(encoding)
        .setSampleRateHz(sampleRateHz)
        .setPayload(ByteBuffer.allocate(0))
        .setEndOfStream(false)
        .setMetadata(Map.of("startSample16k", Long.toString(start), "endSample16k", Long.toString(end)))
        .build();
    context.forward(new Record<>(callId, new Output.DeadLetter(coordinates), Math.max(w.lastChunkTimestampMs(), 0L), headers(reason, detail)));
  }

  private static RecordHeaders headers(DeadLetterReason reason, String detail) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(HEADER_REASON, reason.name().getBytes(StandardCharsets.UTF_8));
    headers.add(HEADER_DETAIL, truncate(detail, MAX_DETAIL_CHARS).getBytes(StandardCharsets.UTF_8));
    return headers;
  }

  static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }
}
