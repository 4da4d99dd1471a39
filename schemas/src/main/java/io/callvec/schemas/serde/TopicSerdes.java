package io.callvec.schemas.serde;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.registry.ConfluentAvroSerde;
import io.callvec.schemas.registry.RegistryClient;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.serialization.Serde;

/**
 * The value serdes of the callvec topics in the format that {@value SerdeFormat#KEY} chooses: {@link
 * CallvecSerdes} (single-object, the default) or {@link ConfluentAvroSerde} on one shared {@link
 * RegistryClient} (so that all topics share its id caches).
 */
public final class TopicSerdes {
  private final SerdeFormat format;
  private final Optional<RegistryClient> client;

  private TopicSerdes(SerdeFormat format, Optional<RegistryClient> client) {
    this.format = format;
    this.client = client;
  }

  /** Single-object serdes, no registry. */
  public static TopicSerdes singleObject() {
    return new TopicSerdes(SerdeFormat.SINGLE_OBJECT, Optional.empty());
  }

  /** Confluent-framed serdes on {@code client}. */
  public static TopicSerdes confluent(RegistryClient client) {
    return new TopicSerdes(SerdeFormat.CONFLUENT, Optional.of(client));
  }

  /**
   * The serdes chosen by {@value SerdeFormat#KEY} in {@code config} (default single-object); for
   * {@code confluent}, the registry keys of {@link io.callvec.schemas.registry.RegistryConfig}.
   *
   * @throws org.apache.kafka.common.config.ConfigException naming the bad key
   */
  public static TopicSerdes fromConfig(Map<String, ?> config) {
    Object raw = config.get(SerdeFormat.KEY);
    SerdeFormat format = raw == null ? SerdeFormat.SINGLE_OBJECT : SerdeFormat.parse(raw.toString());
    return format == SerdeFormat.CONFLUENT ? confluent(RegistryClient.fromConfig(config)) : singleObject();
  }

  public SerdeFormat format() {
    return format;
  }

  /** The registry client, present for {@link SerdeFormat#CONFLUENT}. */
  public Optional<RegistryClient> client() {
    return client;
  }

  /** Input chunks; with {@code allowNull}, a null value deserialises to null instead of failing. */
  public Serde<AudioChunk> audioChunk(boolean allowNull) {
    if (client.isPresent()) {
      ConfluentAvroSerde<AudioChunk> s = ConfluentAvroSerde.of(AudioChunk.class, client.get());
      return allowNull ? s.allowingNull() : s;
    }
    AvroSerde<AudioChunk> s = CallvecSerdes.audioChunk();
    return allowNull ? s.allowingNull() : s;
  }

  public Serde<SegmentEmbedding> segmentEmbedding() {
    return client.<Serde<SegmentEmbedding>>map(c -> ConfluentAvroSerde.of(SegmentEmbedding.class, c))
        .orElseGet(CallvecSerdes::segmentEmbedding);
  }

  public Serde<CallEmbedding> callEmbedding() {
    return client.<Serde<CallEmbedding>>map(c -> ConfluentAvroSerde.of(CallEmbedding.class, c))
        .orElseGet(CallvecSerdes::callEmbedding);
  }

  @Override
  public String toString() {
    return "TopicSerdes[" + format.spelling() + client.map(c -> ", " + c.config()).orElse("") + "]";
  }
}
