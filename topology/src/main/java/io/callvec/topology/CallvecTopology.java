package io.callvec.topology;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.serde.TopicSerdes;
import io.callvec.topology.internals.CallProcessor;
import io.callvec.topology.internals.InferenceClient;
import io.callvec.topology.internals.WriteDownCountingStore;
import java.util.Set;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * What callvec is, as a Kafka Streams topology (how it runs lives in {@code io.callvec.app}):
 *
 * <pre>
 * input (AudioChunk, key = call id)
 *   └─ [optional: re-key by call id → repartition topic "by-call-id"]
 *       └─ call-processor  (stores: channels, audio blocks, pending windows, last seen, ended, vad)
 *            ├─ segments  → SegmentEmbedding, key = call id
 *            ├─ calls     → CallEmbedding,    key = "&lt;call id&gt;|&lt;channel index&gt;"
 *            └─ dlq       → AudioChunk + callvec.dlq.* headers
 * </pre>
 *
 * Undecodable input records never reach the processor: Kafka Streams' deserialization handler sends
 * them to the same dead-letter topic ({@code errors.dead.letter.queue.topic.name}).
 */
public final class CallvecTopology {
  public static final String SOURCE_NODE = "chunks-source";
  public static final String PROCESSOR_NODE = "call-processor";
  public static final String REPARTITION_NAME = "by-call-id";

  /** Per call × channel state: {@code ChannelState}, small. */
  public static final String CHANNEL_STORE = "callvec-channels";
  /** Audio blocks of open windows (as received, see {@code AudioBlocks}), key = channel prefix + start sample. */
  public static final String BLOCK_STORE = "callvec-audio-blocks";
  /** Windows waiting for inference, key = channel prefix + segment index. */
  public static final String PENDING_STORE = "callvec-pending-windows";
  /** Ended channels, to reject chunks that arrive after the end. */
  public static final String ENDED_STORE = "callvec-ended";
  /**
   * Wall-clock index of the last-chunk and end times (to the second), so that the idle timeout and
   * the end-marker expiry read only the streams that are due.
   */
  public static final String TIME_INDEX_STORE = "callvec-time-index";
  /**
   * Voice activity detection per call × channel ({@code SpeechGate}): the VAD's state under the
   * channel prefix, each pending window's speech samples under its pending key. Empty while
   * {@code callvec.vad.enabled} is false.
   */
  public static final String VAD_STORE = "callvec-vad";

  private CallvecTopology() {}

  /**
   * Builds the topology.
   *
   * @param settings topic names, windowing and limits
   * @param inference the shared micro-batcher
   * @param metrics where the topology's meters go
   */
  public static Topology build(TopologySettings settings, InferenceClient inference, TopologyMetrics metrics) {
    return build(settings, inference, metrics, TopicSerdes.singleObject());
  }

  /**
   * Builds the topology with the value serdes of {@code serdes} (single-object or Confluent-framed,
   * {@code callvec.serde}) on the input, repartition, output and dead-letter topics.
   */
  public static Topology build(TopologySettings settings, InferenceClient inference, TopologyMetrics metrics, TopicSerdes serdes) {
    return build(settings, inference, metrics, serdes, SpeechDetection.off());
  }

  /**
   * Builds the topology with voice activity detection as {@code speech} says ({@link
   * SpeechDetection#off()}: every window is embedded, as without it).
   */
  public static Topology build(TopologySettings settings, InferenceClient inference, TopologyMetrics metrics, TopicSerdes serdes,
      SpeechDetection speech) {
    // Tombstones reach the processor (and the DLQ with reason NULL_VALUE) instead of failing deserialisation.
    Serde<AudioChunk> chunkSerde = serdes.audioChunk(true);
    Serde<SegmentEmbedding> segmentSerde = serdes.segmentEmbedding();
    Serde<CallEmbedding> callSerde = serdes.callEmbedding();

    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, AudioChunk> chunks = builder.stream(settings.inputTopic(),
        Consumed.with(Serdes.String(), chunkSerde).withName(SOURCE_NODE));
    if (settings.repartitionByCallId()) {
      chunks = chunks
          .selectKey((k, v) -> v == null ? k : v.getCallId(), Named.as("key-by-call-id"))
          .repartition(Repartitioned.<String, AudioChunk>as(REPARTITION_NAME).withKeySerde(Serdes.String()).withValueSerde(chunkSerde));
    }
    KStream<String, Output> out = chunks.process(new Supplier(settings, inference, metrics, speech), Named.as(PROCESSOR_NODE));
    out.split(Named.as("route-"))
        .branch((k, v) -> v instanceof Output.Segment, Branched.withConsumer(s -> s
            .mapValues(v -> ((Output.Segment) v).value(), Named.as("segment-values"))
            .to(settings.segmentsTopic(), Produced.with(Serdes.String(), segmentSerde).withName("segments-sink")), "segments"))
        .branch((k, v) -> v instanceof Output.Call, Branched.withConsumer(s -> s
            .mapValues(v -> ((Output.Call) v).value(), Named.as("call-values"))
            .to(settings.callsTopic(), Produced.with(Serdes.String(), callSerde).withName("calls-sink")), "calls"))
        .branch((k, v) -> v instanceof Output.DeadLetter, Branched.withConsumer(s -> s
            .mapValues(v -> ((Output.DeadLetter) v).value(), Named.as("dlq-values"))
            .to(settings.dlqTopic(), Produced.with(Serdes.String(), chunkSerde).withName("dlq-sink")), "dlq"))
        .noDefaultBranch();
    return builder.build();
  }

  /** Supplies one processor per task, with its stores. */
  private static final class Supplier implements ProcessorSupplier<String, AudioChunk, String, Output> {
    private final TopologySettings settings;
    private final InferenceClient inference;
    private final TopologyMetrics metrics;
    private final SpeechDetection speech;

    Supplier(TopologySettings settings, InferenceClient inference, TopologyMetrics metrics, SpeechDetection speech) {
      this.settings = settings;
      this.inference = inference;
      this.metrics = metrics;
      this.speech = speech;
    }

    /** The block store's write-down counts, from its stores to the processors of the same tasks. */
    private final WriteDownCountingStore.Registry blockWriteDowns = new WriteDownCountingStore.Registry();

    @Override
    public Processor<String, AudioChunk, String, Output> get() {
      return new CallProcessor(settings, inference, metrics, speech, blockWriteDowns);
    }

    @Override
    public Set<StoreBuilder<?>> stores() {
      return Set.of(
          bytesStore(CHANNEL_STORE),
          Stores.keyValueStoreBuilder(WriteDownCountingStore.persistent(BLOCK_STORE, blockWriteDowns), Serdes.Bytes(), Serdes.ByteArray())
              .withCachingEnabled(),
          bytesStore(PENDING_STORE),
          longStore(ENDED_STORE),
          bytesStore(TIME_INDEX_STORE),
          bytesStore(VAD_STORE));
    }

    private static StoreBuilder<KeyValueStore<Bytes, byte[]>> bytesStore(String name) {
      return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled();
    }

    private static StoreBuilder<KeyValueStore<Bytes, Long>> longStore(String name) {
      return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), Serdes.Bytes(), Serdes.Long()).withCachingEnabled();
    }
  }
}
