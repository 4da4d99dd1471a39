package io.callvec.topology.internals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Byte layouts of state-store keys. Every key starts with the call × channel prefix
 * {@code [int32 callIdLength][callId UTF-8][int32 channelIndex]}, so that all keys of one call ×
 * channel are contiguous in a byte-ordered store (RocksDB) and range scans stay inside one channel.
 * Numbers are big-endian with the sign bit flipped, so byte order equals numeric order.
 */
public final class StoreKeys {
  private StoreKeys() {}

  /** The call × channel prefix. */
  public static byte[] channelPrefix(String callId, int channelIndex) {
    byte[] id = callId.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + id.length).putInt(id.length).put(id).putInt(channelIndex ^ Integer.MIN_VALUE).array();
  }

  /** {@code prefix + int64 n}: e.g. a block's start in samples, or a segment index. */
  public static Bytes withLong(byte[] prefix, long n) {
    return Bytes.wrap(ByteBuffer.allocate(prefix.length + 8).put(prefix).putLong(n ^ Long.MIN_VALUE).array());
  }

  /** Reads the call id back from a key (prefix or longer). */
  public static String callId(byte[] key) {
    ByteBuffer b = ByteBuffer.wrap(key);
    int n = b.getInt();
    return new String(key, 4, n, StandardCharsets.UTF_8);
  }

  /** Reads the channel index back from a key (prefix or longer). */
  public static int channelIndex(byte[] key) {
    ByteBuffer b = ByteBuffer.wrap(key);
    int n = b.getInt();
    return b.getInt(4 + n) ^ Integer.MIN_VALUE;
  }

  /** Reads the trailing int64 of a {@link #withLong} key. */
  public static long trailingLong(byte[] key) {
    return ByteBuffer.wrap(key).getLong(key.length - 8) ^ Long.MIN_VALUE;
  }

  /** The prefix part of a {@link #withLong} key. */
  public static byte[] prefixOf(byte[] keyWithLong) {
    byte[] p = new byte[keyWithLong.length - 8];
    System.arraycopy(keyWithLong, 0, p, 0, p.length);
    return p;
  }

  /**
   * Deletes the keys {@code prefix + [Long.MIN_VALUE, below)} of {@code store} (collected first,
   * then deleted: RocksDB iterators must not see their own deletes). Nothing for {@code below ==
   * Long.MIN_VALUE}.
   */
  static void deleteBelow(KeyValueStore<Bytes, byte[]> store, byte[] prefix, long below) {
    if (below == Long.MIN_VALUE) {
      return;
    }
    List<Bytes> doomed = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = store.range(withLong(prefix, Long.MIN_VALUE), withLong(prefix, below - 1))) {
      while (it.hasNext()) {
        doomed.add(it.next().key);
      }
    }
    doomed.forEach(store::delete);
  }
}
