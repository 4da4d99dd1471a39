package io.callvec.gateway;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AudioHook sessions that ended without {@code close} (or closed with reason {@code reconnect}), kept
 * so that a new session naming them in {@code open.parameters.continuedSessions} continues the same
 * streams: the same call id, sequence numbers going on from where they stopped, and timestamps going
 * on from the old position plus the wall-clock time the reconnection took (audio of that time was not
 * sent).
 *
 * <p>Limits: in memory, one gateway process only (a reconnection that reaches another replica starts
 * fresh streams; the Service uses client-IP session affinity to make that rare); at most
 * {@code maxEntries} sessions, each kept {@code ttlMs}; the oldest go first. Thread-safe.
 */
final class AudioHookSessions {
  /** Where one channel stream stopped. */
  record ChannelPosition(long nextSequence, long positionSamples) {}

  /** A session's call and channel positions when its connection ended, and when ({@link System#nanoTime}). */
  record Ended(String conversationId, Map<Integer, ChannelPosition> channels, long endedNanos) {}

  private final int maxEntries;
  private final long ttlNanos;
  private final LinkedHashMap<String, Ended> ended = new LinkedHashMap<>();

  AudioHookSessions(int maxEntries, long ttlMs) {
    this.maxEntries = maxEntries;
    this.ttlNanos = ttlMs * 1_000_000L;
  }

  synchronized void put(String sessionId, Ended e) {
    ended.remove(sessionId);
    ended.put(sessionId, e);
    expire(e.endedNanos());
    while (ended.size() > maxEntries) {
      Iterator<String> it = ended.keySet().iterator();
      it.next();
      it.remove();
    }
  }

  /** The session, removed (a session is continued once), or null if unknown or expired. */
  synchronized Ended take(String sessionId, long nowNanos) {
    expire(nowNanos);
    return ended.remove(sessionId);
  }

  synchronized int size() {
    return ended.size();
  }

  private void expire(long nowNanos) {
    for (Iterator<Ended> it = ended.values().iterator(); it.hasNext();) {
      if (nowNanos - it.next().endedNanos() > ttlNanos) {
        it.remove();
      } else {
        break; // insertion order = end order
      }
    }
  }
}
