package io.callvec.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict little JSON reader for tests (RFC 8259 values; no dependency): objects become {@link
 * LinkedHashMap}, arrays {@link ArrayList}, strings {@link String}, true/false {@link Boolean}, null
 * null, and numbers {@link Num} holding their exact text, so that a float can be read back with
 * {@link Float#parseFloat} and compared bit for bit.
 */
final class Json {

  /** A JSON number, as written. */
  record Num(String text) {
    long asLong() {
      return Long.parseLong(text);
    }

    float asFloat() {
      return Float.parseFloat(text);
    }
  }

  private final String s;
  private int pos;

  private Json(String s) {
    this.s = s;
  }

  /** Parses one JSON value that must make up the whole text (surrounding whitespace allowed). */
  static Object parse(String text) {
    Json j = new Json(text);
    j.ws();
    Object v = j.value();
    j.ws();
    if (j.pos != text.length()) {
      throw j.error("trailing characters");
    }
    return v;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> object(String text) {
    return (Map<String, Object>) parse(text);
  }

  private Object value() {
    if (pos >= s.length()) {
      throw error("unexpected end");
    }
    char c = s.charAt(pos);
    switch (c) {
      case '{':
        return obj();
      case '[':
        return arr();
      case '"':
        return str();
      case 't':
        return literal("true", Boolean.TRUE);
      case 'f':
        return literal("false", Boolean.FALSE);
      case 'n':
        return literal("null", null);
      default:
        return num();
    }
  }

  private Map<String, Object> obj() {
    Map<String, Object> m = new LinkedHashMap<>();
    elements('}', () -> {
      String k = str();
      ws();
      expect(':');
      ws();
      if (m.containsKey(k)) {
        throw error("duplicate key " + k);
      }
      m.put(k, value());
    });
    return m;
  }

  private List<Object> arr() {
    List<Object> l = new ArrayList<>();
    elements(']', () -> l.add(value()));
    return l;
  }

  /**
   * At an opening bracket: reads the {@code element}s, separated by ',' and white space, up to
   * {@code close}; none at all is fine.
   */
  private void elements(char close, Runnable element) {
    pos++;
    ws();
    if (peek() == close) {
      pos++;
      return;
    }
    while (true) {
      ws();
      element.run();
      ws();
      char c = next();
      if (c == close) {
        return;
      }
      if (c != ',') {
        throw error("expected , or " + close);
      }
    }
  }

  private String str() {
    expect('"');
    StringBuilder sb = new StringBuilder();
    while (true) {
      char c = next();
      if (c == '"') {
        return sb.toString();
      }
      if (c < 0x20) {
        throw error("control character in string");
      }
      if (c == '\\') {
        char e = next();
        switch (e) {
          case '"', '\\', '/' -> sb.append(e);
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case 'n' -> sb.append('\n');
          case 'r' -> sb.append('\r');
          case 't' -> sb.append('\t');
          case 'u' -> {
            sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
            pos += 4;
          }
          default -> throw error("bad escape \\" + e);
        }
      } else {
        sb.append(c);
      }
    }
  }

  private Num num() {
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    digits(true);
    if (peek() == '.') {
      pos++;
      digits(false);
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      digits(false);
    }
    return new Num(s.substring(start, pos));
  }

  private void digits(boolean integerPart) {
    int start = pos;
    while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
      pos++;
    }
    if (pos == start) {
      throw error("expected a digit");
    }
    if (integerPart && pos - start > 1 && s.charAt(start) == '0') {
      throw error("leading zero");
    }
  }

  private Object literal(String word, Object v) {
    if (!s.startsWith(word, pos)) {
      throw error("expected " + word);
    }
    pos += word.length();
    return v;
  }

  private void ws() {
    while (pos < s.length() && " \t\r\n".indexOf(s.charAt(pos)) >= 0) {
      pos++;
    }
  }

  private char peek() {
    return pos < s.length() ? s.charAt(pos) : '\0';
  }

  private char next() {
    if (pos >= s.length()) {
      throw error("unexpected end");
    }
    return s.charAt(pos++);
  }

  private void expect(char c) {
    if (next() != c) {
      throw error("expected " + c);
    }
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException("bad JSON at " + pos + ": " + what + " in " + (s.length() > 200 ? s.substring(0, 200) + "..." : s));
  }
}
