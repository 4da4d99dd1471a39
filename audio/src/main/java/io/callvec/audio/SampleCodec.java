package io.callvec.audio;

/**
 * Lossless compact storage of decoded samples: a sample that is the decoding of a G.711 code or a
 * 16-bit PCM value (as {@link AudioDecoder} produces it; silence included) is stored as that code
 * again, 1 byte (G.711) or 2 bytes (PCM) instead of 4, and decodes back to the same float, bit for
 * bit. Anything else (e.g. audio that went through a filter) is stored as float32.
 *
 * <p>Forms: {@link #FLOAT32} (4 bytes per sample, little-endian IEEE), {@link #MULAW} and {@link
 * #ALAW} (1 byte), {@link #PCM_S16LE} (2 bytes, little-endian), {@link #SILENCE} (0 bytes: all
 * samples +0.0, e.g. gap fill; A-law has no code for 0). {@link #formFor} picks the smallest that
 * holds a block exactly.
 */
public final class SampleCodec {
  public static final int FLOAT32 = 0;
  public static final int MULAW = 1;
  public static final int ALAW = 2;
  public static final int PCM_S16LE = 3;
  public static final int SILENCE = 4;

  private static final float PCM_SCALE = 1f / 32768f;
  /** 16-bit value + 32768 -> the G.711 code decoding to it (any, where two do); 64 KiB each. */
  private static final byte[] MULAW_OF_PCM = inverse(true);
  private static final byte[] ALAW_OF_PCM = inverse(false);

  private static byte[] inverse(boolean mu) {
    byte[] inv = new byte[65536];
    for (int code = 0; code < 256; code++) {
      inv[(mu ? G711.mulawToPcm16(code) : G711.alawToPcm16(code)) + 32768] = (byte) code;
    }
    return inv;
  }

  private SampleCodec() {}

  /** The compact form of an encoding's decoded samples. */
  public static int compactFormOf(Encoding encoding) {
    return switch (encoding) {
      case MULAW -> MULAW;
      case ALAW -> ALAW;
      case PCM_S16LE -> PCM_S16LE;
    };
  }

  /** Bytes per sample of a form. */
  public static int bytesPerSample(int form) {
    return switch (form) {
      case FLOAT32 -> 4;
      case MULAW, ALAW -> 1;
      case PCM_S16LE -> 2;
      case SILENCE -> 0;
      default -> throw new IllegalArgumentException("unknown sample form " + form + ": expected 0..4");
    };
  }

  /**
   * Encodes {@code length} samples in {@code form} into {@code dst} from {@code dstOffset}; for a
   * compact form, only if every sample decodes back bit-identically.
   *
   * @return false (dst partly written) if a sample has no exact code in a compact form; never for
   *     {@link #FLOAT32}
   */
  public static boolean encode(int form, float[] samples, int offset, int length, byte[] dst, int dstOffset) {
    java.util.Objects.checkFromIndexSize(offset, length, samples.length);
    java.util.Objects.checkFromIndexSize(dstOffset, length * bytesPerSample(form), dst.length);
    switch (form) {
      case FLOAT32 -> {
        for (int i = 0, b = dstOffset; i < length; i++, b += 4) {
          int v = Float.floatToRawIntBits(samples[offset + i]);
          dst[b] = (byte) v;
          dst[b + 1] = (byte) (v >> 8);
          dst[b + 2] = (byte) (v >> 16);
          dst[b + 3] = (byte) (v >> 24);
        }
        return true;
      }
      case MULAW, ALAW -> {
        boolean mu = form == MULAW;
        byte[] inv = mu ? MULAW_OF_PCM : ALAW_OF_PCM;
        for (int i = 0; i < length; i++) {
          float f = samples[offset + i];
          int pcm = Math.round(f * 32768f);
          if (pcm < Short.MIN_VALUE || pcm > Short.MAX_VALUE) {
            return false;
          }
          int code = inv[pcm + 32768] & 0xFF;
          float back = mu ? G711.mulawToFloat(code) : G711.alawToFloat(code);
          if (Float.floatToRawIntBits(back) != Float.floatToRawIntBits(f)) {
            return false;
          }
          dst[dstOffset + i] = (byte) code;
        }
        return true;
      }
      case PCM_S16LE -> {
        for (int i = 0, b = dstOffset; i < length; i++, b += 2) {
          float f = samples[offset + i];
          int v = Math.round(f * 32768f);
          if (v < Short.MIN_VALUE || v > Short.MAX_VALUE
              || Float.floatToRawIntBits((short) v * PCM_SCALE) != Float.floatToRawIntBits(f)) {
            return false;
          }
          dst[b] = (byte) v;
          dst[b + 1] = (byte) (v >> 8);
        }
        return true;
      }
      case SILENCE -> {
        for (int i = 0; i < length; i++) {
          if (Float.floatToRawIntBits(samples[offset + i]) != 0) {
            return false;
          }
        }
        return true;
      }
      default -> throw new IllegalArgumentException("unknown sample form " + form + ": expected 0..4");
    }
  }

  /**
   * The smallest form that holds the samples exactly ({@link #SILENCE}, the encoding's compact form,
   * else {@link #FLOAT32}); {@code scratch} (at least {@code length} bytes) is written to.
   */
  public static int formFor(Encoding encoding, float[] samples, int offset, int length, byte[] scratch) {
    if (encode(SILENCE, samples, offset, length, scratch, 0)) {
      return SILENCE;
    }
    int compact = compactFormOf(encoding);
    return encode(compact, samples, offset, length, scratch, 0) ? compact : FLOAT32;
  }

  /** Decodes {@code length} samples of {@code form} from {@code src} at {@code srcOffset} into {@code dst}. */
  public static void decode(int form, byte[] src, int srcOffset, int length, float[] dst, int dstOffset) {
    java.util.Objects.checkFromIndexSize(srcOffset, length * bytesPerSample(form), src.length);
    java.util.Objects.checkFromIndexSize(dstOffset, length, dst.length);
    switch (form) {
      case FLOAT32 -> {
        for (int i = 0, b = srcOffset; i < length; i++, b += 4) {
          int v = (src[b] & 0xFF) | (src[b + 1] & 0xFF) << 8 | (src[b + 2] & 0xFF) << 16 | src[b + 3] << 24;
          dst[dstOffset + i] = Float.intBitsToFloat(v);
        }
      }
      case MULAW -> {
        for (int i = 0; i < length; i++) {
          dst[dstOffset + i] = G711.mulawToFloat(src[srcOffset + i]);
        }
      }
      case ALAW -> {
        for (int i = 0; i < length; i++) {
          dst[dstOffset + i] = G711.alawToFloat(src[srcOffset + i]);
        }
      }
      case PCM_S16LE -> {
        for (int i = 0, b = srcOffset; i < length; i++, b += 2) {
          dst[dstOffset + i] = (short) ((src[b] & 0xFF) | (src[b + 1] << 8)) * PCM_SCALE;
        }
      }
      case SILENCE -> java.util.Arrays.fill(dst, dstOffset, dstOffset + length, 0f);
      default -> throw new IllegalArgumentException("unknown sample form " + form + ": expected 0..4");
    }
  }
}
