package io.callvec.audio.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The shared filter-table cache stays within {@link PolyphaseFilter#MAX_CACHED_COEFFICIENTS} however
 * many accepted sample rates the input cycles through (issue 14, item 7: one table per rate, never
 * evicted, let hostile input grow the heap by up to 4 MiB per rate).
 */
class PolyphaseFilterCacheTest {

  @Test
  void manyRatesStayWithinTheCacheBoundAndACommonRateIsStillShared() {
    long built = 0;
    int rates = 0;
    // Multiples of 100 Hz above 16 kHz: each an accepted rate with its own (large) downsampling table.
    for (int rate = 16_100; rate <= 48_000; rate += 100) {
      try {
        PolyphaseFilter f = PolyphaseFilter.get(rate, 16_000);
        built += f.coefficients.length;
        rates++;
      } catch (IllegalArgumentException tooLarge) {
        // a table over MAX_TABLE_COEFFICIENTS is refused, never cached
      }
      assertTrue(PolyphaseFilter.cachedCoefficients() <= PolyphaseFilter.MAX_CACHED_COEFFICIENTS,
          "cache holds " + PolyphaseFilter.cachedCoefficients() + " coefficients after rate " + rate + ", bound "
              + PolyphaseFilter.MAX_CACHED_COEFFICIENTS);
    }
    assertTrue(built > 2 * PolyphaseFilter.MAX_CACHED_COEFFICIENTS, "the rates built " + built + " coefficients, enough to overflow the bound");
    assertTrue(PolyphaseFilter.cachedTables() < rates, PolyphaseFilter.cachedTables() + " tables cached of " + rates + " built: some evicted");

    PolyphaseFilter telephone = PolyphaseFilter.get(8_000, 16_000);
    assertSame(telephone, PolyphaseFilter.get(8_000, 16_000), "a rate in use is served from the cache");
    PolyphaseFilter rebuilt = PolyphaseFilter.get(16_100, 16_000);
    assertEquals(PolyphaseFilter.get(16_100, 16_000).coefficients.length, rebuilt.coefficients.length);
    assertTrue(PolyphaseFilter.cachedCoefficients() <= PolyphaseFilter.MAX_CACHED_COEFFICIENTS);
  }
}
