package io.callvec.audio.internal;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The polyphase windowed-sinc tables of a rational resampler {@code inRate -> outRate}, shared and
 * immutable (one instance per rate pair, built on first use).
 *
 * <p>Memory bound: one table holds at most {@link #MAX_TABLE_COEFFICIENTS} floats (4 MiB), and the
 * shared cache at most {@link #MAX_CACHED_COEFFICIENTS} floats (16 MiB) over all rate pairs, least
 * recently used tables evicted first: input that cycles through many accepted sample rates cannot
 * grow the heap beyond that (a table evicted while a resampler still holds it lives on until that
 * resampler is dropped; a rate used again after eviction rebuilds its table, a few ms of CPU).
 *
 * <p>Design, with {@code L/M = outRate/inRate} reduced by their gcd and {@code fN} the lower of the
 * two Nyquist frequencies: passband edge {@link #PASSBAND_FRACTION} x fN, stopband edge
 * {@link #STOPBAND_FRACTION} x fN, cut-off in the middle, Kaiser window for
 * {@link #ATTENUATION_DB} dB (beta = 0.1102 (A - 8.7)), length from Kaiser's formula. The band edges
 * follow sox's {@code rate -v} (flat to about 0.93 fN, -3 dB near 0.95 fN, stop just below fN), so
 * the two agree closely on band-limited speech; the stopband starts below fN so nothing above the
 * output Nyquist frequency aliases (downsampling) and no image of in-band content survives
 * (upsampling).
 *
 * <p>Output sample {@code n} sits at input time {@code t = n M / L} (input samples), i.e. the
 * filter's delay is compensated. With {@code a = floor(n M / L)} and phase {@code p = (n M) mod L},
 * {@code y[n] = sum_{j=0}^{T-1} h[p][j] x[a + K - j]} where {@code T = 2K} taps per phase and
 * {@code h[p][j] = k(j - K + p/L)} for the continuous kernel {@code k(tau) = 2 fc sinc(2 fc tau)
 * w(tau / K)} on {@code |tau| < K} ({@code tau} and {@code fc} in input samples and cycles per input sample). Each phase is
 * normalised to unit DC gain.
 */
public final class PolyphaseFilter {

  /** Passband edge as a fraction of the lower Nyquist frequency. */
  public static final double PASSBAND_FRACTION = 0.92;
  /** Stopband edge as a fraction of the lower Nyquist frequency. */
  public static final double STOPBAND_FRACTION = 0.99;
  /** Design stopband attenuation, dB (Kaiser). */
  public static final double ATTENUATION_DB = 85.0;
  /** Largest table accepted, coefficients (L x T floats; 4 MiB). */
  public static final int MAX_TABLE_COEFFICIENTS = 1 << 20;

  /** Largest total of all cached tables, coefficients (4 × {@link #MAX_TABLE_COEFFICIENTS}: 16 MiB). */
  public static final long MAX_CACHED_COEFFICIENTS = 4L * MAX_TABLE_COEFFICIENTS;

  /** Rate pair → table, in access order (least recently used first); guarded by itself. */
  private static final LinkedHashMap<Long, PolyphaseFilter> CACHE = new LinkedHashMap<>(16, 0.75f, true);
  /** Coefficients of the tables in {@link #CACHE}; guarded by {@link #CACHE}. */
  private static long cachedCoefficients;

  /** Upsampling factor L (phases). */
  public final int up;
  /** Downsampling factor M. */
  public final int down;
  /** Half-width K of the kernel, input samples; taps per phase = 2K. */
  public final int halfWidth;
  /** Taps per phase, T = 2K. */
  public final int taps;
  /** Kaiser beta. */
  public final double beta;
  /** Cut-off, cycles per input sample. */
  public final double cutoffCyclesPerInputSample;
  /** Passband and stopband edges, Hz. */
  public final double passbandHz;
  public final double stopbandHz;
  /** Coefficients, phase-major: h[p][j] = coefficients[p * taps + j]. Never modify. */
  public final float[] coefficients;

  private PolyphaseFilter(int inRateHz, int outRateHz) {
    int g = gcd(inRateHz, outRateHz);
    this.up = outRateHz / g;
    this.down = inRateHz / g;
    double rho = Math.min(1.0, (double) up / down); // lower Nyquist / input Nyquist
    double fp = PASSBAND_FRACTION * 0.5 * rho;
    double fs = STOPBAND_FRACTION * 0.5 * rho;
    double fc = 0.5 * (fp + fs);
    double span = (ATTENUATION_DB - 7.95) / (2.285 * 2 * Math.PI * (fs - fp));
    this.halfWidth = (int) Math.ceil(span / 2);
    this.taps = 2 * halfWidth;
    this.beta = 0.1102 * (ATTENUATION_DB - 8.7);
    this.cutoffCyclesPerInputSample = fc;
    double lowerNyquistHz = Math.min(inRateHz, outRateHz) / 2.0;
    this.passbandHz = PASSBAND_FRACTION * lowerNyquistHz;
    this.stopbandHz = STOPBAND_FRACTION * lowerNyquistHz;
    if ((long) up * taps > MAX_TABLE_COEFFICIENTS) {
      throw new IllegalArgumentException(
          "resampling " + inRateHz + " -> " + outRateHz + " Hz needs " + up + " phases x " + taps
              + " taps, more than " + MAX_TABLE_COEFFICIENTS + " coefficients");
    }
    this.coefficients = new float[up * taps];
    double i0Beta = besselI0(beta);
    double[] h = new double[taps];
    for (int p = 0; p < up; p++) {
      double sum = 0;
      for (int j = 0; j < taps; j++) {
        // tau = (j - K) + p / L, in input samples
        double tau = (j - halfWidth) + (double) p / up;
        double r = tau / halfWidth;
        // The support is the open interval |tau| < K, so that every phase is symmetric (phase 0 would
        // otherwise hold the window's edge value at tau = -K but not at +K).
        double w = Math.abs(r) >= 1 ? 0.0 : besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta;
        h[j] = 2 * fc * sinc(2 * fc * tau) * w;
        sum += h[j];
      }
      for (int j = 0; j < taps; j++) {
        coefficients[p * taps + j] = (float) (h[j] / sum);
      }
    }
  }

  /**
   * The shared filter for {@code inRateHz -> outRateHz}, from the cache or built (outside the cache's
   * lock, so other rate pairs are not held up) and cached within {@link #MAX_CACHED_COEFFICIENTS}.
   *
   * @throws IllegalArgumentException if the table would exceed {@link #MAX_TABLE_COEFFICIENTS}
   */
  public static PolyphaseFilter get(int inRateHz, int outRateHz) {
    long key = (long) inRateHz << 32 | outRateHz;
    synchronized (CACHE) {
      PolyphaseFilter f = CACHE.get(key);
      if (f != null) {
        return f;
      }
    }
    PolyphaseFilter built = new PolyphaseFilter(inRateHz, outRateHz);
    synchronized (CACHE) {
      PolyphaseFilter raced = CACHE.get(key);
      if (raced != null) {
        return raced;
      }
      CACHE.put(key, built);
      cachedCoefficients += built.coefficients.length;
      Iterator<Map.Entry<Long, PolyphaseFilter>> eldest = CACHE.entrySet().iterator();
      while (cachedCoefficients > MAX_CACHED_COEFFICIENTS && eldest.hasNext()) {
        Map.Entry<Long, PolyphaseFilter> e = eldest.next();
        if (e.getKey() != key) {
          cachedCoefficients -= e.getValue().coefficients.length;
          eldest.remove();
        }
      }
      return built;
    }
  }

  /** Coefficients held by the shared cache now (for tests and diagnostics). */
  public static long cachedCoefficients() {
    synchronized (CACHE) {
      return cachedCoefficients;
    }
  }

  /** Rate pairs in the shared cache now. */
  public static int cachedTables() {
    synchronized (CACHE) {
      return CACHE.size();
    }
  }

  /** Coefficient j of phase p (a copy of the table's value). */
  public float coefficient(int phase, int tap) {
    return coefficients[phase * taps + tap];
  }

  public static int gcd(int a, int b) {
    while (b != 0) {
      int t = a % b;
      a = b;
      b = t;
    }
    return Math.abs(a);
  }

  private static double sinc(double x) {
    if (x == 0) {
      return 1.0;
    }
    double px = Math.PI * x;
    return Math.sin(px) / px;
  }

  /** Modified Bessel function of the first kind, order 0 (power series; converges for all x). */
  static double besselI0(double x) {
    double sum = 1.0;
    double term = 1.0;
    double q = x * x / 4;
    for (int k = 1; k < 500; k++) {
      term *= q / ((double) k * k);
      sum += term;
      if (term < sum * 1e-17) {
        break;
      }
    }
    return sum;
  }

  @Override
  public String toString() {
    return String.format(
        "L/M=%d/%d, %d taps per phase (K=%d), Kaiser beta=%.3f, %.0f dB design, passband %.0f Hz,"
            + " stopband %.0f Hz, cut-off %.5f cycles/input sample",
        up, down, taps, halfWidth, beta, ATTENUATION_DB, passbandHz, stopbandHz, cutoffCyclesPerInputSample);
  }
}
