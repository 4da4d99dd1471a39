package io.callvec.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.callvec.cli.CallvecCli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * ops/k8s/gateway, the ingestion gateway's own kustomization (applied alone or added to
 * ops/k8s/kustomization.yaml): it lists every manifest of its folder, and the Deployment's
 * container arguments are a command line that {@code callvec} accepts.
 */
class GatewayManifestsTest {
  private static final String DIR = "ops/k8s/gateway";

  static List<String> yamlFiles() throws IOException {
    try (Stream<Path> s = Files.list(RepoFiles.path(DIR))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")).sorted().toList();
    }
  }

  @Test
  void kustomizationListsEveryManifest() throws IOException {
    JsonNode k = RepoFiles.yaml(DIR + "/kustomization.yaml");
    List<String> resources = new ArrayList<>();
    k.path("resources").forEach(r -> resources.add(r.asText()));
    assertEquals(yamlFiles(), resources.stream().sorted().toList());
  }

  @Test
  void deploymentArgumentsAreAValidIngestCommandLine() throws IOException {
    JsonNode deployment = null;
    for (String f : yamlFiles()) {
      for (JsonNode d : RepoFiles.yamlDocuments(DIR + "/" + f)) {
        if (d.path("kind").asText().equals("Deployment")) {
          deployment = d;
        }
      }
    }
    assertTrue(deployment != null, "no Deployment in " + DIR);
    JsonNode container = deployment.path("spec").path("template").path("spec").path("containers").get(0);
    List<String> args = new ArrayList<>();
    container.path("args").forEach(a -> args.add(a.asText()));
    assertFalse(args.isEmpty(), "the gateway container has no args");
    assertEquals("ingest", args.get(0), "the image's entry point runs callvec.jar: the first argument is the subcommand");
    CommandLine.ParseResult parsed = CallvecCli.newCommandLine().parseArgs(args.toArray(String[]::new));
    assertTrue(parsed.hasSubcommand(), "no subcommand parsed from " + args);
    assertEquals("ingest", parsed.subcommand().commandSpec().name());
    assertTrue(parsed.subcommand().unmatched().isEmpty(), "unmatched: " + parsed.subcommand().unmatched());
    // every argument after the subcommand is one --option=value
    assertEquals(args.size() - 1, parsed.subcommand().matchedOptions().size(), "options matched from " + args);
  }
}
