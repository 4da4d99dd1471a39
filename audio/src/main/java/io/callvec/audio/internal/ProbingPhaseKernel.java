package io.callvec.audio.internal;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the scalar kernel until the vectorised one is measured faster, then the vectorised one.
 *
 * <p>Why: JDK 17's vector API is only fast once HotSpot's C2 compiler has compiled the calling loop
 * with its intrinsics; before that (interpreter, C1, or while C2's queue is long on a busy machine),
 * every vector operation is a boxed Java fallback, tens of times slower than the scalar kernel and
 * allocating on every tap. Seen in {@code bench/run pipeline --jfr} right after start: the
 * stream threads spent a third of their samples in {@code FloatVector.bOpTemplate}.
 *
 * <p>How: every {@value #DEFAULT_PROBE_EVERY}th call also runs the other kernel on the same input
 * (both write the same bits, so the output does not depend on which wrote last) and times both; after
 * {@value #WINS_NEEDED} probes in a row where the vectorised kernel took at most three quarters of the
 * scalar one's time, it is used from then on. After {@value #MAX_PROBES} probes without that, the
 * scalar kernel stays. The probes also make the vectorised kernel hot, so that C2 compiles it. Only
 * speed depends on timing; never an output sample.
 */
final class ProbingPhaseKernel extends PhaseKernel {

  private static final Logger LOG = LoggerFactory.getLogger(ProbingPhaseKernel.class);

  /** A call in this many also times both kernels while probing. */
  static final int DEFAULT_PROBE_EVERY = 32;
  /** Consecutive faster probes before the vectorised kernel is used. */
  static final int WINS_NEEDED = 8;
  /** Probes after which the scalar kernel stays. */
  static final int MAX_PROBES = 20_000;

  private final PhaseKernel scalar;
  private final PhaseKernel vector;
  private final int probeEvery;
  private final AtomicLong calls = new AtomicLong();
  private final Decision decision = new Decision();
  /** 0 probing, 1 vectorised kernel in use, 2 scalar kernel kept. */
  private volatile int state;

  ProbingPhaseKernel(PhaseKernel scalar, PhaseKernel vector, int probeEvery) {
    this.scalar = scalar;
    this.vector = vector;
    this.probeEvery = probeEvery;
  }

  @Override
  public String name() {
    return switch (state) {
      case 1 -> vector.name();
      case 2 -> scalar.name() + " (" + vector.name() + " measured slower)";
      default -> scalar.name() + " (" + vector.name() + " warming up)";
    };
  }

  /** Whether the vectorised kernel is now the one that runs. */
  boolean vectorInUse() {
    return state == 1;
  }

  @Override
  public void run(float[] x, int base, float[] h, int taps, int up, int na, float[][] acc) {
    int s = state;
    if (s == 1) {
      vector.run(x, base, h, taps, up, na, acc);
      return;
    }
    if (s == 2 || calls.incrementAndGet() % probeEvery != 0) {
      scalar.run(x, base, h, taps, up, na, acc);
      return;
    }
    long t0 = System.nanoTime();
    vector.run(x, base, h, taps, up, na, acc);
    long t1 = System.nanoTime();
    scalar.run(x, base, h, taps, up, na, acc);
    long t2 = System.nanoTime();
    int verdict;
    synchronized (decision) {
      verdict = decision.record(t1 - t0, t2 - t1);
    }
    if (verdict != 0 && state == 0) {
      state = verdict;
      if (verdict == 1) {
        LOG.info("resampler: {} kernel in use after {} probes ({} ns vs {} ns for the scalar kernel in the last)",
            vector.name(), decision.probes, t1 - t0, t2 - t1);
      } else {
        LOG.info("resampler: the {} kernel was not faster than the scalar one in {} probes; keeping the scalar kernel",
            vector.name(), decision.probes);
      }
    }
  }

  /** The switching rule, apart from the clock (tested with given times). */
  static final class Decision {
    int probes;
    int wins;

    /** Records one probe; returns 1 to switch to the vectorised kernel, 2 to keep the scalar one, 0 to go on probing. */
    int record(long vectorNs, long scalarNs) {
      probes++;
      wins = 4 * vectorNs <= 3 * scalarNs ? wins + 1 : 0;
      if (wins >= WINS_NEEDED) {
        return 1;
      }
      return probes >= MAX_PROBES ? 2 : 0;
    }
  }
}
