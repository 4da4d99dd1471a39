package io.callvec.schemas.serde;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;

/**
 * The serdes of the callvec topics: Avro single-object encoding, no schema registry. Each call
 * returns a new, thread-safe instance; see {@link AvroSerde} for the wire format and errors.
 */
public final class CallvecSerdes {

  private CallvecSerdes() {}

  /** Serde of the input audio topic's values. */
  public static AvroSerde<AudioChunk> audioChunk() {
    return AvroSerde.of(AudioChunk.class);
  }

  /** Serde of the segment embedding topic's values. */
  public static AvroSerde<SegmentEmbedding> segmentEmbedding() {
    return AvroSerde.of(SegmentEmbedding.class);
  }

  /** Serde of the call embedding topic's values. */
  public static AvroSerde<CallEmbedding> callEmbedding() {
    return AvroSerde.of(CallEmbedding.class);
  }
}
