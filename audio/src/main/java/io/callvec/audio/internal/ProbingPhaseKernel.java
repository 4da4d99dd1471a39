package io.callvec.audio.internal;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs whichever of the scalar and the vectorised kernel is measured faster now, and keeps measuring.
 *
 * <p>Why: JDK 17's vector API is only fast while the calling loop runs as C2-compiled code with its
 * intrinsics; before C2 has compiled it (interpreter, C1, a long C2 queue on a busy machine) and
 * after a deoptimisation, every vector operation is a boxed Java fallback, tens of times slower
 * than the scalar kernel and allocating on every tap. Seen in {@code bench/run pipeline --jfr}: the
 * stream threads spent a third of their samples in {@code FloatVector.bOpTemplate}, at first right
 * after start, and again after the kernel had been measured fast and then deoptimised.
 *
 * <p>How: one call in {@link Decision#interval()} also runs the other kernel on the same input (both
 * write the same bits, so the output never depends on which ran or wrote last) and times both. Eight
 * probes in a row where the vectorised kernel took at most three quarters of the scalar one's time
 * switch to it; eight in a row where it did not switch back. While the scalar kernel runs and the
 * vectorised one keeps losing, probes become rarer (down to one call in {@value #MAX_INTERVAL}), so
 * that a slow vector path costs little; while the vectorised one runs, one call in {@value
 * #VECTOR_INTERVAL} is a probe. Only speed depends on the clock, never an output sample.
 */
final class ProbingPhaseKernel extends PhaseKernel {

  private static final Logger LOG = LoggerFactory.getLogger(ProbingPhaseKernel.class);

  /** Probe interval (calls) while the scalar kernel runs and the vectorised one has not lost yet. */
  static final int MIN_INTERVAL = 32;
  /** Longest probe interval (calls), reached while the vectorised kernel keeps losing. */
  static final int MAX_INTERVAL = 1024;
  /** Probe interval (calls) while the vectorised kernel runs. */
  static final int VECTOR_INTERVAL = 64;
  /** Consecutive probes with the same verdict before the kernel in use changes. */
  static final int RUN_NEEDED = 8;

  private final PhaseKernel scalar;
  private final PhaseKernel vector;
  private final AtomicLong calls = new AtomicLong();
  private final Decision decision;
  private volatile boolean vectorInUse;
  private volatile int interval;
  private boolean loggedFirstSwitch;

  ProbingPhaseKernel(PhaseKernel scalar, PhaseKernel vector) {
    this(scalar, vector, new Decision());
  }

  /** With a given rule (tests: {@code new Decision(1, 1, 1)} probes every call). */
  ProbingPhaseKernel(PhaseKernel scalar, PhaseKernel vector, Decision decision) {
    this.scalar = scalar;
    this.vector = vector;
    this.decision = decision;
    this.interval = decision.interval();
  }

  @Override
  public String name() {
    return vectorInUse ? vector.name() : scalar.name() + " (" + vector.name() + " measured slower so far)";
  }

  /** Whether the vectorised kernel is the one that runs now. */
  boolean vectorInUse() {
    return vectorInUse;
  }

  @Override
  public void run(float[] x, int base, float[] h, int taps, int up, int na, float[][] acc) {
    if (calls.incrementAndGet() % interval != 0) {
      (vectorInUse ? vector : scalar).run(x, base, h, taps, up, na, acc);
      return;
    }
    long t0 = System.nanoTime();
    vector.run(x, base, h, taps, up, na, acc);
    long t1 = System.nanoTime();
    scalar.run(x, base, h, taps, up, na, acc);
    long t2 = System.nanoTime();
    synchronized (decision) {
      boolean before = decision.vectorInUse();
      decision.record(t1 - t0, t2 - t1);
      interval = decision.interval();
      vectorInUse = decision.vectorInUse();
      if (vectorInUse != before) {
        String msg = "resampler: {} kernel in use after {} probes ({} ns vs {} ns for the other in the last)";
        Object[] args = {vectorInUse ? vector.name() : scalar.name(), decision.probes(), vectorInUse ? t1 - t0 : t2 - t1,
          vectorInUse ? t2 - t1 : t1 - t0};
        if (!loggedFirstSwitch) {
          loggedFirstSwitch = true;
          LOG.info(msg, args);
        } else {
          LOG.debug(msg, args);
        }
      }
    }
  }

  /** The switching rule, apart from the clock (tested with given times). Not thread-safe. */
  static final class Decision {
    private final int minInterval;
    private final int maxInterval;
    private final int vectorInterval;
    private long probes;
    private int wins;
    private int losses;
    private boolean vector;
    private int interval;

    Decision() {
      this(MIN_INTERVAL, MAX_INTERVAL, VECTOR_INTERVAL);
    }

    Decision(int minInterval, int maxInterval, int vectorInterval) {
      this.minInterval = minInterval;
      this.maxInterval = maxInterval;
      this.vectorInterval = vectorInterval;
      this.interval = minInterval;
    }

    /** Records one probe: the time each kernel took on the same call. */
    void record(long vectorNs, long scalarNs) {
      probes++;
      boolean vectorFaster = 4 * vectorNs <= 3 * scalarNs;
      wins = vectorFaster ? wins + 1 : 0;
      losses = vectorFaster ? 0 : losses + 1;
      if (!vector && wins >= RUN_NEEDED) {
        vector = true;
      } else if (vector && losses >= RUN_NEEDED) {
        vector = false;
      }
      if (vector) {
        interval = vectorInterval;
      } else if (vectorFaster) {
        interval = minInterval;
      } else if (losses >= RUN_NEEDED || interval > minInterval) {
        interval = Math.min(maxInterval, 2 * interval);
      }
    }

    boolean vectorInUse() {
      return vector;
    }

    /** Calls per probe from now on. */
    int interval() {
      return interval;
    }

    long probes() {
      return probes;
    }
  }
}
