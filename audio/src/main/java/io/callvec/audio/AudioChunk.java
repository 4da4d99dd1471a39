package io.callvec.audio;

/**
 * One chunk of call audio as it arrives from the ingestion pipeline (typically 20 ms).
 *
 * @param sequenceNumber the chunk's number within its call x channel, >= 0, increasing by one per
 *     chunk (identifies duplicates; breaks ties)
 * @param timestampMs media timestamp: ms since the start of the call (timestamp 0), >= 0; places the
 *     chunk on the timeline
 * @param encoding the payload's sample encoding
 * @param sampleRateHz the payload's sample rate, Hz
 * @param payload the encoded samples (not copied; do not modify while the chunk is in use)
 */
public record AudioChunk(long sequenceNumber, long timestampMs, Encoding encoding, int sampleRateHz, byte[] payload) {

  @Override
  public String toString() {
    return "AudioChunk[seq=" + sequenceNumber + ", timestampMs=" + timestampMs + ", " + encoding + ", "
        + sampleRateHz + " Hz, " + (payload == null ? "null" : payload.length + " bytes") + "]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AudioChunk c
        && c.sequenceNumber == sequenceNumber
        && c.timestampMs == timestampMs
        && c.encoding == encoding
        && c.sampleRateHz == sampleRateHz
        && java.util.Arrays.equals(c.payload, payload);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(sequenceNumber, timestampMs, encoding, sampleRateHz)
        * 31 + java.util.Arrays.hashCode(payload);
  }
}
