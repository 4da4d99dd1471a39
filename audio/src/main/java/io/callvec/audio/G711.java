package io.callvec.audio;

/**
 * ITU-T G.711 mu-law and A-law, by lookup table.
 *
 * <p>Decoding follows the ITU-T G.711 tables, scaled to the 16-bit range as in the reference
 * implementation (Sun's {@code g711.c}, also used by sox and CPython's {@code audioop}): mu-law codes
 * decode to linear values in [-32124, 32124], A-law codes to [-32256, 32256]. The float variants divide
 * that 16-bit value by 32768, so they lie in [-1, 1). Codes are passed as {@code int} 0..255 (use
 * {@code b & 0xFF} for a byte).
 *
 * <p>The encoders (16-bit linear to code, as in {@code g711.c}) exist for tests, demos and replay
 * tools that need to produce telephone payloads; they round towards the reference's segment
 * boundaries and clip at the codec's maximum.
 */
public final class G711 {

  private static final short[] MULAW_TO_PCM16 = new short[256];
  private static final short[] ALAW_TO_PCM16 = new short[256];
  private static final float[] MULAW_TO_FLOAT = new float[256];
  private static final float[] ALAW_TO_FLOAT = new float[256];

  private static final int[] SEG_MU_END = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};
  private static final int[] SEG_A_END = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};

  static {
    for (int code = 0; code < 256; code++) {
      MULAW_TO_PCM16[code] = (short) mulawFormula(code);
      ALAW_TO_PCM16[code] = (short) alawFormula(code);
      MULAW_TO_FLOAT[code] = MULAW_TO_PCM16[code] / 32768f;
      ALAW_TO_FLOAT[code] = ALAW_TO_PCM16[code] / 32768f;
    }
  }

  private G711() {}

  private static int mulawFormula(int code) {
    int u = ~code & 0xFF;
    int t = ((u & 0x0F) << 3) + 0x84;
    t <<= (u & 0x70) >> 4;
    return (u & 0x80) != 0 ? 0x84 - t : t - 0x84;
  }

  private static int alawFormula(int code) {
    int a = (code ^ 0x55) & 0xFF;
    int t = (a & 0x0F) << 4;
    int seg = (a & 0x70) >> 4;
    switch (seg) {
      case 0:
        t += 8;
        break;
      case 1:
        t += 0x108;
        break;
      default:
        t += 0x108;
        t <<= seg - 1;
        break;
    }
    return (a & 0x80) != 0 ? t : -t;
  }

  /** The 16-bit linear value of a mu-law code (0..255). */
  public static short mulawToPcm16(int code) {
    return MULAW_TO_PCM16[code & 0xFF];
  }

  /** The 16-bit linear value of an A-law code (0..255). */
  public static short alawToPcm16(int code) {
    return ALAW_TO_PCM16[code & 0xFF];
  }

  /** The sample value in [-1, 1) of a mu-law code (0..255): {@code mulawToPcm16(code) / 32768}. */
  public static float mulawToFloat(int code) {
    return MULAW_TO_FLOAT[code & 0xFF];
  }

  /** The sample value in [-1, 1) of an A-law code (0..255): {@code alawToPcm16(code) / 32768}. */
  public static float alawToFloat(int code) {
    return ALAW_TO_FLOAT[code & 0xFF];
  }

  /** The 256-entry float decoding table of a G.711 encoding (shared: never modify it). */
  static float[] floatTable(Encoding encoding) {
    switch (encoding) {
      case MULAW:
        return MULAW_TO_FLOAT;
      case ALAW:
        return ALAW_TO_FLOAT;
      default:
        throw new IllegalArgumentException("not a G.711 encoding: " + encoding);
    }
  }

  /** Encodes a 16-bit linear sample (clamped to [-32768, 32767]) as a mu-law code (0..255). */
  public static int pcm16ToMulaw(int pcm16) {
    int v = Math.max(-32768, Math.min(32767, pcm16)) >> 2;
    int mask;
    if (v < 0) {
      v = -v;
      mask = 0x7F;
    } else {
      mask = 0xFF;
    }
    if (v > 8159) {
      v = 8159;
    }
    v += 0x84 >> 2;
    int seg = segment(v, SEG_MU_END);
    if (seg >= 8) {
      return 0x7F ^ mask;
    }
    int u = (seg << 4) | ((v >> (seg + 1)) & 0x0F);
    return (u ^ mask) & 0xFF;
  }

  /** Encodes a 16-bit linear sample (clamped to [-32768, 32767]) as an A-law code (0..255). */
  public static int pcm16ToAlaw(int pcm16) {
    int v = Math.max(-32768, Math.min(32767, pcm16)) >> 3;
    int mask;
    if (v >= 0) {
      mask = 0xD5;
    } else {
      mask = 0x55;
      v = -v - 1;
    }
    int seg = segment(v, SEG_A_END);
    if (seg >= 8) {
      return (0x7F ^ mask) & 0xFF;
    }
    int a = seg << 4;
    a |= seg < 2 ? (v >> 1) & 0x0F : (v >> seg) & 0x0F;
    return (a ^ mask) & 0xFF;
  }

  private static int segment(int v, int[] ends) {
    for (int i = 0; i < ends.length; i++) {
      if (v <= ends[i]) {
        return i;
      }
    }
    return ends.length;
  }

  /**
   * Encodes float samples in [-1, 1) (scaled by 32768, rounded, clipped to 16 bits) in {@code
   * encoding}: one byte per sample for G.711, two little-endian bytes for PCM16. For test and demo
   * traffic.
   */
  public static byte[] encode(Encoding encoding, float[] samples) {
    byte[] out = new byte[samples.length * encoding.bytesPerSample()];
    for (int i = 0; i < samples.length; i++) {
      int v = (int) Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32768.0)));
      switch (encoding) {
        case MULAW -> out[i] = (byte) pcm16ToMulaw(v);
        case ALAW -> out[i] = (byte) pcm16ToAlaw(v);
        case PCM_S16LE -> {
          out[2 * i] = (byte) v;
          out[2 * i + 1] = (byte) (v >> 8);
        }
      }
    }
    return out;
  }
}
