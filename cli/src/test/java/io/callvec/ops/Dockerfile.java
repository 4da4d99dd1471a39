package io.callvec.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile read into instructions (continuation lines joined, comments dropped), with {@code
 * ARG} defaults and {@code ENV} values substituted where {@code ${NAME}} or {@code $NAME} appears.
 * Enough for {@link ContainerFilesTest}; not a full parser (no heredocs, no escape directive).
 */
final class Dockerfile {

  /** One instruction: upper-case keyword and its raw arguments (variables substituted). */
  record Instruction(String keyword, String args, int stage) {}

  final List<Instruction> instructions = new ArrayList<>();
  /** ARG defaults and ENV values of the final stage (global ARGs included). */
  final Map<String, String> vars = new LinkedHashMap<>();
  final Map<String, String> env = new LinkedHashMap<>();
  int stages;

  private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}|\\$([A-Za-z_][A-Za-z0-9_]*)");
  private static final Pattern ASSIGN = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S*)");

  static Dockerfile parse(String text) {
    Dockerfile d = new Dockerfile();
    List<String> logical = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      String trimmed = line.strip();
      if (cur.length() == 0 && (trimmed.isEmpty() || trimmed.startsWith("#"))) {
        continue;
      }
      if (cur.length() > 0 && trimmed.startsWith("#")) {
        continue; // comment inside a continued instruction
      }
      if (trimmed.endsWith("\\")) {
        cur.append(trimmed, 0, trimmed.length() - 1).append(' ');
      } else {
        cur.append(trimmed);
        logical.add(cur.toString());
        cur.setLength(0);
      }
    }
    if (cur.length() > 0) {
      throw new IllegalArgumentException("the Dockerfile ends inside a continued line: " + cur);
    }
    Map<String, String> globalArgs = new LinkedHashMap<>();
    for (String l : logical) {
      int sp = l.indexOf(' ');
      String keyword = (sp < 0 ? l : l.substring(0, sp)).toUpperCase(Locale.ROOT);
      String rawArgs = sp < 0 ? "" : l.substring(sp + 1).strip();
      if (keyword.equals("FROM")) {
        d.stages++;
        d.vars.clear();
        d.env.clear();
        d.vars.putAll(globalArgs);
      }
      String args = keyword.equals("RUN") || keyword.equals("CMD") || keyword.equals("ENTRYPOINT") || keyword.equals("HEALTHCHECK")
          ? rawArgs : d.substitute(rawArgs, keyword.equals("FROM") ? globalArgs : null);
      if (keyword.equals("ARG")) {
        String name = args.contains("=") ? args.substring(0, args.indexOf('=')) : args;
        String value = args.contains("=") ? unquote(args.substring(args.indexOf('=') + 1)) : globalArgs.getOrDefault(name, "");
        if (d.stages == 0) {
          globalArgs.put(name, value);
        } else {
          d.vars.put(name, value);
        }
      } else if (keyword.equals("ENV")) {
        Matcher m = ASSIGN.matcher(args);
        while (m.find()) {
          String value = unquote(m.group(2));
          d.env.put(m.group(1), value);
          d.vars.put(m.group(1), value);
        }
      }
      d.instructions.add(new Instruction(keyword, args, d.stages));
    }
    return d;
  }

  private String substitute(String s, Map<String, String> only) {
    Map<String, String> scope = only != null ? only : vars;
    Matcher m = VAR.matcher(s);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2);
      // A variable of the base image (e.g. PATH) stays as written.
      m.appendReplacement(sb, Matcher.quoteReplacement(scope.getOrDefault(name, m.group())));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  private static String unquote(String s) {
    return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
  }

  /** Instructions of the final stage with this keyword. */
  List<Instruction> finalStage(String keyword) {
    return instructions.stream().filter(i -> i.stage() == stages && i.keyword().equals(keyword)).toList();
  }

  /** The single instruction of the final stage with this keyword. */
  Instruction one(String keyword) {
    List<Instruction> l = finalStage(keyword);
    if (l.size() != 1) {
      throw new IllegalStateException("expected one " + keyword + " in the final stage, found " + l.size());
    }
    return l.get(0);
  }

  /** The exec-form (JSON array) arguments of an instruction such as ENTRYPOINT or CMD. */
  static List<String> execForm(String args) throws IOException {
    JsonNode n = JsonMapper.builder().build().readTree(args);
    if (!n.isArray()) {
      throw new IllegalArgumentException("not exec form (JSON array): " + args);
    }
    List<String> out = new ArrayList<>();
    n.forEach(x -> out.add(x.asText()));
    return out;
  }

  /** COPY sources and destination, {@code --from}/{@code --chown} flags separated. */
  record Copy(List<String> sources, String destination, String from) {}

  List<Copy> copies() {
    List<Copy> out = new ArrayList<>();
    for (Instruction i : finalStage("COPY")) {
      List<String> words = new ArrayList<>(List.of(i.args().split("\\s+")));
      String from = null;
      while (!words.isEmpty() && words.get(0).startsWith("--")) {
        String flag = words.remove(0);
        if (flag.startsWith("--from=")) {
          from = flag.substring("--from=".length());
        }
      }
      String dest = words.remove(words.size() - 1);
      out.add(new Copy(words, dest, from));
    }
    return out;
  }
}
