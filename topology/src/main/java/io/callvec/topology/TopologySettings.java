package io.callvec.topology;

import io.callvec.app.CallvecConfig;
import io.callvec.app.Settings;
import io.callvec.audio.FrontEndConfig;

/**
 * The settings the topology needs, in the units it uses (samples at 16 kHz, milliseconds, bytes).
 *
 * @param inputTopic topic of AudioChunk records
 * @param segmentsTopic topic of SegmentEmbedding records
 * @param callsTopic topic of CallEmbedding records
 * @param dlqTopic dead-letter topic
 * @param repartitionByCallId re-key the input by call id through a repartition topic
 * @param frontEnd the audio front end's settings: payload limit (bytes), reorder lateness and gap
 *     fill (ms of audio), window, hop and minimum final window (ms)
 * @param idleTimeoutMs idle time (wall clock) after which a stream is ended, ms
 * @param idleScanIntervalMs how often the idle check runs, ms
 * @param endedRetentionMs how long an ended stream is remembered to reject late chunks, ms
 * @param completionPollMs how often finished inferences are forwarded without input, ms
 */
public record TopologySettings(
    String inputTopic,
    String segmentsTopic,
    String callsTopic,
    String dlqTopic,
    boolean repartitionByCallId,
    FrontEndConfig frontEnd,
    long idleTimeoutMs,
    long idleScanIntervalMs,
    long endedRetentionMs,
    long completionPollMs) {

  /** Samples per millisecond at 16 kHz. */
  public static final int SAMPLES_PER_MS_16K = 16;
  /** Longest accepted call id, in UTF-16 chars. */
  public static final int MAX_CALL_ID_CHARS = 256;
  /** Highest accepted channel index. */
  public static final int MAX_CHANNEL_INDEX = 15;

  /** The front end's settings from the configuration; a bad combination fails with the front end's message. */
  public static FrontEndConfig frontEndConfig(CallvecConfig c) {
    try {
      return new FrontEndConfig(
          c.getInt(Settings.MAX_PAYLOAD_BYTES),
          c.getInt(Settings.REORDER_LATENESS_MS),
          c.getInt(Settings.MAX_GAP_FILL_MS),
          FrontEndConfig.DEFAULTS.timestampToleranceMs(),
          c.getInt(Settings.WINDOW_MS),
          c.getInt(Settings.HOP_MS),
          c.getInt(Settings.MIN_FINAL_WINDOW_MS));
    } catch (IllegalArgumentException e) {
      throw new CallvecConfig.ConfigException("invalid front-end settings: " + e.getMessage());
    }
  }

  public static TopologySettings from(CallvecConfig c) {
    long idle = c.getLong(Settings.IDLE_TIMEOUT_MS);
    return new TopologySettings(
        c.get(Settings.INPUT_TOPIC),
        c.get(Settings.SEGMENTS_TOPIC),
        c.get(Settings.CALLS_TOPIC),
        c.get(Settings.DLQ_TOPIC),
        c.getBoolean(Settings.REPARTITION_BY_CALL_ID),
        frontEndConfig(c),
        idle,
        c.getLong(Settings.IDLE_SCAN_INTERVAL_MS),
        Math.max(10 * idle, 600_000L),
        c.getLong(Settings.COMPLETION_POLL_MS));
  }
}
