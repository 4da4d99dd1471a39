package io.callvec.topology.internals;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A wall-clock index of call × channel prefixes in a byte-ordered store, so that the idle timeout
 * and the expiry of end markers read only the streams that are due instead of every stream: key =
 * {@code [kind byte][int64 second, sign bit flipped][channel prefix]}, value empty.
 *
 * <p>One entry per stream and kind, in the second of its time; {@link #move} rewrites it only when
 * the second changes (at most once per second per stream, while chunks arrive every 20 ms). Times
 * are rounded down to the second, so {@link #due} may return streams up to one second early; the
 * caller checks the exact time it keeps elsewhere.
 *
 * <p>Not thread-safe: used by one processor on its stream thread.
 */
final class TimeIndex {
  /** Kind byte: the last chunk's wall-clock time of an open stream (idle timeout). */
  static final byte LAST_SEEN = 'S';
  /** Kind byte: the wall-clock time a stream ended (expiry of its end marker). */
  static final byte ENDED = 'E';
  /**
   * Kind byte: the input-clock time an ending stream's end-of-stream chunk was accepted (the end of
   * its wait for missing chunks, {@link StreamEnding}).
   */
  static final byte END_WAIT = 'W';
  /** Bucket width, ms. */
  static final long BUCKET_MS = 1000;

  private static final byte[] EMPTY = new byte[0];
  private final KeyValueStore<Bytes, byte[]> store;

  TimeIndex(KeyValueStore<Bytes, byte[]> store) {
    this.store = store;
  }

  /** One due entry: the stream's prefix and the index key to delete once handled. */
  record Entry(byte[] prefix, long second, Bytes indexKey) {
    /** Whether {@code timeMs} falls in this entry's second (otherwise the entry is stale). */
    boolean covers(long timeMs) {
      return Math.floorDiv(timeMs, BUCKET_MS) == second;
    }
  }

  static Bytes key(byte kind, long timeMs, byte[] prefix) {
    return Bytes.wrap(ByteBuffer.allocate(9 + prefix.length).put(kind).putLong(Math.floorDiv(timeMs, BUCKET_MS) ^ Long.MIN_VALUE).put(prefix).array());
  }

  void add(byte kind, byte[] prefix, long timeMs) {
    store.put(key(kind, timeMs, prefix), EMPTY);
  }

  void remove(byte kind, byte[] prefix, long timeMs) {
    store.delete(key(kind, timeMs, prefix));
  }

  void remove(Bytes indexKey) {
    store.delete(indexKey);
  }

  /** Moves a stream's entry from {@code oldMs} ({@code null}: none yet) to {@code newMs}; writes only when the second changes. */
  void move(byte kind, byte[] prefix, Long oldMs, long newMs) {
    if (oldMs != null) {
      if (Math.floorDiv(oldMs, BUCKET_MS) == Math.floorDiv(newMs, BUCKET_MS)) {
        return;
      }
      remove(kind, prefix, oldMs);
    }
    add(kind, prefix, newMs);
  }

  /**
   * The entries of {@code kind} whose second is at or before {@code uptoMs}'s second, oldest first,
   * at most {@code limit}.
   */
  List<Entry> due(byte kind, long uptoMs, int limit) {
    Bytes from = Bytes.wrap(ByteBuffer.allocate(9).put(kind).putLong(0L).array());
    // Every key of a later second is longer than this 9-byte bound with the same start, so greater.
    Bytes to = Bytes.wrap(ByteBuffer.allocate(9).put(kind).putLong((Math.floorDiv(uptoMs, BUCKET_MS) + 1) ^ Long.MIN_VALUE).array());
    List<Entry> out = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = store.range(from, to)) {
      while (it.hasNext() && out.size() < limit) {
        KeyValue<Bytes, byte[]> kv = it.next();
        byte[] k = kv.key.get();
        if (k.length <= 9) {
          continue;
        }
        byte[] prefix = new byte[k.length - 9];
        System.arraycopy(k, 9, prefix, 0, prefix.length);
        out.add(new Entry(prefix, ByteBuffer.wrap(k).getLong(1) ^ Long.MIN_VALUE, kv.key));
      }
    }
    return out;
  }

  /** Whether the index holds no entry at all. */
  boolean isEmpty() {
    try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
      return !it.hasNext();
    }
  }
}
