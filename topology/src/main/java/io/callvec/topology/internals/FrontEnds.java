package io.callvec.topology.internals;

import io.callvec.audio.ChannelFrontEnd;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;

/**
 * A task's recently used front ends, so that a chunk does not rebuild its stream's {@link
 * ChannelFrontEnd} from the state bytes (the largest allocation per chunk otherwise).
 *
 * <p>The channel store stays the truth: an entry is used only if the stream's stored front-end
 * state is byte for byte the state it was saved as; anything else (a restore, another instance's
 * write, a rolled-back transaction) rebuilds the front end from the stored bytes. An entry is
 * taken out while a chunk uses it and put back only after its new state was written, so a chunk
 * that fails half-way (dead-lettered after the front end changed) never leaves a changed front end
 * behind. Bounded: the {@value #MAX_ENTRIES} most recently used streams of the task (a front end is
 * about 1–3 KB plus its reorder buffer); emptied when the task closes or initialises. Not
 * thread-safe: the stream thread's.
 */
final class FrontEnds {
  /** Front ends kept per task. */
  static final int MAX_ENTRIES = 1024;

  private record Entry(ChannelFrontEnd frontEnd, byte[] state) {}

  private final LinkedHashMap<Bytes, Entry> entries = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Bytes, Entry> eldest) {
      return size() > MAX_ENTRIES;
    }
  };
  private long hits;
  private long misses;

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

  /** Keeps {@code frontEnd}, whose state was just written as {@code writtenState} (not copied: never modify it). */
  void keep(Bytes streamKey, ChannelFrontEnd frontEnd, byte[] writtenState) {
    entries.put(streamKey, new Entry(frontEnd, writtenState));
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
}
