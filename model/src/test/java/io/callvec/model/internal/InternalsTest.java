package io.callvec.model.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.model.Pooling;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

class InternalsTest {
  @Test
  void normaliserGivesZeroMeanUnitVariance() {
    float[] w = new float[1000];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (0.25 + 0.01 * Math.sin(i * 0.1));
    }
    FloatBuffer dst = FloatBuffer.allocate(w.length);
    InputNormalizer.write(w, true, dst, 0);
    double mean = 0;
    double var = 0;
    for (int i = 0; i < w.length; i++) {
      mean += dst.get(i);
    }
    mean /= w.length;
    for (int i = 0; i < w.length; i++) {
      var += (dst.get(i) - mean) * (dst.get(i) - mean);
    }
    var /= w.length;
    assertEquals(0, mean, 1e-6);
    // The input variance is about 5e-5 (0.01 sin), so the epsilon shows: var / (var + 1e-7).
    double inMean = 0;
    double inVar = 0;
    for (float v : w) {
      inMean += v;
    }
    inMean /= w.length;
    for (float v : w) {
      inVar += (v - inMean) * (v - inMean);
    }
    inVar /= w.length;
    assertEquals(inVar / (inVar + 1e-7), var, 1e-5);
    assertTrue(var < 0.999);
  }

  @Test
  void normaliserMapsSilenceToZerosAndCopiesWhenOff() {
    FloatBuffer dst = FloatBuffer.allocate(4);
    InputNormalizer.write(new float[] {0.5f, 0.5f, 0.5f, 0.5f}, true, dst, 0);
    for (int i = 0; i < 4; i++) {
      assertEquals(0f, dst.get(i));
    }
    InputNormalizer.write(new float[] {1f, 2f}, false, dst, 2);
    assertEquals(1f, dst.get(2));
    assertEquals(2f, dst.get(3));
    assertThrows(IllegalArgumentException.class,
        () -> InputNormalizer.write(new float[] {1f, Float.POSITIVE_INFINITY}, true, dst, 0));
  }

  @Test
  void poolerMeanStdAndL2() {
    // 3 frames x 2 hidden, after 2 floats of another window
    FloatBuffer f = FloatBuffer.wrap(new float[] {9, 9, 1, 10, 2, 20, 3, 30});
    float[] mean = Pooler.pool(f, 2, 3, 2, Pooling.MEAN, false);
    assertEquals(2f, mean[0], 1e-6);
    assertEquals(20f, mean[1], 1e-6);
    float[] ms = Pooler.pool(f, 2, 3, 2, Pooling.MEAN_STD, false);
    assertEquals(4, ms.length);
    assertEquals(Math.sqrt(2.0 / 3), ms[2], 1e-6);
    assertEquals(Math.sqrt(200.0 / 3), ms[3], 1e-5);
    float[] l2 = Pooler.pool(f, 2, 3, 2, Pooling.MEAN, true);
    assertEquals(2 / Math.sqrt(404), l2[0], 1e-6);
    assertEquals(20 / Math.sqrt(404), l2[1], 1e-6);
    float[] zero = Pooler.pool(FloatBuffer.wrap(new float[4]), 0, 2, 2, Pooling.MEAN, true);
    assertEquals(0f, zero[0]);
    float[] one = Pooler.pool(f, 2, 1, 2, Pooling.MEAN_STD, false);
    assertEquals(0f, one[2]);
  }

  @Test
  void bufferPoolReusesDirectNativeBuffers() {
    BufferPool pool = new BufferPool(2);
    ByteBuffer a = pool.acquire(1000);
    assertTrue(a.isDirect());
    assertEquals(ByteOrder.nativeOrder(), a.order());
    assertEquals(1000, a.limit());
    assertEquals(0, a.position());
    pool.release(a);
    ByteBuffer b = pool.acquire(5000); // fits in the 64 KiB granule
    assertSame(a, b);
    assertEquals(5000, b.limit());
    ByteBuffer c = pool.acquire(100); // a is taken: new buffer
    assertNotSame(a, c);
    pool.release(b);
    pool.release(c);
    ByteBuffer big = pool.acquire(200_000);
    pool.release(big); // pool is full: replaces a smaller one
    assertEquals(2, pool.idleCount());
    assertSame(big, pool.acquire(150_000));
    assertThrows(IllegalArgumentException.class, () -> pool.acquire(-1));
    assertThrows(IllegalArgumentException.class, () -> pool.acquire(3L << 30));
  }

  @Test
  void modelSpecFrameArithmetic() {
    ModelSpec s = new ModelSpec("input_values", null, "last_hidden_state", java.util.List.of(),
        32, 320, 400, 16000, true, "m", "r", null, java.util.List.of(), 2, 2);
    assertEquals(0, s.framesFor(399));
    assertEquals(1, s.framesFor(400));
    assertEquals(1, s.framesFor(719));
    assertEquals(2, s.framesFor(720));
    assertEquals(49, s.framesFor(16000));
    assertEquals(249, s.framesFor(80000));
  }
}
