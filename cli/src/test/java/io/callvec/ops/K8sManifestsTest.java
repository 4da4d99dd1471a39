package io.callvec.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.callvec.app.CallvecConfig;
import io.callvec.app.HttpEndpoint;
import io.callvec.app.Settings;
import io.callvec.cli.TopicsCommand;
import io.callvec.model.batch.BatchingOptions;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The Kubernetes manifests of ops/k8s agree with each other and with the app (the schemas
 * themselves are {@link K8sSchemaTest}'s): selectors match the pod labels, probes and the
 * PodMonitor use the container's port, which is the app's HTTP port, and the paths the app serves;
 * the ConfigMap plus the container's environment is a configuration the app and Kafka Streams
 * accept; KEDA watches the app's consumer group and input topic and never scales past the input
 * partitions; the grace period covers the app's drain; secrets and config maps referenced exist.
 */
class K8sManifestsTest {

  /** Every document of ops/k8s/*.yaml except kustomization.yaml, keyed "Kind/name". */
  static Map<String, JsonNode> manifests() throws IOException {
    Map<String, JsonNode> out = new LinkedHashMap<>();
    for (String f : yamlFiles()) {
      for (JsonNode d : RepoFiles.yamlDocuments("ops/k8s/" + f)) {
        String key = d.path("kind").asText() + "/" + d.path("metadata").path("name").asText();
        assertTrue(out.put(key, d) == null, "duplicate " + key);
      }
    }
    return out;
  }

  static List<String> yamlFiles() throws IOException {
    try (Stream<Path> s = Files.list(RepoFiles.path("ops/k8s"))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")).sorted().toList();
    }
  }

  static JsonNode get(String kindSlashName) throws IOException {
    JsonNode n = manifests().get(kindSlashName);
    assertNotNull(n, "no " + kindSlashName + " in ops/k8s (have " + manifests().keySet() + ")");
    return n;
  }

  static JsonNode container(JsonNode workload, String name) {
    for (JsonNode c : workload.path("spec").path("template").path("spec").path("containers")) {
      if (c.path("name").asText().equals(name)) {
        return c;
      }
    }
    throw new AssertionError("no container " + name);
  }

  static Map<String, String> map(JsonNode n) {
    Map<String, String> m = new LinkedHashMap<>();
    n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
    return m;
  }

  static void assertSelects(Map<String, String> selector, Map<String, String> labels, String what) {
    assertFalse(selector.isEmpty(), what + ": empty selector");
    selector.forEach((k, v) -> assertEquals(v, labels.get(k), what + ": selector " + k + "=" + v + " does not match the pod labels " + labels));
  }

  private static final Pattern REF = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

  /**
   * The container's environment as the kubelet makes it: secretKeyRef and configMapKeyRef values
   * from ops/k8s, fieldRef metadata.name = podName, and $(VAR) references to earlier variables.
   */
  static Map<String, String> environment(JsonNode container, String podName) throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (JsonNode e : container.path("env")) {
      String name = e.path("name").asText();
      String value;
      if (e.has("value")) {
        Matcher m = REF.matcher(e.get("value").asText());
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
          assertTrue(env.containsKey(m.group(1)), name + " refers to $(" + m.group(1) + "), which is not defined before it");
          m.appendReplacement(sb, Matcher.quoteReplacement(env.get(m.group(1))));
        }
        m.appendTail(sb);
        value = sb.toString();
      } else if (e.path("valueFrom").has("secretKeyRef")) {
        JsonNode ref = e.path("valueFrom").path("secretKeyRef");
        JsonNode secret = get("Secret/" + ref.path("name").asText());
        JsonNode v = secret.path("stringData").path(ref.path("key").asText());
        assertFalse(v.isMissingNode(), "Secret " + ref.path("name").asText() + " has no key " + ref.path("key").asText());
        value = v.asText();
      } else if (e.path("valueFrom").has("fieldRef")) {
        assertEquals("metadata.name", e.path("valueFrom").path("fieldRef").path("fieldPath").asText());
        value = podName;
      } else {
        throw new AssertionError("unsupported env source for " + name + ": " + e);
      }
      env.put(name, value);
    }
    return env;
  }

  /** callvec.properties from the ConfigMap, written to a file. */
  static Path propertiesFile(Path dir) throws IOException {
    JsonNode cm = get("ConfigMap/callvec-config");
    String text = cm.path("data").path("callvec.properties").asText();
    assertFalse(text.isBlank(), "ConfigMap callvec-config has no callvec.properties");
    return Files.writeString(dir.resolve("callvec.properties"), text);
  }

  /** The app's configuration in pod callvec-0: ConfigMap file + container environment. */
  static CallvecConfig podConfig(Path dir) throws IOException {
    JsonNode sts = get("StatefulSet/callvec");
    JsonNode c = container(sts, "callvec");
    List<String> args = new ArrayList<>();
    c.path("args").forEach(a -> args.add(a.asText()));
    assertEquals(List.of("run", "--config", "/etc/callvec/callvec.properties"), args);
    return CallvecConfig.builder().file(propertiesFile(dir)).environment(environment(c, "callvec-0")).build();
  }

  static String mountPath(JsonNode container, String volume) {
    for (JsonNode m : container.path("volumeMounts")) {
      if (m.path("name").asText().equals(volume)) {
        return m.path("mountPath").asText();
      }
    }
    throw new AssertionError("no volumeMount " + volume);
  }

  @Test
  void kustomizationListsEveryManifestAndImage() throws Exception {
    JsonNode k = RepoFiles.yaml("ops/k8s/kustomization.yaml");
    assertEquals("kustomize.config.k8s.io/v1beta1", k.path("apiVersion").asText());
    assertEquals("Kustomization", k.path("kind").asText());
    List<String> resources = new ArrayList<>();
    k.path("resources").forEach(r -> resources.add(r.asText()));
    assertEquals(yamlFiles(), resources.stream().sorted().toList(), "kustomization.yaml resources must list every manifest");
    Set<String> images = new TreeSet<>();
    k.path("images").forEach(i -> images.add(i.path("name").asText()));
    for (JsonNode d : manifests().values()) {
      for (JsonNode c : d.path("spec").path("template").path("spec").path("containers")) {
        assertTrue(images.contains(c.path("image").asText()), "image " + c.path("image").asText() + " has no entry in kustomization images");
      }
    }
  }

  @Test
  void kindsAndApiVersionsAreTheExpectedOnes() throws Exception {
    Map<String, String> expected = Map.of(
        "ConfigMap", "v1", "Secret", "v1", "Service", "v1", "StatefulSet", "apps/v1", "PodDisruptionBudget", "policy/v1",
        "Job", "batch/v1", "ScaledObject", "keda.sh/v1alpha1", "TriggerAuthentication", "keda.sh/v1alpha1",
        "PodMonitor", "monitoring.coreos.com/v1", "PrometheusRule", "monitoring.coreos.com/v1");
    Set<String> kinds = new TreeSet<>();
    for (Map.Entry<String, JsonNode> e : manifests().entrySet()) {
      String kind = e.getValue().path("kind").asText();
      kinds.add(kind);
      assertEquals(expected.get(kind), e.getValue().path("apiVersion").asText(), e.getKey());
      assertFalse(e.getValue().path("metadata").has("namespace"), e.getKey() + ": leave the namespace to kubectl -n / kustomize");
    }
    assertEquals(new TreeSet<>(expected.keySet()), kinds);
  }

  @Test
  void selectorsServiceAndMonitorsMatchThePods() throws Exception {
    JsonNode sts = get("StatefulSet/callvec");
    Map<String, String> podLabels = map(sts.path("spec").path("template").path("metadata").path("labels"));
    assertSelects(map(sts.path("spec").path("selector").path("matchLabels")), podLabels, "StatefulSet");
    JsonNode svc = get("Service/" + sts.path("spec").path("serviceName").asText());
    assertEquals("None", svc.path("spec").path("clusterIP").asText(), "the governing service must be headless");
    assertSelects(map(svc.path("spec").path("selector")), podLabels, "Service");
    assertSelects(map(get("PodDisruptionBudget/callvec").path("spec").path("selector").path("matchLabels")), podLabels, "PodDisruptionBudget");
    assertEquals(1, get("PodDisruptionBudget/callvec").path("spec").path("maxUnavailable").asInt());
    JsonNode pm = get("PodMonitor/callvec");
    assertSelects(map(pm.path("spec").path("selector").path("matchLabels")), podLabels, "PodMonitor");

    // The topics Job's pods must not be taken for callvec pods.
    Map<String, String> jobLabels = map(get("Job/callvec-topics").path("spec").path("template").path("metadata").path("labels"));
    Map<String, String> selector = map(sts.path("spec").path("selector").path("matchLabels"));
    assertFalse(selector.entrySet().stream().allMatch(e -> e.getValue().equals(jobLabels.get(e.getKey()))), "the Job's pods match the StatefulSet selector");
  }

  @Test
  void probesAndScrapingUseTheAppsPortAndPaths(@TempDir Path dir) throws Exception {
    JsonNode sts = get("StatefulSet/callvec");
    JsonNode c = container(sts, "callvec");
    int appPort = podConfig(dir).getInt(Settings.HTTP_PORT);
    Map<String, Integer> ports = new HashMap<>();
    c.path("ports").forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
    assertEquals(Map.of("http", appPort), ports, "the container port must be callvec.http.port");

    Map<String, String> probePaths = new LinkedHashMap<>();
    for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
      JsonNode get = c.path(probe).path("httpGet");
      assertEquals("http", get.path("port").asText(), probe + " must use the named container port");
      probePaths.put(probe, get.path("path").asText());
    }
    assertEquals(Map.of("startupProbe", "/health/live", "livenessProbe", "/health/live", "readinessProbe", "/health/ready"), probePaths);
    // Startup allows for model loading: at least 2 minutes before liveness takes over.
    JsonNode startup = c.path("startupProbe");
    assertTrue(startup.path("periodSeconds").asInt() * startup.path("failureThreshold").asInt() >= 120, "startup window too short for loading a large model");

    JsonNode endpoint = get("PodMonitor/callvec").path("spec").path("podMetricsEndpoints").get(0);
    assertEquals("http", endpoint.path("port").asText());
    assertEquals("/metrics", endpoint.path("path").asText());
    Map<String, String> annotations = map(sts.path("spec").path("template").path("metadata").path("annotations"));
    assertEquals(String.valueOf(appPort), annotations.get("prometheus.io/port"));
    assertEquals("/metrics", annotations.get("prometheus.io/path"));
    assertEquals("http", get("Service/callvec").path("spec").path("ports").get(0).path("targetPort").asText());

    // The paths answer on the app's real endpoint (live and ready app: 200; metrics: Prometheus text).
    try (HttpEndpoint http = HttpEndpoint.start(0, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), () -> true, () -> true)) {
      HttpClient client = HttpClient.newHttpClient();
      for (String path : List.of("/health/live", "/health/ready", "/metrics")) {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path);
      }
    }
  }

  @Test
  void gracePeriodCoversTheAppsDrain() throws Exception {
    JsonNode podSpec = get("StatefulSet/callvec").path("spec").path("template").path("spec");
    long streamsCloseS = 60; // CallvecApp.close(): streams.close(Duration.ofSeconds(60))
    long batcherDrainS = BatchingOptions.DEFAULT_DRAIN_TIMEOUT.toSeconds();
    long grace = podSpec.path("terminationGracePeriodSeconds").asLong();
    assertTrue(grace >= streamsCloseS + batcherDrainS + 10, "terminationGracePeriodSeconds " + grace + " < " + (streamsCloseS + batcherDrainS) + " s of drain + margin");
  }

  @Test
  void gpuMemoryAndSecurity() throws Exception {
    JsonNode sts = get("StatefulSet/callvec");
    JsonNode c = container(sts, "callvec");
    JsonNode res = c.path("resources");
    assertEquals("1", res.path("limits").path("nvidia.com/gpu").asText(), "one GPU per pod");
    assertEquals("1", res.path("requests").path("nvidia.com/gpu").asText());
    assertEquals(res.path("requests").path("memory").asText(), res.path("limits").path("memory").asText(), "memory request = limit (no overcommit of a GPU node)");
    assertTrue(sts.path("spec").path("template").path("spec").path("tolerations").findValuesAsText("key").contains("nvidia.com/gpu"));

    JsonNode podSec = sts.path("spec").path("template").path("spec").path("securityContext");
    assertTrue(podSec.path("runAsNonRoot").asBoolean());
    Dockerfile image = Dockerfile.parse(RepoFiles.text("ops/container/Dockerfile.cuda"));
    String imageUid = image.one("USER").args().split(":")[0];
    assertEquals(imageUid, podSec.path("runAsUser").asText(), "runAsUser = the image's USER");
    assertEquals(imageUid, podSec.path("fsGroup").asText(), "fsGroup = the image's group, so the state volume is writable");
    JsonNode sec = c.path("securityContext");
    assertTrue(sec.path("readOnlyRootFilesystem").asBoolean());
    assertFalse(sec.path("allowPrivilegeEscalation").asBoolean(true));
    assertEquals("/tmp", mountPath(c, "tmp"), "ONNX Runtime and RocksDB unpack native libraries to /tmp: it must be writable");
    assertTrue(sts.path("spec").path("template").path("spec").path("volumes").findValuesAsText("name").contains("tmp"));
    assertFalse(sts.path("spec").has("replicas"), "KEDA owns replicas; a value here is reset on every apply");
  }

  @Test
  void configMapAndEnvironmentAreAValidAppAndStreamsConfiguration(@TempDir Path dir) throws Exception {
    CallvecConfig config = podConfig(dir);
    JsonNode sts = get("StatefulSet/callvec");
    JsonNode c = container(sts, "callvec");

    // State on the claim template's volume; the model under the models mount.
    String stateVolume = sts.path("spec").path("volumeClaimTemplates").get(0).path("metadata").path("name").asText();
    assertEquals(mountPath(c, stateVolume), config.raw("state.dir"));
    assertTrue(config.get(Settings.MODEL_PATH).startsWith(mountPath(c, "models") + "/"), config.get(Settings.MODEL_PATH));
    assertEquals("cuda", config.get(Settings.MODEL_PROVIDER));
    assertTrue(Integer.parseInt(config.raw("num.standby.replicas")) >= 1, "standby replicas keep failover fast");
    assertEquals("3", config.raw("replication.factor"));

    // The secret reaches sasl.jaas.config through the environment, never through the ConfigMap.
    String jaas = config.raw("sasl.jaas.config");
    assertEquals("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"callvec\" password=\"change-me\";", jaas);
    assertFalse(RepoFiles.text("ops/k8s/configmap.yaml").contains("sasl.jaas.config="), "no credentials in the ConfigMap");

    // Kafka Streams accepts it, and static membership gives each stream thread its own id.
    Properties props = config.streamsProperties();
    StreamsConfig streams = new StreamsConfig(props);
    assertEquals("callvec-0", props.getProperty("group.instance.id"));
    Map<String, Object> mainConsumer = streams.getMainConsumerConfigs("callvec", "callvec-0-StreamThread-2-consumer", 1);
    assertEquals("callvec-0-1", mainConsumer.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
    assertEquals("SASL_SSL", streams.originals().get("security.protocol"));
  }

  @Test
  void kedaWatchesTheAppsGroupAndStaysWithinThePartitions(@TempDir Path dir) throws Exception {
    CallvecConfig config = podConfig(dir);
    JsonNode so = get("ScaledObject/callvec");
    JsonNode target = so.path("spec").path("scaleTargetRef");
    assertEquals("StatefulSet", target.path("kind").asText());
    assertEquals("apps/v1", target.path("apiVersion").asText());
    assertEquals("callvec", target.path("name").asText());
    get("StatefulSet/" + target.path("name").asText());

    JsonNode trigger = so.path("spec").path("triggers").get(0);
    assertEquals("kafka", trigger.path("type").asText());
    Map<String, String> md = map(trigger.path("metadata"));
    Set<String> knownKeys = Set.of("bootstrapServers", "consumerGroup", "topic", "lagThreshold", "activationLagThreshold", "offsetResetPolicy",
        "allowIdleConsumers", "scaleToZeroOnInvalidOffset", "excludePersistentLag", "limitToPartitionsWithLag", "partitionLimitation", "version");
    assertTrue(knownKeys.containsAll(md.keySet()), "unknown kafka trigger keys: " + md.keySet().stream().filter(k -> !knownKeys.contains(k)).toList());
    assertEquals(config.raw("bootstrap.servers"), md.get("bootstrapServers"));
    assertEquals(config.raw("application.id"), md.get("consumerGroup"), "Kafka Streams' group id is application.id");
    assertEquals(config.get(Settings.INPUT_TOPIC), md.get("topic"));
    assertTrue(Long.parseLong(md.get("lagThreshold")) > 0);
    assertEquals("false", md.get("allowIdleConsumers"));

    // maxReplicaCount <= input partitions (and every stream thread busy at the maximum).
    int max = so.path("spec").path("maxReplicaCount").asInt();
    int min = so.path("spec").path("minReplicaCount").asInt();
    int threads = Integer.parseInt(config.raw("num.stream.threads"));
    int partitions = topicsJobOptions().partitions;
    assertTrue(min >= 1 && min <= max, "min " + min + ", max " + max);
    assertTrue(max <= partitions, "maxReplicaCount " + max + " > input partitions " + partitions);
    assertTrue(max * threads <= partitions, "maxReplicaCount x num.stream.threads = " + (max * threads) + " > input partitions " + partitions);

    // Authentication: the TriggerAuthentication reads keys that the Secret has, consistent with the app's SASL settings.
    JsonNode auth = get("TriggerAuthentication/" + trigger.path("authenticationRef").path("name").asText());
    Map<String, String> params = new LinkedHashMap<>();
    for (JsonNode ref : auth.path("spec").path("secretTargetRef")) {
      JsonNode secret = get("Secret/" + ref.path("name").asText());
      JsonNode v = secret.path("stringData").path(ref.path("key").asText());
      assertFalse(v.isMissingNode(), "Secret " + ref.path("name").asText() + " has no key " + ref.path("key").asText());
      params.put(ref.path("parameter").asText(), v.asText());
    }
    assertEquals(Set.of("sasl", "username", "password", "tls"), params.keySet());
    Map<String, String> kedaSasl = Map.of("SCRAM-SHA-512", "scram_sha512", "SCRAM-SHA-256", "scram_sha256", "PLAIN", "plaintext");
    assertEquals(kedaSasl.get(config.raw("sasl.mechanism")), params.get("sasl"), "KEDA's sasl mode = the app's sasl.mechanism");
    assertEquals(config.raw("security.protocol").endsWith("SSL") ? "enable" : "disable", params.get("tls"));
  }

  /** The topics Job's arguments, parsed by the real command. */
  static TopicsJob topicsJobOptions() throws IOException {
    JsonNode c = container(get("Job/callvec-topics"), "topics");
    List<String> args = new ArrayList<>();
    c.path("args").forEach(a -> args.add(a.asText()));
    assertEquals(List.of("topics", "create"), args.subList(0, 2));
    CommandLine.ParseResult pr = new CommandLine(new TopicsCommand(Map.of())).parseArgs(args.subList(1, args.size()).toArray(String[]::new));
    CommandLine.ParseResult create = pr.subcommand();
    assertEquals("create", create.commandSpec().name());
    return new TopicsJob(create.matchedOptionValue("--partitions", -1), create.matchedOptionValue("--replication-factor", (short) -1),
        create.matchedOptionValue("--config", (Path) null));
  }

  record TopicsJob(int partitions, short replicationFactor, Path config) {}

  @Test
  void topicsJobUsesTheSameConfigurationAndCredentials(@TempDir Path dir) throws Exception {
    TopicsJob job = topicsJobOptions();
    assertEquals(Path.of("/etc/callvec/callvec.properties"), job.config());
    assertEquals(3, job.replicationFactor());
    JsonNode jobC = container(get("Job/callvec-topics"), "topics");
    assertEquals("/etc/callvec", mountPath(jobC, "config"));
    CallvecConfig jobConfig = CallvecConfig.builder().file(propertiesFile(dir)).environment(environment(jobC, "callvec-topics-x")).build();
    assertEquals(podConfig(dir).raw("sasl.jaas.config"), jobConfig.raw("sasl.jaas.config"));
    Properties admin = adminProperties(jobConfig);
    assertEquals("SASL_SSL", admin.getProperty("security.protocol"));
    assertNotNull(admin.getProperty("sasl.jaas.config"));
  }

  private static Properties adminProperties(CallvecConfig config) {
    Set<String> known = org.apache.kafka.clients.admin.AdminClientConfig.configNames();
    Properties p = new Properties();
    config.asMap().forEach((k, v) -> {
      if (known.contains(k)) {
        p.setProperty(k, v);
      }
    });
    return p;
  }

  @Test
  void everyReferencedSecretConfigMapAndVolumeExists() throws Exception {
    for (Map.Entry<String, JsonNode> e : manifests().entrySet()) {
      JsonNode podSpec = e.getValue().path("spec").path("template").path("spec");
      if (podSpec.isMissingNode()) {
        continue;
      }
      Set<String> volumes = new TreeSet<>(podSpec.path("volumes").findValuesAsText("name"));
      e.getValue().path("spec").path("volumeClaimTemplates").forEach(t -> volumes.add(t.path("metadata").path("name").asText()));
      for (JsonNode v : podSpec.path("volumes")) {
        if (v.has("configMap")) {
          get("ConfigMap/" + v.path("configMap").path("name").asText());
        }
        if (v.has("secret")) {
          get("Secret/" + v.path("secret").path("secretName").asText());
        }
      }
      for (JsonNode c : podSpec.path("containers")) {
        for (JsonNode m : c.path("volumeMounts")) {
          assertTrue(volumes.contains(m.path("name").asText()), e.getKey() + ": mount " + m.path("name").asText() + " has no volume");
        }
        environment(c, "x"); // resolves every secretKeyRef and $(VAR)
      }
    }
  }

  @Test
  void prometheusRuleHoldsExactlyTheAlertRules() throws Exception {
    JsonNode rule = get("PrometheusRule/callvec");
    JsonNode alerts = RepoFiles.yaml("ops/monitoring/callvec-alerts.yaml");
    assertEquals(alerts.path("groups"), rule.path("spec").path("groups"),
        "ops/k8s/prometheusrule.yaml differs from ops/monitoring/callvec-alerts.yaml: copy the groups again");
  }

  @Test
  void readmeDocumentsEveryAlert() throws Exception {
    String readme = RepoFiles.text("ops/README.md");
    Set<String> anchors = readme.lines().filter(l -> l.startsWith("#"))
        .map(l -> l.replaceFirst("^#+\\s*", "").strip().toLowerCase().replaceAll("[^a-z0-9 -]", "").replace(' ', '-'))
        .collect(Collectors.toSet());
    for (JsonNode group : RepoFiles.yaml("ops/monitoring/callvec-alerts.yaml").path("groups")) {
      for (JsonNode r : group.path("rules")) {
        String runbook = r.path("annotations").path("runbook").asText();
        assertTrue(runbook.startsWith("ops/README.md#"), r.path("alert").asText() + ": runbook " + runbook);
        String anchor = runbook.substring("ops/README.md#".length());
        assertTrue(anchors.contains(anchor), r.path("alert").asText() + ": ops/README.md has no heading for #" + anchor);
      }
    }
  }

  @Test
  void scaledObjectCommentWarnsAboutPartitions() throws Exception {
    assertTrue(RepoFiles.text("ops/k8s/keda.yaml").contains("maxReplicaCount MUST stay <= the input topic's partitions"));
  }
}
