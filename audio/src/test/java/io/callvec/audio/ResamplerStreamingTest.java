package io.callvec.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Chunked == whole (bit-identical), state round trips, timeline and length rules, pass-through. */
class ResamplerStreamingTest {

  private static final Logger LOG = LoggerFactory.getLogger(ResamplerStreamingTest.class);

  /** Resamples in chunks whose sizes come from sizes (cycled), then flushes. */
  private static float[] resampleChunked(int rate, float[] x, int[] sizes) {
    Resampler r = new Resampler(rate);
    Resampler.Collector c = new Resampler.Collector();
    int pos = 0;
    for (int i = 0; pos < x.length; i++) {
      int len = Math.min(sizes[i % sizes.length], x.length - pos);
      r.process(x, pos, len, c);
      pos += len;
    }
    r.flush(c);
    return c.toArray();
  }

  @ParameterizedTest
  @ValueSource(ints = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})
  void chunkedEqualsWholeBitForBit(int rate) {
    float[] x = Signals.noiseAndTones(rate, rate / 2 + 37, rate);
    float[] whole = Signals.resampleWhole(rate, x);
    assertEquals(Resampler.outputLength(x.length, rate), whole.length);
    Random rnd = new Random(rate);
    int[] randomSizes = new int[200];
    for (int i = 0; i < randomSizes.length; i++) {
      randomSizes[i] = 1 + rnd.nextInt(i % 3 == 0 ? 7 : 900);
    }
    int[][] chunkings = {{1}, {rate / 50}, {3, 1, 2}, randomSizes, {x.length}};
    for (int[] sizes : chunkings) {
      float[] chunked = resampleChunked(rate, x, sizes);
      assertArrayEquals(whole, chunked, "chunk sizes " + Arrays.toString(Arrays.copyOf(sizes, Math.min(5, sizes.length))));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {8000, 11025, 16000, 44100, 48000})
  void restoredStateContinuesBitIdentically(int rate) {
    float[] x = Signals.noiseAndTones(rate, rate / 2, 7 + rate);
    float[] whole = Signals.resampleWhole(rate, x);
    Random rnd = new Random(11);
    Resampler r = new Resampler(rate);
    Resampler.Collector c = new Resampler.Collector();
    int pos = 0;
    int maxStateBytes = 0;
    while (pos < x.length) {
      int len = Math.min(1 + rnd.nextInt(rate / 40), x.length - pos);
      r.process(x, pos, len, c);
      pos += len;
      byte[] state = r.toBytes();
      maxStateBytes = Math.max(maxStateBytes, state.length);
      r = Resampler.fromBytes(state); // every chunk goes through a round trip
    }
    r = Resampler.fromBytes(r.toBytes());
    r.flush(c);
    assertArrayEquals(whole, c.toArray());
    LOG.info("{} Hz resampler state: at most {} bytes between chunks ({})", rate, maxStateBytes, r.describe());
    assertTrue(maxStateBytes < 64 + 4 * (2 * r.latencyInputSamples() + rate / 40 + 2));
    Resampler flushed = Resampler.fromBytes(r.toBytes());
    assertTrue(flushed.isFlushed());
    assertThrows(IllegalStateException.class, () -> flushed.process(new float[1]));
  }

  @Test
  void outputSampleNIsInputTimeNOver16000() {
    // An impulse at input sample 1000 (8 kHz) is the kernel centred on output sample 2000.
    float[] x = new float[4000];
    x[1000] = 1f;
    float[] y = Signals.resampleWhole(8000, x);
    int peak = 0;
    for (int i = 1; i < y.length; i++) {
      if (Math.abs(y[i]) > Math.abs(y[peak])) {
        peak = i;
      }
    }
    assertEquals(2000, peak);
    for (int d = 1; d < 300; d++) {
      assertEquals(y[2000 + d], y[2000 - d], 1e-7, "linear phase: symmetric around the impulse, d=" + d);
    }
    // 48 kHz: an impulse at input 3000 (62.5 ms) peaks at output 1000 (62.5 ms)
    float[] z = new float[9000];
    z[3000] = 1f;
    float[] w = Signals.resampleWhole(48000, z);
    int p2 = 0;
    for (int i = 1; i < w.length; i++) {
      if (w[i] > w[p2]) {
        p2 = i;
      }
    }
    assertEquals(1000, p2);
    assertEquals(w[1001], w[999], 1e-7);
  }

  @Test
  void sixteenKilohertzPassesThroughBitExact() {
    float[] x = Signals.noiseAndTones(16000, 5000, 3);
    x[17] = Float.MIN_VALUE;
    x[18] = -0f;
    Resampler r = new Resampler(16000);
    float[] y = r.process(x);
    assertArrayEquals(x, y);
    assertEquals(0, r.flush().length);
    assertEquals(0, r.latencyInputSamples());
    assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(y[18]));
  }

  @Test
  void outputLengthIsRoundedInputDuration() {
    assertEquals(320, Resampler.outputLength(160, 8000));
    assertEquals(441, Resampler.outputLength(304, 11025)); // 441.04
    assertEquals(0, Resampler.outputLength(1, 44100)); // 0.36
    assertEquals(1, Resampler.outputLength(2, 44100)); // 0.73
    assertEquals(3, Resampler.outputLength(5, 24000)); // 3.33
    assertEquals(4, Resampler.outputLength(3, 12000)); // 4.0
    assertEquals(2, Resampler.outputLength(3, 24000)); // 2.0
    assertEquals(2, Resampler.outputLength(3, 32000)); // 1.5 rounds up
  }

  @Test
  void outputsAppearAsSoonAsTheirInputsArePresent() {
    Resampler r = new Resampler(8000);
    int k = r.latencyInputSamples();
    assertEquals(77, k);
    assertEquals(0, r.process(new float[k]).length);
    assertEquals(2, r.process(new float[1]).length); // input K present: outputs 0 and 1
    assertEquals(320, r.process(new float[160]).length);
    assertEquals(2 * k, r.flush().length);
    assertEquals(2 * (k + 161), r.outputSamples());
  }

  @Test
  void unsupportedRatesAreRejected() {
    for (int rate : new int[] {0, 3999, 192001, -8000}) {
      AudioFormatException e = assertThrows(AudioFormatException.class, () -> new Resampler(rate));
      assertEquals(AudioFormatException.Reason.UNSUPPORTED_SAMPLE_RATE, e.reason());
      assertTrue(e.getMessage().contains(Integer.toString(rate)), e.getMessage());
    }
    AudioFormatException e = assertThrows(AudioFormatException.class, () -> new Resampler(44057));
    assertTrue(e.getMessage().contains("coefficients"), e.getMessage());
  }

  @Test
  void badStateBlobsAreRejectedWithAClearMessage() {
    Resampler r = new Resampler(8000);
    r.process(Signals.noiseAndTones(8000, 500, 1));
    byte[] good = r.toBytes();

    assertMessage(null, "null");
    assertMessage(new byte[] {1, 2}, "magic");
    byte[] kind = good.clone();
    kind[2] = 'S';
    assertMessage(kind, "expected kind 'R'");
    byte[] version = good.clone();
    version[3] = 9;
    assertMessage(version, "version 9");
    assertMessage(Arrays.copyOf(good, good.length - 3), "truncated");
    assertMessage(Arrays.copyOf(good, good.length + 1), "trailing");
    byte[] taps = good.clone();
    taps[8] = 70; // K stored at offset 8
    assertMessage(taps, "K=70");
    byte[] count = good.clone();
    count[12] ^= 0x10; // input sample count
    assertMessage(count, "corrupt");
  }

  private static void assertMessage(byte[] blob, String expected) {
    AudioStateException e = assertThrows(AudioStateException.class, () -> Resampler.fromBytes(blob));
    assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' lacks '" + expected + "'");
  }
}
