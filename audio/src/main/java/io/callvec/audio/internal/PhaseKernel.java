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
 * <p>{@link #selected()} is the scalar kernel ({@link ScalarPhaseKernel}) unless the JVM runs with
 * {@code --add-modules jdk.incubator.vector} and {@code -Dcallvec.audio.vector=true} on a CPU with
 * 256-bit or wider vectors: then the vectorised kernel ({@link VectorPhaseKernel}), 2.5x faster at
 * 8 kHz once HotSpot's C2 has compiled it. Opt-in, because JDK 17's vector API is an incubating
 * module and, until C2 has compiled the loop (and after a deoptimisation), every vector operation
 * is a boxed Java fallback, tens of times slower than the scalar kernel and allocating on every tap:
 * seen in {@code bench/run pipeline --jfr} right after start, where a third of the stream threads'
 * samples were {@code FloatVector.bOpTemplate}. A long-running offline job ({@code callvec embed})
 * gains most; in the stream it made no difference measurable on a 2-core machine.
 */
public abstract class PhaseKernel {

  /** System property that turns the vectorised kernel on when set to {@code true} (and the JVM has {@value #VECTOR_MODULE}). */
  public static final String VECTOR_PROPERTY = "callvec.audio.vector";
  /** The module the vectorised kernel needs (an incubator module of JDK 17). */
  public static final String VECTOR_MODULE = "jdk.incubator.vector";

  /**
   * Chosen on first use, not in PhaseKernel's own initialiser: a subclass initialised first (e.g.
   * ScalarPhaseKernel) initialises PhaseKernel on the way, and would see its own INSTANCE still null.
   */
  private static final class Selected {
    static final PhaseKernel KERNEL = select(
        ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent(), System.getProperty(VECTOR_PROPERTY));
  }

  PhaseKernel() {}

  /**
   * Fills {@code acc[p][0 .. na)} for every phase {@code p < up} as the class comment says. Reads
   * {@code x[base - taps + 1 .. base + na)}; {@code h} holds {@code up * taps} coefficients, phase by phase.
   */
  public abstract void run(float[] x, int base, float[] h, int taps, int up, int na, float[][] acc);

  /** A short name for logs and benchmarks: {@code vector-512}, {@code vector-256} or {@code scalar}. */
  public abstract String name();

  /** The kernel this JVM uses (chosen once, on first use). */
  public static PhaseKernel selected() {
    return Selected.KERNEL;
  }

  /**
   * The kernel for a JVM that has (or lacks) the vector module, given the value of {@value
   * #VECTOR_PROPERTY} (null if unset). Never fails: anything that keeps the vectorised kernel from
   * loading selects the scalar one.
   */
  static PhaseKernel select(boolean vectorModulePresent, String vectorProperty) {
    if (!vectorModulePresent || !"true".equalsIgnoreCase(vectorProperty)) {
      return ScalarPhaseKernel.INSTANCE;
    }
    try {
      PhaseKernel k = VectorPhaseKernel.createIfWorthwhile();
      return k == null ? ScalarPhaseKernel.INSTANCE : k;
    } catch (LinkageError | RuntimeException e) {
      return ScalarPhaseKernel.INSTANCE;
    }
  }
}
