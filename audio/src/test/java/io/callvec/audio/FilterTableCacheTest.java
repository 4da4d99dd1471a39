package io.callvec.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.audio.internal.PolyphaseFilter;
import org.junit.jupiter.api.Test;

/** The resampler's filter tables are cached, but only the most recently used few ({@link PolyphaseFilter#CACHED_TABLES}). */
class FilterTableCacheTest {

  @Test
  void manyDistinctRatesKeepAtMostTheBoundAndEvictTheLeastRecentlyUsed() {
    int bound = PolyphaseFilter.CACHED_TABLES;
    float[] input = ChannelFrontEndTest.speechLike(9_000, 900, 3);
    Resampler first = new Resampler(9_000);
    float[] before = first.process(input);
    int[] rates = new int[bound + 4];
    for (int i = 0; i < rates.length; i++) {
      rates[i] = 9_100 + 100 * i;
      new Resampler(rates[i]).process(input);
      assertTrue(PolyphaseFilter.cachedTables() <= bound, "cache holds " + PolyphaseFilter.cachedTables() + " tables");
    }
    assertEquals(bound, PolyphaseFilter.cachedTables());
    for (int i = rates.length - bound; i < rates.length; i++) {
      assertTrue(PolyphaseFilter.isCached(rates[i], Resampler.OUTPUT_RATE_HZ), rates[i] + " Hz was used recently");
    }
    assertFalse(PolyphaseFilter.isCached(9_000, Resampler.OUTPUT_RATE_HZ), "the least recently used table was evicted");
    assertFalse(PolyphaseFilter.isCached(rates[0], Resampler.OUTPUT_RATE_HZ));
    // A rebuilt table is the same table: a stream restored after its table was evicted continues bit-identically.
    float[] after = new Resampler(9_000).process(input);
    assertArrayEquals(before, after);
    assertTrue(PolyphaseFilter.isCached(9_000, Resampler.OUTPUT_RATE_HZ));
    assertEquals(bound, PolyphaseFilter.cachedTables());
  }
}
