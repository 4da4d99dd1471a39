package io.callvec.topology.chunks;

import io.callvec.schemas.AudioEncoding;

/**
 * The audio of one call × channel stream, whole, as a telephony source would send it.
 *
 * @param callId the call id (the records' key)
 * @param channelIndex the channel's index within the call (0 = agent, 1 = customer by convention)
 * @param channelName the channel's name (e.g. {@code agent})
 * @param encoding the sample encoding of {@code audio}
 * @param sampleRateHz samples per second of {@code audio}, Hz
 * @param audio the whole stream, encoded in {@code encoding}: 1 byte per sample for G.711, 2 for
 *     PCM16 little-endian (not copied)
 */
public record Recording(String callId, int channelIndex, String channelName, AudioEncoding encoding, int sampleRateHz, byte[] audio) {

  /** Bytes per sample of {@link #audio}: 2 for PCM16, 1 for G.711. */
  public int bytesPerSample() {
    return encoding == AudioEncoding.PCM_S16LE ? 2 : 1;
  }

  /** Samples in {@link #audio}. */
  public long samples() {
    return audio.length / bytesPerSample();
  }

  /** Duration, ms (rounded down). */
  public long durationMs() {
    return samples() * 1000 / sampleRateHz;
  }
}
