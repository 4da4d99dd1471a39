package io.callvec.model.vad;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One stream's Silero VAD v5 state: the recurrent state (2 × 128 floats), the last {@link
 * #contextSamples()} input samples (prepended to the next frame, as the reference implementation
 * does: 64 at 16 kHz, 32 at 8 kHz) and the samples of an incomplete frame (fewer than {@link
 * #frameSamples()}), so that audio can arrive in chunks of any size (e.g. 20 ms = 160 samples at 8
 * kHz). Serialised by {@link #toBytes()} into {@link #serializedBytes()} bytes (1,168 at 8 kHz),
 * restored by {@link #fromBytes}; a restored state continues bit-identically. Not thread-safe.
 */
public final class VadState {
  /** Floats of the recurrent state: [2, 1, 128]. */
  public static final int RNN_FLOATS = 2 * 128;

  private static final byte FORMAT = 1;

  private final int sampleRateHz;
  final float[] rnn = new float[RNN_FLOATS];
  final float[] context;
  final float[] pending;
  int pendingCount;
  long frames;

  VadState(int sampleRateHz) {
    this.sampleRateHz = checkRate(sampleRateHz);
    this.context = new float[contextSamples(sampleRateHz)];
    this.pending = new float[frameSamples(sampleRateHz)];
  }

  /** A fresh state (silence before the stream) at 8,000 or 16,000 Hz. */
  public static VadState initial(int sampleRateHz) {
    return new VadState(sampleRateHz);
  }

  static int checkRate(int hz) {
    if (hz != 8_000 && hz != 16_000) {
      throw new IllegalArgumentException(
          "Silero VAD v5 runs at 8000 or 16000 Hz, got " + hz + " Hz");
    }
    return hz;
  }

  /** New samples per frame: 256 at 8 kHz, 512 at 16 kHz (32 ms). */
  public static int frameSamples(int sampleRateHz) {
    return checkRate(sampleRateHz) / 1000 * VadOptions.FRAME_MS;
  }

  /** Context samples prepended to each frame: 32 at 8 kHz, 64 at 16 kHz. */
  public static int contextSamples(int sampleRateHz) {
    return checkRate(sampleRateHz) == 16_000 ? 64 : 32;
  }

  public int sampleRateHz() {
    return sampleRateHz;
  }

  public int frameSamples() {
    return pending.length;
  }

  public int contextSamples() {
    return context.length;
  }

  /** Samples received but not yet part of a complete frame (0 .. frameSamples − 1). */
  public int pendingSamples() {
    return pendingCount;
  }

  /** Frames processed since the stream started. */
  public long frames() {
    return frames;
  }

  /** Size of {@link #toBytes()}: 1 + 4 + 8 + 4 + 4 × (256 + context + pending) bytes. */
  public int serializedBytes() {
    return 1 + 4 + 8 + 4 + 4 * (RNN_FLOATS + context.length + pendingCount);
  }

  /**
   * Little-endian: format byte (1), sample rate (int32), frames (int64), pending count (int32),
   * then the recurrent state, the context and the pending samples as float32.
   */
  public byte[] toBytes() {
    ByteBuffer b = ByteBuffer.allocate(serializedBytes()).order(ByteOrder.LITTLE_ENDIAN);
    b.put(FORMAT).putInt(sampleRateHz).putLong(frames).putInt(pendingCount);
    for (float v : rnn) {
      b.putFloat(v);
    }
    for (float v : context) {
      b.putFloat(v);
    }
    for (int i = 0; i < pendingCount; i++) {
      b.putFloat(pending[i]);
    }
    return b.array();
  }

  /** The inverse of {@link #toBytes()}. */
  public static VadState fromBytes(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 17 || b.get() != FORMAT) {
      throw new IllegalArgumentException(
          "not a serialised VadState (format " + FORMAT + "): " + bytes.length + " bytes");
    }
    VadState s = new VadState(b.getInt());
    s.frames = b.getLong();
    s.pendingCount = b.getInt();
    if (s.pendingCount < 0 || s.pendingCount >= s.pending.length
        || bytes.length != s.serializedBytes()) {
      throw new IllegalArgumentException("corrupt VadState: " + bytes.length + " bytes, "
          + s.pendingCount + " pending samples at " + s.sampleRateHz + " Hz");
    }
    for (int i = 0; i < RNN_FLOATS; i++) {
      s.rnn[i] = b.getFloat();
    }
    for (int i = 0; i < s.context.length; i++) {
      s.context[i] = b.getFloat();
    }
    for (int i = 0; i < s.pendingCount; i++) {
      s.pending[i] = b.getFloat();
    }
    return s;
  }

  /** An independent copy. */
  public VadState copy() {
    return fromBytes(toBytes());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VadState && Arrays.equals(toBytes(), ((VadState) o).toBytes());
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(toBytes());
  }

  @Override
  public String toString() {
    return "VadState{" + sampleRateHz + " Hz, " + frames + " frames, " + pendingCount
        + " pending samples}";
  }
}
