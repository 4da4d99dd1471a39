package io.callvec.topology.internals;

import java.nio.ByteBuffer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The running, duration-weighted vector sum of one call × channel (weights in 16 kHz samples, one
 * double per model dimension), from which the call embedding is the mean. It changes only when a
 * segment is pooled, so it is written then, not with every chunk: at dimension 1024 it is 8 KiB,
 * against a few hundred bytes of {@link ChannelState}.
 *
 * <p>Kept in the pending store under the channel's key {@code prefix + int64 Long.MIN_VALUE}, which
 * no segment index takes (they are ≥ 0): the store's range scans from index 0 and the processor's
 * resubmission skip it, and the deletion of a channel's pending range at the end of the call
 * deletes it. (A store of its own would add a changelog topic, a topology change that instances of
 * the previous version, running side by side in a rolling upgrade, would not know.)
 *
 * <p>Value layout 1: {@code [byte 1][int32 dimension][dimension × float64 big-endian]}.
 */
final class CallSums {
  private static final byte VERSION = 1;
  /** The trailing int64 of the key: below every segment index. */
  static final long KEY_INDEX = Long.MIN_VALUE;

  private final KeyValueStore<Bytes, byte[]> pending;

  CallSums(KeyValueStore<Bytes, byte[]> pending) {
    this.pending = pending;
  }

  /** Whether a pending-store key is a sum's rather than a pending window's. */
  static boolean isSumKey(Bytes key) {
    return StoreKeys.trailingLong(key.get()) == KEY_INDEX;
  }

  /** The channel's sum, or null before its first pooled segment. */
  double[] read(byte[] prefix) {
    byte[] stored = pending.get(StoreKeys.withLong(prefix, KEY_INDEX));
    return stored == null ? null : fromBytes(stored, prefix);
  }

  void write(byte[] prefix, double[] sum) {
    pending.put(StoreKeys.withLong(prefix, KEY_INDEX), toBytes(sum));
  }

  /**
   * Moves a sum that a layout-3 {@link ChannelState} (written by the previous version) carries
   * inline into this store and clears it from the state, in the transaction of the caller's record.
   * Idempotent: a state read again before it is rewritten moves the same sum again.
   */
  void adopt(byte[] prefix, ChannelState state) {
    if (state.vectorSum != null) {
      write(prefix, state.vectorSum);
      state.vectorSum = null;
    }
  }

  static byte[] toBytes(double[] sum) {
    ByteBuffer b = ByteBuffer.allocate(1 + 4 + 8 * sum.length);
    b.put(VERSION).putInt(sum.length);
    for (double d : sum) {
      b.putDouble(d);
    }
    return b.array();
  }

  static double[] fromBytes(byte[] bytes, byte[] prefix) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    byte v = b.get();
    int dim = b.getInt();
    if (v != VERSION || dim < 0 || bytes.length != 5 + 8L * dim) {
      throw new IllegalStateException("call sum of " + StoreKeys.callId(prefix) + "/" + StoreKeys.channelIndex(prefix) + ": layout " + v
          + ", dimension " + dim + ", " + bytes.length + " bytes (expected layout " + VERSION + " and 5 + 8 × dimension bytes)");
    }
    double[] sum = new double[dim];
    for (int i = 0; i < dim; i++) {
      sum[i] = b.getDouble();
    }
    return sum;
  }
}
