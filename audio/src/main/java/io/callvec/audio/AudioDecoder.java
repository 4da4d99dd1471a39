package io.callvec.audio;

import io.callvec.audio.AudioFormatException.Reason;

/**
 * Decodes telephone audio payloads (G.711 mu-law, A-law, 16-bit little-endian PCM) into float
 * samples in [-1, 1): the 16-bit linear value divided by 32768. G.711 uses 256-entry lookup tables.
 *
 * <p>Every payload is validated before anything is written: it must be non-empty, a whole number of
 * samples (even byte count for 16-bit PCM) and at most {@code maxPayloadBytes} bytes; otherwise an
 * {@link AudioFormatException} says which rule failed.
 */
public final class AudioDecoder {

  /**
   * Default maximum payload size, bytes: 256 KiB (32 s of 8 kHz G.711, 2.7 s of 48 kHz 16-bit PCM).
   * Telephony chunks are 20 ms (160 bytes of 8 kHz G.711); anything near this limit is a bug upstream.
   */
  public static final int DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;

  private AudioDecoder() {}

  /**
   * Validates a payload size and returns its sample count.
   *
   * @param encoding the payload's encoding; null is rejected as {@link Reason#UNKNOWN_ENCODING}
   * @param payloadBytes the payload size, bytes
   * @param maxPayloadBytes the largest accepted payload, bytes (at least 1)
   * @return the number of samples the payload holds
   * @throws AudioFormatException if the payload is empty, too large or not a whole number of samples
   */
  public static int sampleCount(Encoding encoding, int payloadBytes, int maxPayloadBytes) {
    if (encoding == null) {
      throw new AudioFormatException(
          Reason.UNKNOWN_ENCODING, "no encoding given: expected one of MULAW, ALAW, PCM_S16LE");
    }
    if (maxPayloadBytes < 1) {
      throw new IllegalArgumentException("maxPayloadBytes must be >= 1, was " + maxPayloadBytes);
    }
    if (payloadBytes <= 0) {
      throw new AudioFormatException(
          Reason.EMPTY_PAYLOAD, "empty " + encoding + " payload: expected at least one sample");
    }
    if (payloadBytes > maxPayloadBytes) {
      throw new AudioFormatException(
          Reason.PAYLOAD_TOO_LARGE,
          encoding + " payload of " + payloadBytes + " bytes exceeds the maximum of " + maxPayloadBytes
              + " bytes");
    }
    int bps = encoding.bytesPerSample();
    if (payloadBytes % bps != 0) {
      throw new AudioFormatException(
          Reason.PARTIAL_SAMPLE,
          encoding + " payload of " + payloadBytes + " bytes is not a whole number of " + bps
              + "-byte samples");
    }
    return payloadBytes / bps;
  }

  /**
   * Decodes {@code payloadBytes} bytes of {@code payload} from {@code payloadOffset} into {@code dst}
   * from {@code dstOffset}, after validating them as {@link #sampleCount} does.
   *
   * @return the number of samples written
   * @throws AudioFormatException if the payload is invalid (nothing is written then)
   * @throws IndexOutOfBoundsException if the ranges do not fit the arrays
   */
  public static int decode(
      Encoding encoding,
      byte[] payload,
      int payloadOffset,
      int payloadBytes,
      float[] dst,
      int dstOffset,
      int maxPayloadBytes) {
    int n = sampleCount(encoding, payloadBytes, maxPayloadBytes);
    java.util.Objects.checkFromIndexSize(payloadOffset, payloadBytes, payload.length);
    java.util.Objects.checkFromIndexSize(dstOffset, n, dst.length);
    if (encoding == Encoding.PCM_S16LE) {
      for (int i = 0, b = payloadOffset; i < n; i++, b += 2) {
        int v = (payload[b] & 0xFF) | (payload[b + 1] << 8);
        dst[dstOffset + i] = (short) v * (1f / 32768f);
      }
    } else {
      float[] table = G711.floatTable(encoding);
      for (int i = 0; i < n; i++) {
        dst[dstOffset + i] = table[payload[payloadOffset + i] & 0xFF];
      }
    }
    return n;
  }

  /** Decodes a whole payload into a new array; see {@link #decode(Encoding, byte[], int, int, float[], int, int)}. */
  public static float[] decode(Encoding encoding, byte[] payload, int maxPayloadBytes) {
    if (payload == null) {
      throw new AudioFormatException(Reason.EMPTY_PAYLOAD, "null " + encoding + " payload");
    }
    float[] out = new float[sampleCount(encoding, payload.length, maxPayloadBytes)];
    decode(encoding, payload, 0, payload.length, out, 0, maxPayloadBytes);
    return out;
  }

  /** Decodes a whole payload with {@link #DEFAULT_MAX_PAYLOAD_BYTES}. */
  public static float[] decode(Encoding encoding, byte[] payload) {
    return decode(encoding, payload, DEFAULT_MAX_PAYLOAD_BYTES);
  }
}
