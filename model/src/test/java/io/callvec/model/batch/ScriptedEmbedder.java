package io.callvec.model.batch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.model.InferenceException;
import io.callvec.model.WindowEmbedder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * Test-only {@link WindowEmbedder}: each vector is a deterministic function of its window alone
 * ({@link #vectorOf}); it records every batch it is given, can hold callers at a gate, advance a
 * manual ticker per call, and run a failure script. Thread-safe.
 */
final class ScriptedEmbedder implements WindowEmbedder, AutoCloseable {
  static final int DIMENSION = 5;
  static final Duration WAIT = Duration.ofSeconds(10);

  /**
   * Decides, per call, whether it fails; may return a replacement result. Null: compute normally.
   */
  interface Script {
    float[][] run(List<float[]> windows, int callNumber, ScriptedEmbedder self)
        throws InferenceException;
  }

  /** A script that fails calls 1 to {@code lastFailingCall} with {@code failure}, then computes. */
  static Script failingUpToCall(int lastFailingCall, IntFunction<InferenceException> failure) {
    return (windows, call, self) -> {
      if (call <= lastFailingCall) {
        throw failure.apply(call);
      }
      return null;
    };
  }

  /** A script that computes calls before {@code firstFailingCall} and fails every later one. */
  static Script failingFromCall(int firstFailingCall, Supplier<InferenceException> failure) {
    return (windows, call, self) -> {
      if (call >= firstFailingCall) {
        throw failure.get();
      }
      return null;
    };
  }

  /** A script that fails every call with a new exception from {@code failure}. */
  static Script failingEveryCall(Supplier<InferenceException> failure) {
    return (windows, call, self) -> {
      throw failure.get();
    };
  }

  /** True when some window of the batch starts with the sample {@code marker}. */
  static boolean holdsMarked(List<float[]> windows, float marker) {
    for (float[] w : windows) {
      if (w[0] == marker) {
        return true;
      }
    }
    return false;
  }

  private final boolean mixedLengths;
  private final List<List<float[]>> batches = Collections.synchronizedList(new ArrayList<>());
  private final List<Long> callStartNanos = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger calls = new AtomicInteger();
  private final AtomicInteger concurrent = new AtomicInteger();
  private final AtomicInteger maxConcurrent = new AtomicInteger();
  private final Semaphore entered = new Semaphore(0);
  private volatile CountDownLatch gate;
  private volatile Script script;
  private volatile ManualTicker ticker;
  private volatile long tickerAdvancePerCallNanos;
  private volatile boolean closed;

  ScriptedEmbedder(boolean mixedLengths) {
    this.mixedLengths = mixedLengths;
  }

  ScriptedEmbedder() {
    this(false);
  }

  /** Callers of embedBatch wait until {@link #openGate()}. */
  ScriptedEmbedder closeGate() {
    gate = new CountDownLatch(1);
    return this;
  }

  void openGate() {
    CountDownLatch g = gate;
    if (g != null) {
      g.countDown();
    }
  }

  ScriptedEmbedder script(Script script) {
    this.script = script;
    return this;
  }

  /** Each call advances {@code ticker} by {@code perCall} (a simulated inference time). */
  ScriptedEmbedder advancing(ManualTicker ticker, Duration perCall) {
    this.ticker = ticker;
    this.tickerAdvancePerCallNanos = perCall.toNanos();
    return this;
  }

  @Override
  public float[][] embedBatch(List<float[]> windows) throws InferenceException {
    int call = calls.incrementAndGet();
    callStartNanos.add(System.nanoTime());
    int now = concurrent.incrementAndGet();
    maxConcurrent.accumulateAndGet(now, Math::max);
    try {
      batches.add(List.copyOf(windows));
      entered.release();
      CountDownLatch g = gate;
      if (g != null) {
        try {
          if (!g.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("test gate never opened");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      ManualTicker t = ticker;
      if (t != null) {
        t.advance(tickerAdvancePerCallNanos);
      }
      if (windows.isEmpty()) {
        throw new IllegalArgumentException("empty batch");
      }
      if (!mixedLengths) {
        int len = windows.get(0).length;
        for (float[] w : windows) {
          if (w.length != len) {
            throw new IllegalArgumentException(
                "fixed-length embedder got windows of " + len + " and " + w.length + " samples");
          }
        }
      }
      Script s = script;
      if (s != null) {
        float[][] replaced = s.run(windows, call, this);
        if (replaced != null) {
          return replaced;
        }
      }
      return compute(windows);
    } finally {
      concurrent.decrementAndGet();
    }
  }

  float[][] compute(List<float[]> windows) {
    float[][] out = new float[windows.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = vectorOf(windows.get(i));
    }
    return out;
  }

  /** The unbatched reference: depends on the window's length, content and sample order. */
  static float[] vectorOf(float[] w) {
    double sum = 0;
    double energy = 0;
    double moment = 0;
    for (int i = 0; i < w.length; i++) {
      sum += w[i];
      energy += (double) w[i] * w[i];
      moment += (double) i * w[i];
    }
    return new float[] {
      w.length / (float) BatchingEngine.SAMPLE_RATE_HZ,
      (float) sum,
      (float) energy,
      (float) (moment / w.length),
      w[0]
    };
  }

  @Override
  public boolean acceptsMixedLengths() {
    return mixedLengths;
  }

  @Override
  public int dimension() {
    return DIMENSION;
  }

  @Override
  public void close() {
    closed = true;
  }

  boolean isClosed() {
    return closed;
  }

  int calls() {
    return calls.get();
  }

  int maxConcurrent() {
    return maxConcurrent.get();
  }

  List<List<float[]>> batches() {
    synchronized (batches) {
      return List.copyOf(batches);
    }
  }

  List<Long> callStartNanos() {
    synchronized (callStartNanos) {
      return List.copyOf(callStartNanos);
    }
  }

  /** Waits until {@code n} more calls have entered embedBatch (gate or not). */
  void awaitEntered(int n) throws InterruptedException {
    assertTrue(
        entered.tryAcquire(n, WAIT.toMillis(), TimeUnit.MILLISECONDS),
        "expected " + n + " more embedBatch call(s) within " + WAIT);
  }

  /** {@code count} test signals of {@code samples} each, seeds {@code firstSeed} on. */
  static List<float[]> windows(int count, int samples, long firstSeed) {
    List<float[]> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(window(samples, firstSeed + i));
    }
    return out;
  }

  /** A seeded test signal: a sine of a seed-dependent frequency plus noise, in [-0.9, 0.9]. */
  static float[] window(int samples, long seed) {
    Random rnd = new Random(seed);
    double hz = 100 + rnd.nextInt(3000);
    float[] w = new float[samples];
    for (int i = 0; i < samples; i++) {
      w[i] =
          (float)
              (0.6 * Math.sin(2 * Math.PI * hz * i / BatchingEngine.SAMPLE_RATE_HZ)
                  + 0.3 * (rnd.nextDouble() * 2 - 1));
    }
    return w;
  }
}
