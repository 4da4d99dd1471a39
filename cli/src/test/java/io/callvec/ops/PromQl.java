package io.callvec.ops;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Just enough of PromQL to find the series selectors of an expression (metric names and label
 * matchers) and the labels named in {@code by (...)} / {@code without (...)} / {@code on (...)}
 * clauses. Grafana variables ({@code $pod}, {@code ${pod}}, {@code $__rate_interval}) are accepted
 * wherever a string or a duration may stand. It does not check the grammar beyond what it needs:
 * {@code promtool check rules} does that for the alert rules.
 */
final class PromQl {
  private PromQl() {}

  /** A label matcher, e.g. {@code reason="inference"}; op is one of = != =~ !~. */
  record Matcher(String label, String op, String value) {}

  /** A series selector: a metric name and its matchers. */
  record Selector(String metric, List<Matcher> matchers) {}

  /** What an expression refers to. */
  record Refs(List<Selector> selectors, Set<String> groupingLabels) {
    Set<String> metrics() {
      Set<String> s = new LinkedHashSet<>();
      selectors.forEach(x -> s.add(x.metric()));
      return s;
    }
  }

  private static final Set<String> KEYWORDS = Set.of(
      "and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without", "on", "ignoring", "group_left", "group_right", "start", "end");
  private static final Set<String> GROUPING = Set.of("by", "without", "on", "ignoring", "group_left", "group_right");

  /**
   * The selectors and grouping labels of {@code expr}.
   *
   * @throws IllegalArgumentException on a token it cannot read (unbalanced quotes, brackets or braces)
   */
  static Refs parse(String expr) {
    List<String> t = tokens(expr);
    List<Selector> selectors = new ArrayList<>();
    Set<String> grouping = new LinkedHashSet<>();
    for (int i = 0; i < t.size(); i++) {
      String tok = t.get(i);
      if (tok.equals("[")) {
        i = skipTo(t, i, "[", "]");
      } else if (tok.equals("{")) {
        List<Matcher> m = new ArrayList<>();
        i = matchers(t, i, m);
        String name = m.stream().filter(x -> x.label().equals("__name__") && x.op().equals("=")).map(Matcher::value).findFirst()
            .orElseThrow(() -> new IllegalArgumentException("selector without a metric name in: " + expr));
        selectors.add(new Selector(name, m));
      } else if (isIdentifier(tok)) {
        String next = i + 1 < t.size() ? t.get(i + 1) : "";
        String lower = tok.toLowerCase(java.util.Locale.ROOT);
        if (GROUPING.contains(lower)) {
          if (next.equals("(")) {
            int close = skipTo(t, i + 1, "(", ")");
            for (int j = i + 2; j < close; j++) {
              if (isIdentifier(t.get(j))) {
                grouping.add(t.get(j));
              }
            }
            i = close;
          }
        } else if (KEYWORDS.contains(lower)) {
          // operator or modifier
        } else if (next.equals("(") || (isIdentifier(next) && (next.equals("by") || next.equals("without")))) {
          // function or aggregation
        } else {
          List<Matcher> m = new ArrayList<>();
          if (next.equals("{")) {
            i = matchers(t, i + 1, m);
          }
          selectors.add(new Selector(tok, m));
        }
      }
    }
    return new Refs(selectors, grouping);
  }

  private static int matchers(List<String> t, int open, List<Matcher> out) {
    int close = skipTo(t, open, "{", "}");
    int j = open + 1;
    while (j < close) {
      if (t.get(j).equals(",")) {
        j++;
        continue;
      }
      if (j + 2 >= close + 1 || !isIdentifier(t.get(j))) {
        throw new IllegalArgumentException("bad label matcher near '" + t.get(j) + "'");
      }
      String label = t.get(j);
      String op = t.get(j + 1);
      String value = t.get(j + 2);
      if (!Set.of("=", "!=", "=~", "!~").contains(op) || !(value.startsWith("\"") || value.startsWith("'") || value.startsWith("`"))) {
        throw new IllegalArgumentException("bad label matcher " + label + op + value);
      }
      out.add(new Matcher(label, op, unquote(value)));
      j += 3;
    }
    return close;
  }

  private static int skipTo(List<String> t, int open, String o, String c) {
    int depth = 0;
    for (int j = open; j < t.size(); j++) {
      if (t.get(j).equals(o)) {
        depth++;
      } else if (t.get(j).equals(c)) {
        depth--;
        if (depth == 0) {
          return j;
        }
      }
    }
    throw new IllegalArgumentException("unbalanced " + o + c);
  }

  static boolean isIdentifier(String tok) {
    return !tok.isEmpty() && (Character.isLetter(tok.charAt(0)) || tok.charAt(0) == '_' || tok.charAt(0) == ':');
  }

  private static String unquote(String s) {
    String body = s.substring(1, s.length() - 1);
    return s.charAt(0) == '`' ? body : body.replace("\\\"", "\"").replace("\\'", "'").replace("\\\\", "\\");
  }

  /** Identifiers, numbers/durations, strings (with quotes), Grafana variables, and punctuation/operators. */
  static List<String> tokens(String s) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '#') { // comment to end of line
        while (i < s.length() && s.charAt(i) != '\n') {
          i++;
        }
      } else if (c == '"' || c == '\'' || c == '`') {
        int j = i + 1;
        while (j < s.length() && s.charAt(j) != c) {
          j += (s.charAt(j) == '\\' && c != '`') ? 2 : 1;
        }
        if (j >= s.length()) {
          throw new IllegalArgumentException("unterminated string in: " + s);
        }
        out.add(s.substring(i, j + 1));
        i = j + 1;
      } else if (c == '$') { // Grafana variable: $name, ${name}, ${name:format}
        int j = i + 1;
        if (j < s.length() && s.charAt(j) == '{') {
          j = s.indexOf('}', j);
          if (j < 0) {
            throw new IllegalArgumentException("unterminated ${ in: " + s);
          }
          j++;
        } else {
          while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
            j++;
          }
        }
        out.add("\"" + s.substring(i, j) + "\""); // stands where a string or duration would
        i = j;
      } else if (Character.isLetter(c) || c == '_' || c == ':') {
        int j = i;
        while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_' || s.charAt(j) == ':')) {
          j++;
        }
        out.add(s.substring(i, j));
        i = j;
      } else if (Character.isDigit(c) || (c == '.' && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1)))) {
        int j = i;
        while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '.'
            || ((s.charAt(j) == '+' || s.charAt(j) == '-') && (s.charAt(j - 1) == 'e' || s.charAt(j - 1) == 'E')))) {
          j++;
        }
        out.add(s.substring(i, j)); // number or duration such as 5m, 1e3, 0x1f
        i = j;
      } else {
        String two = i + 1 < s.length() ? s.substring(i, i + 2) : "";
        if (Set.of("==", "!=", "=~", "!~", ">=", "<=").contains(two)) {
          out.add(two);
          i += 2;
        } else {
          out.add(String.valueOf(c));
          i++;
        }
      }
    }
    return out;
  }
}
