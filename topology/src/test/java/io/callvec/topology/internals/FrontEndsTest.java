package io.callvec.topology.internals;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.callvec.audio.ChannelFrontEnd;
import io.callvec.audio.Encoding;
import io.callvec.audio.FrontEndConfig;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.Test;

/** {@link FrontEnds}: reused only for the exact bytes it saved, owned while in use, bounded. */
class FrontEndsTest {

  private static final Bytes KEY = Bytes.wrap("call-a".getBytes(StandardCharsets.UTF_8));

  private static ChannelFrontEnd fresh() {
    return ChannelFrontEnd.createSourceBlocks(Encoding.MULAW, 8000, FrontEndConfig.DEFAULTS);
  }

  @Test
  void aFrontEndIsReusedOnlyWhileTheStoredStateIsTheOneItSaved() {
    FrontEnds cache = new FrontEnds();
    ChannelFrontEnd fe = fresh();
    byte[] saved = fe.toBytes();
    cache.keep(KEY, fe, saved, null, null);
    assertSame(fe, cache.take(KEY, saved.clone()), "same bytes: the kept instance");
    assertEquals(0, cache.size(), "taken out while in use");
    ChannelFrontEnd rebuilt = cache.take(KEY, saved);
    assertNotSame(fe, rebuilt, "not kept back (e.g. its chunk was dead-lettered after changing it): rebuilt from the bytes");
    assertArrayEquals(saved, rebuilt.toBytes());

    cache.keep(KEY, fe, saved, null, null);
    assertSame(fe, cache.take(KEY, fe.toBytes()), "equal content in another array (as read from the store)");
    cache.keep(KEY, fe, saved, null, null);
    ChannelFrontEnd afterChange = cache.take(KEY, changedState()); // e.g. another instance's newer state
    assertNotSame(fe, afterChange, "different stored bytes: rebuilt");
    assertArrayEquals(changedState(), afterChange.toBytes());
    assertEquals(2, cache.hits());
    assertEquals(2, cache.misses());
  }

  @Test
  void aChannelStateIsReusedOnlyForTheVeryArrayItWasWrittenAs() {
    FrontEnds cache = new FrontEnds();
    ChannelFrontEnd fe = fresh();
    ChannelState state = new ChannelState();
    state.frontEnd = fe.toBytes();
    byte[] written = state.toBytes();
    cache.keep(KEY, fe, state.frontEnd, state, written);

    assertNull(cache.takeIfSame(KEY, written.clone()), "equal content in another array (read from RocksDB): parsed again");
    assertEquals(1, cache.size(), "a miss leaves the entry for the front end");
    FrontEnds.Entry hit = cache.takeIfSame(KEY, written);
    assertSame(state, hit.channel());
    assertSame(fe, hit.frontEnd());
    assertEquals(0, cache.size(), "taken out while in use");
    assertNull(cache.takeIfSame(KEY, written), "not kept back (its chunk failed): parsed from the store");
    assertEquals(1, cache.channelHits());
    assertEquals(1, cache.hits());

    cache.keep(KEY, fe, state.frontEnd, null, null); // the front end alone
    assertNull(cache.takeIfSame(KEY, written));
    assertSame(fe, cache.take(KEY, state.frontEnd.clone()));
  }

  /** The state of a front end that accepted a chunk. */
  private static byte[] changedState() {
    ChannelFrontEnd fe = fresh();
    fe.accept(0, 0, new byte[160], new ChannelFrontEnd.SourceListener() {
      @Override
      public void sourceBlock(long runStart16k, long runStartSource, long runOffset, float[] samples, int offset, int length) {}

      @Override
      public void window(long index, long startSample, int lengthSamples, boolean partial) {}
    });
    return fe.toBytes();
  }

  @Test
  void theCacheKeepsTheMostRecentlyUsedStreamsOnly() {
    FrontEnds cache = new FrontEnds();
    byte[] saved = fresh().toBytes();
    for (int i = 0; i < FrontEnds.MAX_ENTRIES + 10; i++) {
      cache.keep(Bytes.wrap(("call-" + i).getBytes(StandardCharsets.UTF_8)), fresh(), saved, null, null);
    }
    assertEquals(FrontEnds.MAX_ENTRIES, cache.size());
    cache.take(Bytes.wrap("call-0".getBytes(StandardCharsets.UTF_8)), saved);
    assertEquals(1, cache.misses(), "the oldest stream was evicted");
    cache.clear();
    assertEquals(0, cache.size());
  }
}
