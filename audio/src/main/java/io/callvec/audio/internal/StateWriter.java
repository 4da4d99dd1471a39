package io.callvec.audio.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Little-endian writer of the front end's compact binary state formats. Every blob starts with a
 * 4-byte header: the magic {@code 'C' 'V'}, a kind byte and a format version byte.
 */
public final class StateWriter {

  /** One writer per thread for {@link #scratch}: its buffer is kept between uses, grown on demand. */
  private static final ThreadLocal<StateWriter> SCRATCH = ThreadLocal.withInitial(() -> new StateWriter(2048));
  /** Largest buffer {@link #scratch} keeps for its thread between uses, bytes. */
  private static final int MAX_KEPT_BYTES = 64 * 1024;

  private byte[] buf;
  private int len;

  public StateWriter(int initialCapacityBytes) {
    buf = new byte[Math.max(16, initialCapacityBytes)];
  }

  /**
   * This thread's reusable writer, emptied: for a state written on every chunk, so that only {@link
   * #toByteArray}'s exact-size copy is allocated. Not reentrant: finish with it (toByteArray) before
   * the next call on the same thread.
   */
  public static StateWriter scratch() {
    StateWriter w = SCRATCH.get();
    w.len = 0;
    if (w.buf.length > MAX_KEPT_BYTES) {
      w.buf = new byte[2048]; // a large state (a full reorder buffer, a buffered window) is not kept per thread
    }
    return w;
  }

  private void ensure(int extraBytes) {
    if (len + extraBytes > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extraBytes));
    }
  }

  public StateWriter header(char kind, int version) {
    ensure(4);
    buf[len++] = 'C';
    buf[len++] = 'V';
    buf[len++] = (byte) kind;
    buf[len++] = (byte) version;
    return this;
  }

  public StateWriter writeByte(int v) {
    ensure(1);
    buf[len++] = (byte) v;
    return this;
  }

  public StateWriter writeBoolean(boolean v) {
    return writeByte(v ? 1 : 0);
  }

  public StateWriter writeInt(int v) {
    ensure(4);
    buf[len++] = (byte) v;
    buf[len++] = (byte) (v >>> 8);
    buf[len++] = (byte) (v >>> 16);
    buf[len++] = (byte) (v >>> 24);
    return this;
  }

  public StateWriter writeLong(long v) {
    writeInt((int) v);
    return writeInt((int) (v >>> 32));
  }

  /** A count followed by the raw IEEE-754 bits of each float (bit-exact round trip). */
  public StateWriter writeFloats(float[] src, int off, int count) {
    writeInt(count);
    ensure(4 * count);
    ByteBuffer.wrap(buf, len, 4 * count).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(src, off, count);
    len += 4 * count;
    return this;
  }

  /** A length-prefixed nested blob. */
  public StateWriter writeBlob(byte[] blob) {
    writeInt(blob.length);
    ensure(blob.length);
    System.arraycopy(blob, 0, buf, len, blob.length);
    len += blob.length;
    return this;
  }

  public byte[] toByteArray() {
    return Arrays.copyOf(buf, len);
  }
}
