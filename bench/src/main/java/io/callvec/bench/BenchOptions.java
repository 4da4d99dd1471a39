package io.callvec.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options of a benchmark: {@code --name value} pairs, bare {@code --flag}s and any
 * number of {@code --set key=value} configuration overrides (passed to the app unchanged). Unknown
 * options, missing values and malformed numbers end the program with exit status 2 and a message
 * that names the option, what was expected and what was found.
 */
final class BenchOptions {
  private final String scenario;
  private final String usage;
  private final Map<String, String> values = new LinkedHashMap<>();
  private final Map<String, String> sets = new LinkedHashMap<>();

  private BenchOptions(String scenario, String usage) {
    this.scenario = scenario;
    this.usage = usage;
  }

  /**
   * Parses {@code args}.
   *
   * @param valued option names (without {@code --}) that take a value
   * @param flags option names that take none
   * @param usage the usage text printed with {@code --help} and after an error
   */
  static BenchOptions parse(
      String scenario, String[] args, Set<String> valued, Set<String> flags, String usage) {
    BenchOptions o = new BenchOptions(scenario, usage);
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("-h") || a.equals("--help")) {
        System.out.println(usage);
        System.exit(0);
      }
      if (!a.startsWith("--")) {
        o.fail("unexpected argument '" + a + "' (options start with --)");
      }
      String name = a.substring(2);
      String inline = null;
      int eq = name.indexOf('=');
      if (eq > 0 && !name.startsWith("set=")) {
        inline = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (flags.contains(name) && inline == null) {
        o.values.put(name, "true");
        continue;
      }
      if (!valued.contains(name) && !name.equals("set")) {
        o.fail("unknown option --" + name);
      }
      String v = inline;
      if (v == null) {
        if (i + 1 >= args.length) {
          o.fail("--" + name + " needs a value");
        }
        v = args[++i];
      }
      if (name.equals("set")) {
        int e = v.indexOf('=');
        if (e <= 0) {
          o.fail("--set expects key=value, got '" + v + "'");
        }
        o.sets.put(v.substring(0, e).trim(), v.substring(e + 1).trim());
      } else {
        o.values.put(name, v);
      }
    }
    return o;
  }

  /** Ends the program: prints the message and the usage to stderr, exit status 2. */
  void fail(String message) {
    System.err.println(scenario + ": " + message);
    System.err.println(usage);
    System.exit(2);
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  String get(String name, String def) {
    return values.getOrDefault(name, def);
  }

  boolean flag(String name) {
    return values.containsKey(name);
  }

  /** An integer option that must be at least {@code min}. */
  int integer(String name, int def, int min) {
    String v = values.get(name);
    if (v == null) {
      return def;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n < min) {
        fail("--" + name + " must be >= " + min + ", got " + n);
      }
      return n;
    } catch (NumberFormatException e) {
      fail("--" + name + " expects an integer, got '" + v + "'");
      return def;
    }
  }

  /** A decimal option that must be greater than {@code exclusiveMin}. */
  double decimal(String name, double def, double exclusiveMin) {
    String v = values.get(name);
    if (v == null) {
      return def;
    }
    try {
      double d = Double.parseDouble(v.trim());
      if (!(d > exclusiveMin)) {
        fail("--" + name + " must be > " + exclusiveMin + ", got " + d);
      }
      return d;
    } catch (NumberFormatException e) {
      fail("--" + name + " expects a number, got '" + v + "'");
      return def;
    }
  }

  /** A comma-separated list of positive integers, e.g. {@code 1,2,4,8}. */
  List<Integer> integers(String name, List<Integer> def) {
    String v = values.get(name);
    if (v == null) {
      return def;
    }
    List<Integer> out = new ArrayList<>();
    for (String p : v.split(",")) {
      try {
        int n = Integer.parseInt(p.trim());
        if (n < 1) {
          fail("--" + name + " values must be >= 1, got " + n);
        }
        out.add(n);
      } catch (NumberFormatException e) {
        fail("--" + name + " expects integers separated by commas, e.g. 1,2,4,8; got '" + v + "'");
      }
    }
    return out;
  }

  /** The {@code --set key=value} overrides, in order. */
  Map<String, String> sets() {
    return sets;
  }
}
