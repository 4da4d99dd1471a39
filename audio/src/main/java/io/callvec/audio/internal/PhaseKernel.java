package io.callvec.audio.internal;

/**
 * The inner loops of an integer-ratio ({@code L/1}) polyphase filter: for every phase {@code p} in
 * [0, up) and output {@code q} in [0, na),
 *
 * <pre>acc[p][q] = sum over j = 0 .. taps-1, added in that order starting from 0f, of h[p * taps + j] * x[base - j + q]</pre>
 *
 * with float products and sums rounded as Java rounds them (no fused multiply-add). Every
 * implementation gives the same bits, so which one runs never changes an output sample.
 *
 * <p>{@link #selected()}: when the JVM runs with {@code --add-modules jdk.incubator.vector} (as {@code
 * ./callvec}, {@code bench/run}, the container image and the tests do) on a CPU with 256-bit or wider
 * vectors, the vectorised kernel ({@link VectorPhaseKernel}) while it is measured faster than the
 * scalar one ({@link ProbingPhaseKernel}: the vector API is slow until HotSpot's C2 has compiled
 * it, and after a deoptimisation); else the scalar kernel ({@link ScalarPhaseKernel}, 2.5x slower at 8 kHz once both are
 * compiled). {@code -Dcallvec.audio.vector=false} forces the scalar one.
 */
public abstract class PhaseKernel {

  /** System property that turns the vectorised kernel off when set to {@code false}. */
  public static final String VECTOR_PROPERTY = "callvec.audio.vector";
  /** The module the vectorised kernel needs (an incubator module of JDK 17). */
  public static final String VECTOR_MODULE = "jdk.incubator.vector";

  private static final PhaseKernel SELECTED = select(
      ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent(), System.getProperty(VECTOR_PROPERTY));

  PhaseKernel() {}

  /**
   * Fills {@code acc[p][0 .. na)} for every phase {@code p < up} as the class comment says. Reads
   * {@code x[base - taps + 1 .. base + na)}; {@code h} holds {@code up * taps} coefficients, phase by phase.
   */
  public abstract void run(float[] x, int base, float[] h, int taps, int up, int na, float[][] acc);

  /** A short name for logs and benchmarks, e.g. {@code vector-512}, {@code scalar}, or {@code scalar (vector-512 warming up)}. */
  public abstract String name();

  /** The kernel this JVM uses (chosen once, when the class is loaded). */
  public static PhaseKernel selected() {
    return SELECTED;
  }

  /**
   * The kernel for a JVM that has (or lacks) the vector module, given the value of {@value
   * #VECTOR_PROPERTY} (null if unset). Never fails: anything that keeps the vectorised kernel from
   * loading selects the scalar one.
   */
  static PhaseKernel select(boolean vectorModulePresent, String vectorProperty) {
    if (!vectorModulePresent || "false".equalsIgnoreCase(vectorProperty)) {
      return ScalarPhaseKernel.INSTANCE;
    }
    try {
      PhaseKernel k = VectorPhaseKernel.createIfWorthwhile();
      return k == null
          ? ScalarPhaseKernel.INSTANCE
          : new ProbingPhaseKernel(ScalarPhaseKernel.INSTANCE, k);
    } catch (LinkageError | RuntimeException e) {
      return ScalarPhaseKernel.INSTANCE;
    }
  }
}
