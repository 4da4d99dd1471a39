package io.callvec.app;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Every {@code callvec.*} configuration key with its default, type and meaning: the one place the
 * defaults are documented (the README's configuration table is generated from the same text).
 *
 * <p>Keys that do not start with {@code callvec.} are passed to Kafka Streams (and through it to
 * its consumers, producers and admin client) unchanged.
 */
public enum Settings {
  INPUT_TOPIC("callvec.input.topic", "callvec.audio-chunks", "Input topic of AudioChunk records, keyed by call id."),
  SEGMENTS_TOPIC("callvec.segments.topic", "callvec.segment-embeddings", "Output topic of SegmentEmbedding records, keyed by call id."),
  CALLS_TOPIC("callvec.calls.topic", "callvec.call-embeddings", "Output topic of CallEmbedding records, keyed by '<call id>|<channel index>'."),
  DLQ_TOPIC("callvec.dlq.topic", "callvec.dlq", "Dead-letter topic: undecodable or invalid input, with the reason in headers."),
  REPARTITION_BY_CALL_ID("callvec.input.repartition", "false",
      "true when the source publishes with another key than the call id: records are re-keyed by call id through an internal repartition topic."),
  WINDOW_MS("callvec.window.ms", "5000", "Segment window length, in milliseconds of 16 kHz audio."),
  HOP_MS("callvec.hop.ms", "5000", "Hop between window starts, in milliseconds (equal to the window: no overlap)."),
  MIN_FINAL_WINDOW_MS("callvec.min.final.window.ms", "1000", "Shortest final partial window emitted at end of call, in milliseconds."),
  REORDER_LATENESS_MS("callvec.reorder.lateness.ms", "500", "How far behind the newest chunk a chunk may arrive and still be placed, in milliseconds of audio."),
  MAX_GAP_FILL_MS("callvec.gap.fill.max.ms", "1000", "Longest gap filled with silence, in milliseconds; a longer gap starts a new contiguous run."),
  IDLE_TIMEOUT_MS("callvec.idle.timeout.ms", "30000", "A call × channel with no chunk for this long on its task's input clock (stream time, advancing with the wall clock while no record arrives), in milliseconds, is ended as if it had sent end-of-stream."),
  LEAVE_GROUP_ON_CLOSE("callvec.leave.group.on.close", "true",
      "On a graceful stop (SIGTERM), leave the consumer group so that the instance's tasks move at once instead of after `session.timeout.ms`; `false` keeps them waiting for its return. See \"Failover\"."),
  IDLE_SCAN_INTERVAL_MS("callvec.idle.scan.interval.ms", "1000", "How often open calls are checked for the idle timeout, in milliseconds."),
  MAX_PAYLOAD_BYTES("callvec.max.payload.bytes", "65536", "Largest accepted chunk payload, in bytes; larger chunks go to the DLQ."),
  MODEL_PATH("callvec.model.path", "classpath:fixture",
      "ONNX model file, or 'classpath:fixture' for the bundled tiny fixture model (its embeddings are NOT meaningful)."),
  MODEL_PROVIDER("callvec.model.provider", "auto", "Execution provider: auto, cpu, cuda[:device], tensorrt."),
  MODEL_INTRA_OP_THREADS("callvec.model.intra.op.threads", "0", "ONNX Runtime intra-op threads per session (0: ONNX Runtime's default)."),
  MODEL_INTRA_OP_SPINNING("callvec.model.intra.op.spinning", "false",
      "Whether ONNX Runtime's idle intra-op threads spin instead of sleeping (ONNX Runtime's default: spin); spinning after every run takes about half a core from the stream threads on a busy host."),
  MODEL_POOLING("callvec.model.pooling", "mean", "Pooling over frames: mean or mean_std."),
  MODEL_L2_NORMALIZE("callvec.model.l2.normalize", "false", "L2-normalise each segment vector."),
  MODEL_LAYER("callvec.model.layer", "auto",
      "Encoder layer to pool, Hugging Face hidden_states numbering (0 = transformer input, k = after layer k): pools the output hidden_states_<k>; "
          + "auto: last_hidden_state, or the deepest hidden_states_<k> of a truncated export. One layer per run; the output records carry it (layer)."),
  VAD_ENABLED("callvec.vad.enabled", "false",
      "Voice activity detection (Silero VAD v5, installed by model/tools/fetch-vad.sh) per call × channel: windows with too little speech are not "
          + "sent to the model, each segment carries speechSamples16k and the call embedding is speech-weighted. false: output identical to a build without it."),
  VAD_MIN_SPEECH_FRACTION("callvec.vad.min.speech.fraction", "0.2",
      "With the VAD on, a window whose speech samples are below this fraction of its real samples is skipped (a segment record without a vector); in (0, 1]."),
  VAD_ONSET("callvec.vad.onset", "0.5", "Speech probability at or above which a 32 ms frame counts towards speech onset; in (0, 1]."),
  VAD_OFFSET("callvec.vad.offset", "0.35", "Speech probability below which a frame counts towards speech offset; in [0, onset]."),
  VAD_MIN_SPEECH_MS("callvec.vad.min.speech.ms", "250", "Consecutive onset frames needed to enter speech, in milliseconds (shorter bursts stay silence)."),
  VAD_MIN_SILENCE_MS("callvec.vad.min.silence.ms", "300", "Consecutive offset frames needed to leave speech, in milliseconds (shorter pauses stay speech)."),
  BATCH_MAX_WINDOWS("callvec.batch.max.windows", "8", "Largest inference batch, in windows."),
  BATCH_MAX_DELAY_MS("callvec.batch.max.delay.ms", "10", "Longest a window waits for its batch to fill, in milliseconds."),
  BATCH_QUEUE_CAPACITY("callvec.batch.queue.capacity", "256", "Windows queued for inference before submitters are slowed (backpressure)."),
  BATCH_WORKERS("callvec.batch.workers", "1", "Inference worker threads, all sharing the one ONNX Runtime session on the one device callvec.model.provider names (more than 1 helps on CPU; it does not spread work over several GPUs)."),
  BATCH_MAX_ATTEMPTS("callvec.batch.max.attempts", "3", "Attempts per batch for transient inference errors."),
  ROCKSDB_MEMORY_BYTES("callvec.rocksdb.memory.bytes", "134217728",
      "Off-heap memory for all RocksDB state stores of the JVM together (block cache and memtables), bytes; 0 keeps Kafka Streams' per-store defaults (about 100 MiB per store instance, unbounded in total)."),
  HTTP_PORT("callvec.http.port", "8080", "Port of the HTTP endpoint (/metrics, /health/live, /health/ready); -1 disables it, 0 picks a free port."),
  COMPLETION_POLL_MS("callvec.completion.poll.ms", "5", "How often finished inferences are forwarded when no input arrives, in milliseconds."),
  SERDE("callvec.serde", "single-object",
      "Wire format of every callvec topic: single-object (Avro single-object encoding, no registry) or confluent "
          + "(Confluent Schema Registry framing; needs schema.registry.url, see schemas/README.md)."),
  REGISTRY_REQUEST_TIMEOUT_MS("callvec.registry.request.timeout.ms", "10000", "Timeout of one Schema Registry HTTP request, in milliseconds."),
  REGISTRY_RETRY_BACKOFF_MS("callvec.registry.retry.backoff.ms", "100", "First pause before retrying an unreachable Schema Registry, in milliseconds (doubles)."),
  REGISTRY_RETRY_BACKOFF_MAX_MS("callvec.registry.retry.backoff.max.ms", "5000", "Largest pause between Schema Registry retries, in milliseconds."),
  REGISTRY_RETRY_MAX_MS("callvec.registry.retry.max.ms", "60000",
      "How long one schema lookup keeps retrying an unreachable registry before the instance stops with an error (records are not dead-lettered), in milliseconds."),
  STARTUP_CHECK_TIMEOUT_MS("callvec.startup.check.timeout.ms", "15000",
      "At start, how long to wait for Kafka to answer an admin request; authentication and TLS failures stop the start with a clear error, "
          + "no answer only logs a warning (Kafka Streams keeps retrying); 0 skips the check.");

  private final String key;
  private final String defaultValue;
  private final String doc;

  Settings(String key, String defaultValue, String doc) {
    this.key = key;
    this.defaultValue = defaultValue;
    this.doc = doc;
  }

  public String key() {
    return key;
  }

  public String defaultValue() {
    return defaultValue;
  }

  public String doc() {
    return doc;
  }

  /** Kafka Streams settings that callvec sets unless the user does. */
  public static final Map<String, String> KAFKA_DEFAULTS = Map.ofEntries(
      Map.entry("application.id", "callvec"),
      Map.entry("bootstrap.servers", "localhost:9092"),
      Map.entry("processing.guarantee", "exactly_once_v2"),
      Map.entry("commit.interval.ms", "100"),
      Map.entry("poll.ms", "5"),
      Map.entry("num.standby.replicas", "0"),
      Map.entry("deserialization.exception.handler", "io.callvec.app.DeadLetterDeserializationHandler"),
      Map.entry("processing.exception.handler.global.enabled", "true"),
      // Failover (README "Failover"): a killed instance's tasks move after this long, not Kafka's 45 s.
      Map.entry("session.timeout.ms", "10000"),
      Map.entry("heartbeat.interval.ms", "3000"),
      // Every task reads one partition (one source topic, or the by-call-id repartition topic): there
      // is no timestamp alignment across partitions to wait for. -1 also spares Kafka Streams' readiness
      // check its bookkeeping (sets, a formatted log line) on every process loop, a quarter of the
      // stream threads' allocation (bench/run pipeline --jfr).
      Map.entry("max.task.idle.ms", "-1"),
      // Changelogs and outputs (README "Sizing at dimension 1024"): the per-stream state records of a
      // commit are alike and compress about 4×, the audio blocks about 1.1×.
      Map.entry("producer.compression.type", "zstd"));

  static Settings byKey(String key) {
    for (Settings s : values()) {
      if (s.key.equals(key)) {
        return s;
      }
    }
    return null;
  }

  static final Predicate<String> IS_APP_KEY = k -> k.startsWith("callvec.");

  static List<Settings> all() {
    return List.of(values());
  }
}
