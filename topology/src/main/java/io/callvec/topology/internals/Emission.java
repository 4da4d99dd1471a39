package io.callvec.topology.internals;

import io.callvec.model.ModelInfo;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.CallEndReason;
import io.callvec.schemas.Channel;
import io.callvec.schemas.ModelProvenance;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import io.callvec.topology.Output;
import io.callvec.topology.TopologySettings;
import java.nio.ByteBuffer;
import java.util.Locale;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The output records of one task: segment embeddings (embedded, or skipped by the VAD) and call
 * embeddings, built from a window's coordinates or a channel's state and forwarded in the current
 * transaction. Knows the model's provenance and pooling; keeps no state and writes no store: what
 * an emission deletes or updates is {@link CallProcessor}'s business.
 *
 * <p>Record timestamps are the last chunk timestamp the output depends on (never negative), so that
 * downstream windowing follows the input's time.
 */
final class Emission {
  private final ProcessorContext<String, Output> context;
  private final ModelInfo modelInfo;
  private final ModelProvenance provenance;
  private final String pooling;

  Emission(ProcessorContext<String, Output> context, ModelInfo modelInfo) {
    this.context = context;
    this.modelInfo = modelInfo;
    this.provenance = new ModelProvenance(modelInfo.modelId(), modelInfo.revision(), modelInfo.contentSha256());
    this.pooling = modelInfo.pooling().name().toLowerCase(Locale.ROOT);
  }

  /**
   * Forwards the segment of window {@code w} of the stream {@code prefix}: with {@code vector} when
   * it was embedded, or without one ({@code dimension} 0, empty {@code vector}) and {@code skipped}
   * set when {@code skippedReason} is not null.
   *
   * @param speechSamples16k the window's speech, in 16 kHz samples; null without a VAD
   * @param nowMs the stream time's wall clock, {@code embeddedAtMs}
   * @return the record forwarded
   */
  SegmentEmbedding segment(byte[] prefix, String channelName, PendingWindow w, Long speechSamples16k, float[] vector, String skippedReason, long nowMs) {
    String callId = StoreKeys.callId(prefix);
    long start = w.startSample();
    long end = start + w.lengthSamples();
    SegmentEmbedding.Builder b = SegmentEmbedding.newBuilder()
        .setCallId(callId)
        .setChannel(new Channel(StoreKeys.channelIndex(prefix), channelName))
        .setSegmentIndex(w.segmentIndex())
        .setStartSample16k(start)
        .setEndSample16k(end)
        .setStartMs(start / TopologySettings.SAMPLES_PER_MS_16K)
        .setEndMs(end / TopologySettings.SAMPLES_PER_MS_16K)
        .setPaddedSamples16k(0L)
        .setSpeechSamples16k(speechSamples16k)
        .setPooling(pooling)
        .setProvenance(provenance)
        .setFirstChunkTimestampMs(w.firstChunkTimestampMs())
        .setLastChunkTimestampMs(w.lastChunkTimestampMs())
        .setEmbeddedAtMs(nowMs);
    if (skippedReason == null) {
      b.setDimension(vector.length).setVector(Vectors.toBytes(vector)).setLayer(layer());
    } else {
      b.setDimension(0).setVector(ByteBuffer.allocate(0)).setSkipped(skippedReason);
    }
    SegmentEmbedding seg = b.build();
    context.forward(new Record<>(callId, new Output.Segment(seg), Math.max(w.lastChunkTimestampMs(), 0L)));
    return seg;
  }

  /**
   * Forwards the call embedding of the ended stream {@code prefix}: the weighted mean of its pooled
   * segments ({@code sum} ÷ {@code state.weightSamples}).
   *
   * @param sum the channel's running vector sum; never null when {@code state.embeddedSegments > 0}
   * @param callWeighting how segments were weighted ({@link SpeechGate#callWeighting()})
   * @param skippedSegments segments the VAD skipped
   */
  void call(byte[] prefix, ChannelState state, double[] sum, String callWeighting, int skippedSegments, long nowMs) {
    String callId = StoreKeys.callId(prefix);
    int channelIndex = StoreKeys.channelIndex(prefix);
    if (sum == null) {
      throw new IllegalStateException(callId + "/" + channelIndex + " pooled " + state.embeddedSegments + " segments but has no vector sum");
    }
    float[] mean = new float[sum.length];
    for (int i = 0; i < mean.length; i++) {
      mean[i] = (float) (sum[i] / state.weightSamples);
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
        .setPooling(callWeighting + "/" + pooling)
        .setProvenance(provenance)
        .setFirstChunkTimestampMs(state.firstChunkTimestampMs)
        .setLastChunkTimestampMs(state.lastChunkTimestampMs)
        .setEmbeddedAtMs(nowMs)
        .setFailedSegments(state.failedSegments)
        .setLayer(layer())
        .setSkippedSegments(skippedSegments)
        .build();
    context.forward(new Record<>(CallProcessor.callKey(callId, channelIndex), new Output.Call(call), Math.max(state.lastChunkTimestampMs, 0L)));
  }

  /** The pooled layer for the output records (Hugging Face numbering); null when the model does not say. */
  private Integer layer() {
    return modelInfo.layer() < 0 ? null : modelInfo.layer();
  }
}
