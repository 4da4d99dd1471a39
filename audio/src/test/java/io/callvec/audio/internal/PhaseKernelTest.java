package io.callvec.audio.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
  void theScalarKernelUnlessTheVectorisedOneIsAskedForAndTheJvmHasTheModule() {
    // The surefire JVM starts with --add-modules jdk.incubator.vector (audio/pom.xml) and no
    // callvec.audio.vector: the default is the scalar kernel, as for ./callvec.
    assertSame(ScalarPhaseKernel.INSTANCE, PhaseKernel.selected());
    assertNotNull(VectorPhaseKernel.createIfWorthwhile(), "every CPU this project runs on has 256-bit vectors or wider");
    assertTrue(PhaseKernel.select(true, "true") instanceof VectorPhaseKernel);
    assertTrue(PhaseKernel.select(true, "TRUE").name().startsWith("vector-"));
  }

  @Test
  void withoutTheModuleOrUnlessAskedForTheScalarKernelIsSelected() {
    assertSame(ScalarPhaseKernel.INSTANCE, PhaseKernel.select(false, null));
    assertSame(ScalarPhaseKernel.INSTANCE, PhaseKernel.select(false, "true"));
    assertSame(ScalarPhaseKernel.INSTANCE, PhaseKernel.select(true, null));
    assertSame(ScalarPhaseKernel.INSTANCE, PhaseKernel.select(true, "false"));
    assertSame(ScalarPhaseKernel.INSTANCE, PhaseKernel.select(true, "yes"));
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
    for (PhaseKernel k : new PhaseKernel[] {ScalarPhaseKernel.INSTANCE, VectorPhaseKernel.createIfWorthwhile()}) {
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
