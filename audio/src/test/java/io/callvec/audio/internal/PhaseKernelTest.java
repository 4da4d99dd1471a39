package io.callvec.audio.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The resampler's inner loops: every kernel gives the reference sums bit for bit. */
class PhaseKernelTest {

  /** The definition in PhaseKernel's javadoc, one output at a time. */
  private static void reference(float[] x, int base, float[] h, int taps, int up, int na, float[][] acc) {
    for (int p = 0; p < up; p++) {
      for (int q = 0; q < na; q++) {
        float s = 0f;
        for (int j = 0; j < taps; j++) {
          s += h[p * taps + j] * x[base - j + q];
        }
        acc[p][q] = s;
      }
    }
  }

  @Test
  void theTestJvmHasTheVectorisedKernelAndProbesItAgainstTheScalarOne() {
    // The surefire JVM starts with --add-modules jdk.incubator.vector (root pom), as ./callvec does;
    // every CPU this project runs on has 256-bit vectors or wider.
    assertNotNull(VectorPhaseKernel.createIfWorthwhile());
    assertTrue(VectorPhaseKernel.createIfWorthwhile().name().startsWith("vector-"));
    assertTrue(PhaseKernel.selected() instanceof ProbingPhaseKernel, PhaseKernel.selected().name());
    ProbingPhaseKernel fresh = (ProbingPhaseKernel) PhaseKernel.select(true, null);
    assertFalse(fresh.vectorInUse());
    assertTrue(fresh.name().startsWith("scalar (vector-"), fresh.name());
  }

  @Test
  void eightFasterProbesInARowSwitchToTheVectorisedKernelAndEightSlowerOnesBack() {
    ProbingPhaseKernel.Decision d = new ProbingPhaseKernel.Decision();
    for (int i = 0; i < ProbingPhaseKernel.RUN_NEEDED - 1; i++) {
      d.record(75, 100);
      assertFalse(d.vectorInUse(), "probe " + i);
      assertEquals(ProbingPhaseKernel.MIN_INTERVAL, d.interval());
    }
    d.record(76, 100); // not a quarter faster: the run starts over
    for (int i = 0; i < ProbingPhaseKernel.RUN_NEEDED - 1; i++) {
      d.record(10, 100);
      assertFalse(d.vectorInUse());
    }
    d.record(10, 100);
    assertTrue(d.vectorInUse());
    assertEquals(ProbingPhaseKernel.VECTOR_INTERVAL, d.interval());
    // deoptimised: the vectorised kernel is now slower; seven losses keep it, the eighth does not
    for (int i = 0; i < ProbingPhaseKernel.RUN_NEEDED - 1; i++) {
      d.record(2000, 100);
      assertTrue(d.vectorInUse());
    }
    d.record(2000, 100);
    assertFalse(d.vectorInUse());
    assertEquals(24, d.probes());
  }

  @Test
  void whileTheVectorisedKernelKeepsLosingProbesBecomeRarerDownToTheLongestInterval() {
    ProbingPhaseKernel.Decision d = new ProbingPhaseKernel.Decision();
    int expected = ProbingPhaseKernel.MIN_INTERVAL;
    for (int i = 1; i <= 40; i++) {
      d.record(1000, 100);
      if (i >= ProbingPhaseKernel.RUN_NEEDED) {
        expected = Math.min(ProbingPhaseKernel.MAX_INTERVAL, 2 * expected);
      }
      assertEquals(expected, d.interval(), "after " + i + " losses");
      assertFalse(d.vectorInUse());
    }
    assertEquals(ProbingPhaseKernel.MAX_INTERVAL, d.interval());
    d.record(10, 100); // one win: probe often again
    assertEquals(ProbingPhaseKernel.MIN_INTERVAL, d.interval());
  }

  @Test
  void withoutTheModuleOrWhenTurnedOffTheScalarKernelIsSelected() {
    assertSame(ScalarPhaseKernel.INSTANCE, PhaseKernel.select(false, null));
    assertSame(ScalarPhaseKernel.INSTANCE, PhaseKernel.select(true, "false"));
    assertSame(ScalarPhaseKernel.INSTANCE, PhaseKernel.select(false, "true"));
    assertTrue(PhaseKernel.select(true, "true") instanceof ProbingPhaseKernel);
  }

  @ParameterizedTest(name = "up={0} taps={1} na={2}")
  @CsvSource({
    "2, 154, 512", "2, 154, 513", "2, 154, 1", "2, 154, 31", "2, 154, 33", "2, 7, 100",
    "2, 1, 64", "2, 2, 17", "4, 77, 256", "4, 77, 255", "3, 40, 97", "1, 5, 40"
  })
  void everyKernelGivesTheReferenceSumsBitForBit(int up, int taps, int na) {
    Random rnd = new Random(31L * up + taps + na);
    float[] h = new float[up * taps];
    for (int i = 0; i < h.length; i++) {
      h[i] = (float) (rnd.nextGaussian() * 0.1);
    }
    int margin = 5;
    float[] x = new float[taps + na + 2 * margin];
    for (int i = 0; i < x.length; i++) {
      // wide dynamic range, so that a different summation order or a fused multiply-add shows
      x[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(7) - 3));
    }
    int base = margin + taps - 1;
    float[][] want = new float[up][na];
    reference(x, base, h, taps, up, na, want);
    // probing every call: both kernels run on every call, whichever wins the timing
    PhaseKernel probing = new ProbingPhaseKernel(ScalarPhaseKernel.INSTANCE, VectorPhaseKernel.createIfWorthwhile(),
        new ProbingPhaseKernel.Decision(1, 1, 1));
    for (PhaseKernel k : new PhaseKernel[] {ScalarPhaseKernel.INSTANCE, VectorPhaseKernel.createIfWorthwhile(), probing, probing}) {
      float[][] got = new float[up][na + 3];
      for (float[] g : got) {
        java.util.Arrays.fill(g, Float.NaN); // every output must be written
      }
      k.run(x, base, h, taps, up, na, got);
      for (int p = 0; p < up; p++) {
        for (int q = 0; q < na; q++) {
          assertEquals(Float.floatToRawIntBits(want[p][q]), Float.floatToRawIntBits(got[p][q]),
              k.name() + ": phase " + p + " output " + q);
        }
        assertTrue(Float.isNaN(got[p][na]), k.name() + " wrote past na");
      }
    }
  }

  @Test
  void theSameSumsWhateverTheKernelOnATelephoneFilter() {
    PolyphaseFilter f = PolyphaseFilter.get(8000, 16000);
    Random rnd = new Random(7);
    int na = 512;
    float[] x = new float[f.taps + na];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (0.3 * rnd.nextGaussian());
    }
    float[][] a = new float[2][na];
    float[][] b = new float[2][na];
    ScalarPhaseKernel.INSTANCE.run(x, f.taps - 1, f.coefficients, f.taps, 2, na, a);
    VectorPhaseKernel.createIfWorthwhile().run(x, f.taps - 1, f.coefficients, f.taps, 2, na, b);
    assertArrayEquals(a[0], b[0]);
    assertArrayEquals(a[1], b[1]);
  }
}
