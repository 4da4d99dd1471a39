package io.callvec.topology.internals;

/**
 * Unsigned LEB128 varints (7 bits per byte, low group first, as protobuf and Kafka's record format
 * write them) and zigzag mapping of signed values, for compact state layouts.
 */
final class Varint {
  private Varint() {}

  /** Writes {@code v} (as unsigned 64-bit) at {@code pos}; returns the position after it (1 to 10 bytes). */
  static int put(byte[] dst, int pos, long v) {
    while ((v & ~0x7FL) != 0) {
      dst[pos++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    dst[pos++] = (byte) v;
    return pos;
  }

  /**
   * Reads a varint at {@code at[0]} and moves {@code at[0]} past it.
   *
   * @throws IllegalStateException if it runs past the array or over 10 bytes
   */
  static long get(byte[] src, int[] at) {
    long v = 0;
    int shift = 0;
    int p = at[0];
    while (true) {
      if (p >= src.length || shift > 63) {
        throw new IllegalStateException("truncated or overlong varint at byte " + at[0]);
      }
      byte b = src[p++];
      v |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        break;
      }
      shift += 7;
    }
    at[0] = p;
    return v;
  }

  static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }

  static long unzigzag(long v) {
    return (v >>> 1) ^ -(v & 1);
  }
}
