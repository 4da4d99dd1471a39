package io.callvec.topology;

import io.callvec.app.CallvecConfig;
import io.callvec.app.Settings;

/**
 * The settings the topology needs, in the units it uses (samples at 16 kHz, milliseconds, bytes).
 *
 * @param inputTopic topic of AudioChunk records
 * @param segmentsTopic topic of SegmentEmbedding records
 * @param callsTopic topic of CallEmbedding records
 * @param dlqTopic dead-letter topic
 * @param repartitionByCallId re-key the input by call id through a repartition topic
 * @param windowSamples window length, samples at 16 kHz
 * @param hopSamples hop between window starts, samples at 16 kHz
 * @param minFinalSamples shortest final partial window, samples at 16 kHz
 * @param reorderLatenessMs lateness accepted by the reorder buffer, ms of audio
 * @param maxGapFillMs longest gap filled with silence, ms of audio
 * @param idleTimeoutMs idle time (wall clock) after which a stream is ended, ms
 * @param idleScanIntervalMs how often the idle check runs, ms
 * @param endedRetentionMs how long an ended stream is remembered to reject late chunks, ms
 * @param maxPayloadBytes largest accepted payload, bytes
 * @param completionPollMs how often finished inferences are forwarded without input, ms
 */
public record TopologySettings(
    String inputTopic,
    String segmentsTopic,
    String callsTopic,
    String dlqTopic,
    boolean repartitionByCallId,
    long windowSamples,
    long hopSamples,
    long minFinalSamples,
    long reorderLatenessMs,
    long maxGapFillMs,
    long idleTimeoutMs,
    long idleScanIntervalMs,
    long endedRetentionMs,
    int maxPayloadBytes,
    long completionPollMs) {

  /** Samples per millisecond at 16 kHz. */
  public static final int SAMPLES_PER_MS_16K = 16;
  /** Longest accepted call id, in UTF-16 chars. */
  public static final int MAX_CALL_ID_CHARS = 256;
  /** Highest accepted channel index. */
  public static final int MAX_CHANNEL_INDEX = 15;

  public static TopologySettings from(CallvecConfig c) {
    long idle = c.getLong(Settings.IDLE_TIMEOUT_MS);
    return new TopologySettings(
        c.get(Settings.INPUT_TOPIC),
        c.get(Settings.SEGMENTS_TOPIC),
        c.get(Settings.CALLS_TOPIC),
        c.get(Settings.DLQ_TOPIC),
        c.getBoolean(Settings.REPARTITION_BY_CALL_ID),
        c.getLong(Settings.WINDOW_MS) * SAMPLES_PER_MS_16K,
        c.getLong(Settings.HOP_MS) * SAMPLES_PER_MS_16K,
        c.getLong(Settings.MIN_FINAL_WINDOW_MS) * SAMPLES_PER_MS_16K,
        c.getLong(Settings.REORDER_LATENESS_MS),
        c.getLong(Settings.MAX_GAP_FILL_MS),
        idle,
        c.getLong(Settings.IDLE_SCAN_INTERVAL_MS),
        Math.max(10 * idle, 600_000L),
        c.getInt(Settings.MAX_PAYLOAD_BYTES),
        c.getLong(Settings.COMPLETION_POLL_MS));
  }
}
