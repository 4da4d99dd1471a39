package io.callvec.demo;

/**
 * G.711 encoders (ITU-T G.711, the segment/quantisation tables of the reference implementation), for
 * producing test and demo traffic. Input: linear samples in [-1, 1), scaled to 16-bit.
 */
public final class G711Encoder {
  private G711Encoder() {}

  private static final int[] SEG_UEND = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};
  private static final int[] SEG_AEND = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};

  private static int segment(int value, int[] ends) {
    for (int i = 0; i < ends.length; i++) {
      if (value <= ends[i]) {
        return i;
      }
    }
    return ends.length;
  }

  /** One 16-bit linear sample to a μ-law byte (the reference algorithm on 14-bit magnitudes). */
  public static byte linearToMulaw(int pcm16) {
    int v = pcm16 >> 2;
    int mask;
    if (v < 0) {
      v = -v;
      mask = 0x7F;
    } else {
      mask = 0xFF;
    }
    v = Math.min(v, 8159) + (0x84 >> 2);
    int seg = segment(v, SEG_UEND);
    if (seg >= 8) {
      return (byte) (0x7F ^ mask);
    }
    return (byte) (((seg << 4) | ((v >> (seg + 1)) & 0xF)) ^ mask);
  }

  /** One 16-bit linear sample to an A-law byte (the reference algorithm on 13-bit magnitudes). */
  public static byte linearToAlaw(int pcm16) {
    int v = pcm16 >> 3;
    int mask;
    if (v >= 0) {
      mask = 0xD5;
    } else {
      mask = 0x55;
      v = -v - 1;
    }
    int seg = segment(v, SEG_AEND);
    if (seg >= 8) {
      return (byte) (0x7F ^ mask);
    }
    int aval = seg << 4;
    aval |= seg < 2 ? (v >> 1) & 0xF : (v >> seg) & 0xF;
    return (byte) (aval ^ mask);
  }

  static int toPcm16(float x) {
    return (int) Math.max(-32768, Math.min(32767, Math.round(x * 32768.0)));
  }

  /** Encodes float samples to μ-law bytes. */
  public static byte[] mulaw(float[] samples) {
    byte[] out = new byte[samples.length];
    for (int i = 0; i < samples.length; i++) {
      out[i] = linearToMulaw(toPcm16(samples[i]));
    }
    return out;
  }

  /** Encodes float samples to A-law bytes. */
  public static byte[] alaw(float[] samples) {
    byte[] out = new byte[samples.length];
    for (int i = 0; i < samples.length; i++) {
      out[i] = linearToAlaw(toPcm16(samples[i]));
    }
    return out;
  }

  /** Encodes float samples to 16-bit little-endian PCM bytes. */
  public static byte[] pcm16le(float[] samples) {
    byte[] out = new byte[samples.length * 2];
    for (int i = 0; i < samples.length; i++) {
      int v = toPcm16(samples[i]);
      out[2 * i] = (byte) v;
      out[2 * i + 1] = (byte) (v >> 8);
    }
    return out;
  }
}
