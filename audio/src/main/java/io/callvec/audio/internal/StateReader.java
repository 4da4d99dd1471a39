package io.callvec.audio.internal;

import io.callvec.audio.AudioStateException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reader of the blobs {@link StateWriter} writes; every violation (wrong magic, kind or version,
 * truncation, trailing bytes, out-of-range values) throws {@link AudioStateException} with what was
 * expected and what was found.
 */
public final class StateReader {

  private final byte[] buf;
  private int pos;
  private final String what;

  private StateReader(byte[] buf, String what) {
    this.buf = buf;
    this.what = what;
  }

  /**
   * Wraps a blob; call {@link #header} next.
   *
   * @param what a human name of the state, for messages (e.g. "resampler state")
   */
  public static StateReader of(byte[] blob, String what) {
    if (blob == null) {
      throw new AudioStateException("no " + what + ": the blob is null");
    }
    return new StateReader(blob, what);
  }

  /**
   * Checks a 4-byte header at the current position: magic 'CV', the kind byte and the format version.
   *
   * @param kind the expected kind byte
   * @param version the only format version this build reads
   * @param headerWhat a human name of the state the header introduces, for messages
   */
  public StateReader header(char kind, int version, String headerWhat) {
    int left = buf.length - pos;
    if (left < 4 || buf[pos] != 'C' || buf[pos + 1] != 'V') {
      throw new AudioStateException(
          "not a callvec " + headerWhat + ": expected the magic bytes 'CV' at offset " + pos + ", found "
              + (left < 2 ? left + " byte(s)" : String.format("0x%02x%02x", buf[pos], buf[pos + 1])));
    }
    if (buf[pos + 2] != (byte) kind) {
      throw new AudioStateException(
          "not a " + headerWhat + ": expected kind '" + kind + "', found '" + (char) (buf[pos + 2] & 0xFF) + "'");
    }
    if ((buf[pos + 3] & 0xFF) != version) {
      throw new AudioStateException(
          "unsupported " + headerWhat + " format version " + (buf[pos + 3] & 0xFF)
              + ": this build reads version " + version);
    }
    pos += 4;
    return this;
  }

  private void need(int bytes) {
    if (bytes < 0 || pos + bytes > buf.length) {
      throw new AudioStateException(
          "truncated " + what + ": needed " + bytes + " more byte(s) at offset " + pos + ", blob has "
              + buf.length + " bytes");
    }
  }

  public int readByte() {
    need(1);
    return buf[pos++] & 0xFF;
  }

  public boolean readBoolean() {
    int v = readByte();
    if (v > 1) {
      throw new AudioStateException("corrupt " + what + ": expected a boolean 0 or 1, found " + v);
    }
    return v == 1;
  }

  public int readInt() {
    need(4);
    int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
    pos += 4;
    return v;
  }

  public long readLong() {
    long lo = readInt() & 0xFFFFFFFFL;
    long hi = readInt() & 0xFFFFFFFFL;
    return lo | hi << 32;
  }

  /** An int that must lie in [min, max]. */
  public int readInt(String field, int min, int max) {
    int v = readInt();
    check(field, v, min, max);
    return v;
  }

  /** A long that must lie in [min, max]. */
  public long readLong(String field, long min, long max) {
    long v = readLong();
    check(field, v, min, max);
    return v;
  }

  /** Throws unless min <= v <= max. */
  public void check(String field, long v, long min, long max) {
    if (v < min || v > max) {
      throw new AudioStateException(
          "corrupt " + what + ": " + field + " = " + v + " is outside [" + min + ", " + max + "]");
    }
  }

  /** Throws with a "corrupt" message when a consistency condition fails. */
  public void require(boolean condition, String message) {
    if (!condition) {
      throw new AudioStateException("corrupt " + what + ": " + message);
    }
  }

  /** A float array of at most maxCount elements, written by {@link StateWriter#writeFloats}. */
  public float[] readFloats(String field, int maxCount) {
    int n = readInt(field + " length", 0, maxCount);
    need(4 * n);
    float[] out = new float[n];
    ByteBuffer.wrap(buf, pos, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    pos += 4 * n;
    return out;
  }

  public byte[] readBlob(String field) {
    int n = readInt(field + " length", 0, buf.length - pos - 4);
    need(n);
    byte[] out = java.util.Arrays.copyOfRange(buf, pos, pos + n);
    pos += n;
    return out;
  }

  /** Throws if bytes remain after the last field. */
  public void end() {
    if (pos != buf.length) {
      throw new AudioStateException(
          "corrupt " + what + ": " + (buf.length - pos) + " unexpected trailing byte(s) after offset " + pos);
    }
  }
}
