package io.callvec.topology.internals;

/**
 * What the call processor needs of the audio front end of one call × channel: decode, reorder,
 * de-duplicate, fill short gaps, resample to 16 kHz. Pure logic; its whole state round-trips
 * through {@link #toBytes()}.
 */
public interface FrontEndPort {

  /** Receives 16 kHz audio in timeline order. */
  interface AudioSink {
    /**
     * {@code length} samples at 16 kHz starting at {@code startSample16k} on the stream's timeline.
     * Contiguous with the previous call unless a gap too long to fill started a new run.
     */
    void audio(long startSample16k, float[] samples, int offset, int length);
  }

  /** Outcome of one chunk, for counters. */
  enum Placement {
    ACCEPTED,
    DUPLICATE,
    TOO_LATE
  }

  /**
   * Accepts one chunk's payload.
   *
   * @throws io.callvec.topology.internals.InvalidChunkException if the payload cannot be decoded
   */
  Placement accept(long sequenceNumber, long mediaTimestampMs, byte[] payload, AudioSink sink) throws InvalidChunkException;

  /** End of stream: emits everything still buffered (reorder buffer, resampler tail). */
  void finish(AudioSink sink);

  /** The state, to be restored by the factory. */
  byte[] toBytes();

  /** Counters since the stream started: samples of silence inserted into short gaps (at 16 kHz), new runs after long gaps. */
  long gapFilledSamples16k();

  long newRuns();
}
