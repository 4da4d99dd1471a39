package io.callvec.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Files of the repository (tests run in cli/), read as YAML or JSON trees. */
final class RepoFiles {
  private RepoFiles() {}

  private static final YAMLMapper YAML = new YAMLMapper();
  private static final ObjectMapper JSON = JsonMapper.builder().build();

  /** The repository root: the first folder upwards with pom.xml, ops/ and topology/. */
  static Path root() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null) {
      if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("ops")) && Files.isDirectory(p.resolve("topology"))) {
        return p;
      }
      p = p.getParent();
    }
    throw new IllegalStateException("repository root not found above " + Path.of("").toAbsolutePath());
  }

  static Path path(String relative) {
    Path p = root().resolve(relative);
    if (!Files.exists(p)) {
      throw new IllegalStateException("missing file " + relative + " (looked at " + p + ")");
    }
    return p;
  }

  static String text(String relative) throws IOException {
    return Files.readString(path(relative));
  }

  /** Every document of a (multi-document) YAML file; empty documents are skipped. */
  static List<JsonNode> yamlDocuments(String relative) throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(text(relative))) {
      while (it.hasNext()) {
        JsonNode n = it.next();
        if (n != null && !n.isNull() && !n.isMissingNode() && !n.isEmpty()) {
          docs.add(n);
        }
      }
    }
    return docs;
  }

  static JsonNode yaml(String relative) throws IOException {
    List<JsonNode> docs = yamlDocuments(relative);
    if (docs.size() != 1) {
      throw new IllegalStateException(relative + " should hold one YAML document, found " + docs.size());
    }
    return docs.get(0);
  }

  static JsonNode json(String relative) throws IOException {
    return JSON.readTree(text(relative));
  }
}
