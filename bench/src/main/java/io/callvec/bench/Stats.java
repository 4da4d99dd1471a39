package io.callvec.bench;

import java.util.Arrays;
import java.util.List;

/** Small statistics over measured values. */
final class Stats {
  private Stats() {}

  /**
   * The nearest-rank percentile: the smallest value with at least {@code q} of the values at or
   * below it ({@code q} in [0, 1]; 1 is the maximum). NaN for no values.
   */
  static double percentile(double[] values, double q) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] v = values.clone();
    Arrays.sort(v);
    int i = (int) Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1));
    return v[i];
  }

  static double percentile(List<Double> values, double q) {
    return percentile(values.stream().mapToDouble(Double::doubleValue).toArray(), q);
  }

  static double median(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] s = values.clone();
    Arrays.sort(s);
    int m = s.length / 2;
    return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
  }

  static double mean(double[] values) {
    return values.length == 0 ? Double.NaN : Arrays.stream(values).average().orElse(Double.NaN);
  }

  /**
   * The least-squares slope of y over x (units of y per unit of x); 0 for fewer than two distinct
   * x values.
   */
  static double slope(double[] x, double[] y) {
    int n = x.length;
    if (n < 2 || y.length != n) {
      return 0;
    }
    double mx = mean(x);
    double my = mean(y);
    double sxx = 0;
    double sxy = 0;
    for (int i = 0; i < n; i++) {
      sxx += (x[i] - mx) * (x[i] - mx);
      sxy += (x[i] - mx) * (y[i] - my);
    }
    return sxx == 0 ? 0 : sxy / sxx;
  }
}
