package io.callvec.topology.internals;

import io.callvec.audio.ChannelFrontEnd;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;

/**
 * A task's recently used front ends and channel states, so that a chunk neither rebuilds its
 * stream's {@link ChannelFrontEnd} from the state bytes (the largest allocation per chunk otherwise)
 * nor parses its {@link ChannelState} again.
 *
 * <p>The channel store stays the truth. A kept channel state is used only if the store hands back
 * the very array it was written as ({@link #takeIfSame}: Kafka Streams' record cache returns the
 * value that was put, so this holds from one chunk to the next while the cache holds the entry);
 * a kept front end only if the stream's stored front-end state is byte for byte the state it was
 * saved as ({@link #take}). Anything else (a restore, a read from RocksDB after the cache wrote the
 * entry down, another writer of the channel state such as an emission or the idle reaper, a
 * rolled-back transaction) parses and rebuilds from the stored bytes. An entry is taken out while a
 * chunk uses it and put back only after its new state was written, so a chunk that fails half-way
 * (dead-lettered after the state or the front end changed) never leaves a changed object behind.
 * Bounded: the {@value #MAX_ENTRIES} most recently used streams of the task (a front end is about
 * 1–3 KB plus its reorder buffer); emptied when the task closes or initialises. Not thread-safe:
 * the stream thread's.
 */
final class FrontEnds {
  /** Front ends kept per task. */
  static final int MAX_ENTRIES = 1024;

  /**
   * A kept stream: its front end and the front-end state it was saved as; its channel state and the
   * array that state was written to the store as (both null when only the front end was kept).
   */
  record Entry(ChannelFrontEnd frontEnd, byte[] state, ChannelState channel, byte[] channelBytes) {}

  private final LinkedHashMap<Bytes, Entry> entries = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Bytes, Entry> eldest) {
      return size() > MAX_ENTRIES;
    }
  };
  private long hits;
  private long misses;
  private long channelHits;

  /**
   * The stream's kept channel state and front end if {@code storedChannel} is the very array they
   * were kept with (identity, not content); else null, and the entry stays for {@link #take}. The
   * caller owns both until {@link #keep(Bytes, ChannelFrontEnd, byte[], ChannelState, byte[])}.
   */
  Entry takeIfSame(Bytes streamKey, byte[] storedChannel) {
    Entry e = entries.get(streamKey);
    if (e == null || e.channel == null || e.channelBytes != storedChannel) {
      return null;
    }
    entries.remove(streamKey);
    hits++;
    channelHits++;
    return e;
  }

  /** The stream's front end for its stored state; the caller owns it until {@link #keep}. */
  ChannelFrontEnd take(Bytes streamKey, byte[] storedState) {
    Entry e = entries.remove(streamKey);
    if (e != null && Arrays.equals(e.state, storedState)) {
      hits++;
      return e.frontEnd;
    }
    misses++;
    return ChannelFrontEnd.fromBytes(storedState);
  }

  /**
   * Keeps {@code frontEnd} and {@code channel}, whose front-end state is {@code writtenState} and
   * which were just written to the channel store as {@code writtenChannel} (neither copied: never
   * modify them, nor the objects, after this call). {@code channel} and {@code writtenChannel} may be
   * null: then only the front end is kept, for {@link #take}.
   */
  void keep(Bytes streamKey, ChannelFrontEnd frontEnd, byte[] writtenState, ChannelState channel, byte[] writtenChannel) {
    entries.put(streamKey, new Entry(frontEnd, writtenState, channel, writtenChannel));
  }

  /** Drops the stream's entry (its stream ended). */
  void forget(Bytes streamKey) {
    entries.remove(streamKey);
  }

  void clear() {
    entries.clear();
  }

  int size() {
    return entries.size();
  }

  /** Chunks whose front end came from the cache / was rebuilt from its bytes. */
  long hits() {
    return hits;
  }

  long misses() {
    return misses;
  }

  /** Chunks whose channel state came from the cache (not parsed); counted in {@link #hits} too. */
  long channelHits() {
    return channelHits;
  }
}
