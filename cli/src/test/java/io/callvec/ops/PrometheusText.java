package io.callvec.ops;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A Prometheus text exposition read into: sample name → label name → the values seen. Enough to
 * check that dashboards and rules name series and labels that exist.
 */
final class PrometheusText {
  private final Map<String, Map<String, Set<String>>> series = new TreeMap<>();

  private PrometheusText() {}

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException on a sample line it cannot read
   */
  static PrometheusText parse(String text) {
    PrometheusText p = new PrometheusText();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int i = 0;
      while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
        i++;
      }
      String name = line.substring(0, i);
      Map<String, Set<String>> labels = p.series.computeIfAbsent(name, k -> new TreeMap<>());
      if (i < line.length() && line.charAt(i) == '{') {
        i++;
        while (line.charAt(i) != '}') {
          int eq = line.indexOf('=', i);
          String label = line.substring(i, eq).trim();
          if (line.charAt(eq + 1) != '"') {
            throw new IllegalArgumentException("expected a quoted label value: " + line);
          }
          StringBuilder v = new StringBuilder();
          int j = eq + 2;
          while (line.charAt(j) != '"') {
            if (line.charAt(j) == '\\') {
              j++;
              v.append(line.charAt(j) == 'n' ? '\n' : line.charAt(j));
            } else {
              v.append(line.charAt(j));
            }
            j++;
          }
          labels.computeIfAbsent(label, k -> new TreeSet<>()).add(v.toString());
          i = j + 1;
          if (line.charAt(i) == ',') {
            i++;
          }
        }
      }
    }
    return p;
  }

  Set<String> names() {
    return series.keySet();
  }

  boolean has(String name) {
    return series.containsKey(name);
  }

  /** Label name → values of one sample name (empty if absent). */
  Map<String, Set<String>> labels(String name) {
    return series.getOrDefault(name, Map.of());
  }
}
