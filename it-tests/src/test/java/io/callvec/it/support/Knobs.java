package io.callvec.it.support;

import java.util.ArrayList;
import java.util.List;

/**
 * Sizes of reliability scenarios from system properties {@code callvec.soak.<name>}, with small
 * defaults for CI; {@code it-tests/run-soak.sh} passes larger ones.
 */
public final class Knobs {
  private Knobs() {}

  /** {@code -Dcallvec.soak.<name>} as an int, or {@code ciDefault}. */
  public static int intKnob(String name, int ciDefault) {
    String v = System.getProperty("callvec.soak." + name);
    return v == null || v.isBlank() ? ciDefault : Integer.parseInt(v.trim());
  }

  /** {@code -Dcallvec.soak.<name>} as a double, or {@code ciDefault}. */
  public static double doubleKnob(String name, double ciDefault) {
    String v = System.getProperty("callvec.soak." + name);
    return v == null || v.isBlank() ? ciDefault : Double.parseDouble(v.trim());
  }

  /** {@code -Dcallvec.soak.<name>} as comma-separated fractions in (0, 1), or {@code ciDefault}. */
  public static List<Double> fractionsKnob(String name, String ciDefault) {
    String v = System.getProperty("callvec.soak." + name);
    String s = v == null || v.isBlank() ? ciDefault : v;
    List<Double> out = new ArrayList<>();
    for (String part : s.split(",")) {
      double f = Double.parseDouble(part.trim());
      if (!(f > 0 && f < 1)) {
        throw new IllegalArgumentException("callvec.soak." + name + ": fractions must be in (0, 1), found " + f);
      }
      out.add(f);
    }
    return out;
  }
}
