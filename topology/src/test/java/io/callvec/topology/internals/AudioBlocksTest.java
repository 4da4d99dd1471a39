package io.callvec.topology.internals;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.audio.ChannelFrontEnd;
import io.callvec.audio.Encoding;
import io.callvec.audio.FrontEndConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * Source blocks that hold several pieces (one block per commit interval) give every window the
 * same 16 kHz samples, bit for bit, and the same chunk timestamps as one block per piece, with
 * silence, losses, long gaps (new runs) and reordering; pruning keeps what the next windows need.
 */
class AudioBlocksTest {
  private static final byte[] PREFIX = StoreKeys.channelPrefix("call-ab", 1);
  private static final int CHUNK_BYTES = 160; // 20 ms of 8 kHz μ-law

  private final MockProcessorContext<String, Object> context = new MockProcessorContext<>();

  private KeyValueStore<Bytes, byte[]> store(String name) {
    KeyValueStore<Bytes, byte[]> s = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.Bytes(), Serdes.ByteArray())
        .withLoggingDisabled().withCachingDisabled().build();
    s.init(context.getStateStoreContext(), s);
    return s;
  }

  /** One chunk of the test stream: sequence number, media time, payload, record timestamp. */
  private record Chunk(long seq, long mediaMs, byte[] payload, long recordTs) {}

  /** 40 s of μ-law: noise-like speech, stretches of digital silence (0xFF), losses, two long gaps, swapped neighbours. */
  private static List<Chunk> stream() {
    Random rnd = new Random(13);
    List<Chunk> out = new ArrayList<>();
    for (int k = 0; k < 2_000; k++) {
      boolean lost = k % 41 == 7 || (k >= 600 && k < 680) || (k >= 1_300 && k < 1_390);
      if (lost) {
        continue;
      }
      byte[] p = new byte[CHUNK_BYTES];
      boolean silent = (k / 30) % 7 == 3;
      for (int i = 0; i < p.length; i++) {
        p[i] = silent ? (byte) 0xFF : (byte) rnd.nextInt(256);
      }
      out.add(new Chunk(k, 20L * k, p, 1_764_000_000_000L + 20L * k + rnd.nextInt(7)));
    }
    for (int i = 10; i + 1 < out.size(); i += 53) {
      Chunk a = out.get(i);
      out.set(i, out.get(i + 1));
      out.set(i + 1, a);
    }
    return out;
  }

  /** What one layout of the block store gave: each window's samples and chunk timestamps, and the most blocks it held. */
  private record Result(List<float[]> windows, List<long[]> timestamps, long maxStoredBlocks) {}

  /**
   * Plays the stream through a source-rate front end into a block store whose write-down count
   * advances every {@code chunksPerCommit} chunks (1: every piece is a block of its own), reading each
   * window when it is cut and pruning what the next window does not need.
   */
  private Result play(List<Chunk> chunks, int chunksPerCommit, String storeName) {
    KeyValueStore<Bytes, byte[]> raw = store(storeName);
    long[] commits = {0};
    AudioBlocks blocks = new AudioBlocks(raw, () -> commits[0]);
    ChannelFrontEnd fe = ChannelFrontEnd.createSourceBlocks(Encoding.MULAW, 8_000, FrontEndConfig.DEFAULTS);
    List<float[]> windows = new ArrayList<>();
    List<long[]> stamps = new ArrayList<>();
    long most = 0;
    int n = 0;
    for (Chunk c : chunks) {
      fe.accept(c.seq(), c.mediaMs(), c.payload(), new ChannelFrontEnd.SourceListener() {
        @Override
        public void sourceBlock(long runStart16k, long runStartSource, long runOffset, float[] samples, int offset, int length) {
          blocks.writeSource(PREFIX, Encoding.MULAW, 8_000, runStart16k, runStartSource, runOffset, c.recordTs(), samples, offset, length);
        }

        @Override
        public void window(long index, long startSample, int lengthSamples, boolean partial) {
          PendingWindow w = new PendingWindow((int) index, startSample, lengthSamples);
          windows.add(blocks.readWindow(PREFIX, w));
          stamps.add(new long[] {w.firstChunkTimestampMs(), w.lastChunkTimestampMs()});
        }
      });
      blocks.prune(PREFIX, fe.nextWindowStart16k());
      most = Math.max(most, count(raw));
      if (++n % chunksPerCommit == 0) {
        commits[0]++; // the cache wrote its dirty entries down
      }
    }
    return new Result(windows, stamps, most);
  }

  @Test
  void blocksOfSeveralPiecesGiveTheWindowsOfOneBlockPerPieceBitForBit() {
    List<Chunk> chunks = stream();
    Result single = play(chunks, 1, "single");
    Result merged = play(chunks, 5, "merged");
    Result capped = play(chunks, 1_000_000, "capped"); // never written down: blocks end at their size limit
    assertTrue(single.windows().size() >= 6, "windows: " + single.windows().size());
    for (Result r : List.of(merged, capped)) {
      assertEquals(single.windows().size(), r.windows().size());
      for (int i = 0; i < single.windows().size(); i++) {
        assertArrayEquals(single.windows().get(i), r.windows().get(i), "window " + i);
        assertArrayEquals(single.timestamps().get(i), r.timestamps().get(i), "chunk timestamps of window " + i);
      }
    }
    assertTrue(merged.maxStoredBlocks() * 2 < single.maxStoredBlocks(),
        "blocks held: " + merged.maxStoredBlocks() + " merged, " + single.maxStoredBlocks() + " single");
    assertTrue(capped.maxStoredBlocks() < merged.maxStoredBlocks(), "blocks held: " + capped.maxStoredBlocks() + " capped");
  }

  @Test
  void aBlockIsNotAppendedToOnceWrittenDownOrReplaced() {
    KeyValueStore<Bytes, byte[]> raw = store("appends");
    long[] commits = {0};
    AudioBlocks blocks = new AudioBlocks(raw, () -> commits[0]);
    float[] speech = new float[160];
    for (int i = 0; i < speech.length; i++) {
      speech[i] = io.callvec.audio.G711.mulawToFloat(i);
    }
    blocks.writeSource(PREFIX, Encoding.MULAW, 8_000, 0, 0, 0, 100, speech, 0, 160);
    blocks.writeSource(PREFIX, Encoding.MULAW, 8_000, 0, 0, 160, 120, speech, 0, 160);
    assertEquals(1, count(raw), "appended to the block the cache still holds");
    commits[0]++;
    blocks.writeSource(PREFIX, Encoding.MULAW, 8_000, 0, 0, 320, 140, speech, 0, 160);
    assertEquals(2, count(raw), "a new block after a write-down");
    blocks.writeSource(PREFIX, Encoding.MULAW, 8_000, 4_000, 2_000, 0, 180, speech, 0, 160);
    assertEquals(3, count(raw), "a new block for a new run");
    byte[] first = raw.get(StoreKeys.withLong(PREFIX, 0));
    blocks.deleteAll(PREFIX);
    assertEquals(0, count(raw));
    blocks.writeSource(PREFIX, Encoding.MULAW, 8_000, 4_000, 2_000, 160, 200, speech, 0, 160);
    assertEquals(1, count(raw), "a new block when the newest one was deleted");
    int single = raw.get(StoreKeys.withLong(PREFIX, 2_160)).length;
    assertTrue(single > 160 && single <= 160 + 20, "one piece: 160 B of codes and a header of at most 20 B: " + single);
    assertEquals(0xC8, first[7] & 0xFF, "this version's source layout");
    assertTrue(first.length <= 2 * 160 + 20, "two pieces of 160 B in one block with a small header: " + first.length + " B");
  }

  private static long count(KeyValueStore<Bytes, byte[]> s) {
    long n = 0;
    try (KeyValueIterator<Bytes, byte[]> it = s.all()) {
      while (it.hasNext()) {
        it.next();
        n++;
      }
    }
    return n;
  }
}
