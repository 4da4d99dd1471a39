package io.callvec.schemas;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Random;

/** Records with deterministic pseudo-random content for tests. */
public final class Fixtures {

  private Fixtures() {}

  /** 20 ms of 8 kHz mu-law (160 bytes) with seeded content. */
  public static AudioChunk audioChunk(long seed, boolean withMetadata) {
    Random r = new Random(seed);
    byte[] payload = new byte[160];
    r.nextBytes(payload);
    return AudioChunk.newBuilder()
        .setCallId("CA" + Long.toHexString(r.nextLong()))
        .setChannel(new Channel(1, "customer"))
        .setSequenceNumber(1 + r.nextInt(10_000))
        .setMediaTimestampMs(20L * r.nextInt(10_000))
        .setEncoding(AudioEncoding.MULAW)
        .setSampleRateHz(8000)
        .setPayload(ByteBuffer.wrap(payload))
        .setEndOfStream(r.nextBoolean())
        .setMetadata(withMetadata ? Map.of("from", "+15550100", "streamSid", "MZ" + r.nextInt()) : null)
        .build();
  }

  /** Seeded Gaussian vector of {@code dimension} values. */
  public static float[] vector(long seed, int dimension) {
    Random r = new Random(seed);
    float[] v = new float[dimension];
    for (int i = 0; i < dimension; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  public static ModelProvenance provenance() {
    return new ModelProvenance("facebook/wav2vec2-large-robust", "rev-test", "ab".repeat(32));
  }

  public static SegmentEmbedding segmentEmbedding(long seed, int dimension) {
    return SegmentEmbedding.newBuilder()
        .setCallId("call-" + seed)
        .setChannel(new Channel(0, "agent"))
        .setSegmentIndex(3)
        .setStartSample16k(3 * 80_000L)
        .setEndSample16k(4 * 80_000L)
        .setStartMs(15_000)
        .setEndMs(20_000)
        .setPaddedSamples16k(0)
        .setSpeechSamples16k(61_234L)
        .setDimension(dimension)
        .setVector(Vectors.toBytes(vector(seed, dimension)))
        .setPooling("mean")
        .setProvenance(provenance())
        .setFirstChunkTimestampMs(1_764_000_000_000L)
        .setLastChunkTimestampMs(1_764_000_005_000L)
        .setEmbeddedAtMs(1_764_000_005_420L)
        .build();
  }

  public static CallEmbedding callEmbedding(long seed, int dimension) {
    return CallEmbedding.newBuilder()
        .setCallId("call-" + seed)
        .setChannel(new Channel(1, "customer"))
        .setSegmentCount(12)
        .setSpeechDurationMs(58_250)
        .setStartMs(0)
        .setEndMs(58_250)
        .setEndReason(CallEndReason.IDLE_TIMEOUT)
        .setDimension(dimension)
        .setVector(Vectors.toBytes(vector(seed, dimension)))
        .setPooling("duration-weighted-mean/mean")
        .setProvenance(provenance())
        .setFirstChunkTimestampMs(1_764_000_000_000L)
        .setLastChunkTimestampMs(1_764_000_058_250L)
        .setEmbeddedAtMs(1_764_000_088_300L)
        .build();
  }
}
