package io.callvec.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ops/k8s against the official schemas, offline: {@code ops/validate/validate-k8s.mjs} validates
 * each document with the JSON-schema validators that the kubernetes-models npm packages generate
 * from Kubernetes' OpenAPI and the KEDA / Prometheus Operator CRDs, and type-checks it with
 * TypeScript to reject unknown fields (what {@code kubeconform -strict} does, without a download at
 * test time).
 */
class K8sSchemaTest {

  private static ExternalTools.Result validate(Path target) throws Exception {
    Path node = ExternalTools.require("node", "NODE");
    ExternalTools.requireNodeModules();
    return ExternalTools.run(RepoFiles.path("ops/validate"), 120, List.of(node.toString(), "validate-k8s.mjs", target.toString()));
  }

  @Test
  void everyManifestMatchesItsSchemaStrictly() throws Exception {
    ExternalTools.Result r = validate(RepoFiles.path("ops/k8s"));
    int documents = K8sManifestsTest.manifests().size();
    assertEquals(0, r.exit(), r.output());
    assertTrue(r.output().contains(documents + " passed, 0 failed"), "expected all " + documents + " documents validated:\n" + r.output());
  }

  @Test
  void theGatewayManifestsMatchTheirSchemasStrictly() throws Exception {
    ExternalTools.Result r = validate(RepoFiles.path("ops/k8s/gateway"));
    int documents = 0;
    for (String f : GatewayManifestsTest.yamlFiles()) {
      documents += RepoFiles.yamlDocuments("ops/k8s/gateway/" + f).size();
    }
    assertEquals(0, r.exit(), r.output());
    assertTrue(documents > 0 && r.output().contains(documents + " passed, 0 failed"), "expected all " + documents + " documents validated:\n" + r.output());
  }

  @Test
  void theValidatorRejectsTyposWrongTypesAndUnknownKinds(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("sts.yaml"), RepoFiles.text("ops/k8s/statefulset.yaml").replace("livenessProbe:", "livenesProbe:"));
    Files.writeString(dir.resolve("keda.yaml"), RepoFiles.text("ops/k8s/keda.yaml").replace("maxReplicaCount: 12", "maxReplicaCount: \"12\""));
    Files.writeString(dir.resolve("pdb.yaml"), RepoFiles.text("ops/k8s/pdb.yaml").replace("kind: PodDisruptionBudget", "kind: PodDisruptionBugdet"));
    ExternalTools.Result r = validate(dir);
    assertEquals(1, r.exit(), r.output());
    assertTrue(r.output().contains("'\"livenesProbe\"' does not exist in type 'IContainer'"), r.output());
    assertTrue(r.output().contains("data/spec/maxReplicaCount must be integer"), r.output());
    assertTrue(r.output().contains("unknown apiVersion/kind policy/v1 PodDisruptionBugdet"), r.output());
    assertTrue(r.output().contains("1 passed, 3 failed"), r.output()); // the TriggerAuthentication in keda.yaml is fine
  }
}
