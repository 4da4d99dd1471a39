package io.callvec.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.app.CallvecConfig;
import io.callvec.app.HttpEndpoint;
import io.callvec.app.Settings;
import io.callvec.model.ExecutionProvider;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Document;

/**
 * The container build files ({@code ops/container/}) agree with the build and the app. No Docker
 * engine runs here, so the images themselves are not built: this checks what can be checked without
 * one — every COPY source exists (or is what {@code mvn package} produces, by the pom), the
 * .dockerignore lets each through, the entry point runs the jar the pom builds with the main class
 * that exists, the user is not root, the environment parses as callvec configuration, the state
 * folder is a volume — and runs the two helper scripts for real (the health probe against the app's
 * {@link HttpEndpoint}).
 */
class ContainerFilesTest {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ContainerFilesTest.class);


  static final List<String> DOCKERFILES = List.of("ops/container/Dockerfile", "ops/container/Dockerfile.cuda");

  /** What cli/pom.xml says about the runnable jar. */
  record JarLayout(String jarPath, String libDir, String mainClass, String classpathPrefix) {}

  static JarLayout jarLayout() throws Exception {
    Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(RepoFiles.path("cli/pom.xml").toFile());
    var xp = XPathFactory.newInstance().newXPath();
    String finalName = (String) xp.evaluate("/*[local-name()='project']/*[local-name()='build']/*[local-name()='finalName']", pom, XPathConstants.STRING);
    String mainClass = (String) xp.evaluate("//*[local-name()='manifest']/*[local-name()='mainClass']", pom, XPathConstants.STRING);
    String prefix = (String) xp.evaluate("//*[local-name()='manifest']/*[local-name()='classpathPrefix']", pom, XPathConstants.STRING);
    String libOut = (String) xp.evaluate("//*[local-name()='execution'][*[local-name()='goals']/*[local-name()='goal']='copy-dependencies']"
        + "/*[local-name()='configuration']/*[local-name()='outputDirectory']", pom, XPathConstants.STRING);
    assertFalse(finalName.isBlank(), "cli/pom.xml has no build/finalName");
    assertTrue(libOut.startsWith("${project.build.directory}/"), "copy-dependencies output: " + libOut);
    return new JarLayout("cli/target/" + finalName.trim() + ".jar",
        "cli/target/" + libOut.trim().substring("${project.build.directory}/".length()), mainClass.trim(), prefix.trim());
  }

  static Dockerfile dockerfile(String path) throws IOException {
    return Dockerfile.parse(RepoFiles.text(path));
  }

  /** Paths the .dockerignore lets into the context ('**' then '!path' lines). */
  static List<String> contextWhitelist(String dockerfile) throws IOException {
    List<String> lines = RepoFiles.text(dockerfile + ".dockerignore").lines().map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    assertEquals("**", lines.get(0), dockerfile + ".dockerignore must start by excluding everything");
    List<String> allowed = new ArrayList<>();
    for (String l : lines.subList(1, lines.size())) {
      assertTrue(l.startsWith("!"), "after '**' only exceptions are expected: " + l);
      allowed.add(l.substring(1).replaceAll("/+$", ""));
    }
    return allowed;
  }

  @ParameterizedTest
  @ValueSource(strings = {"ops/container/Dockerfile", "ops/container/Dockerfile.cuda"})
  void everyCopySourceExistsOrIsWhatMavenPackageBuilds(String path) throws Exception {
    Dockerfile d = dockerfile(path);
    JarLayout layout = jarLayout();
    List<String> whitelist = contextWhitelist(path);
    List<Dockerfile.Copy> copies = d.copies();
    assertTrue(copies.size() >= 4, path + ": expected the jar, lib/, scripts and models COPYs, found " + copies);
    boolean jar = false;
    boolean lib = false;
    for (Dockerfile.Copy c : copies) {
      if (c.from() != null) {
        continue; // from another stage or image
      }
      for (String src : c.sources()) {
        String s = src.replaceAll("/+$", "");
        if (s.equals(layout.jarPath())) {
          jar = true;
          assertEquals("/app/callvec.jar", c.destination());
        } else if (s.equals(layout.libDir())) {
          lib = true;
          assertEquals("/app/" + layout.classpathPrefix(), c.destination(), "lib/ must sit where the manifest's class path prefix points");
        } else {
          assertTrue(Files.exists(RepoFiles.root().resolve(s)), path + ": COPY source " + s + " does not exist");
        }
        assertTrue(whitelist.stream().anyMatch(w -> s.equals(w) || s.startsWith(w + "/")),
            path + ": COPY source " + s + " is excluded by " + path + ".dockerignore (allowed: " + whitelist + ")");
      }
    }
    assertTrue(jar, path + " does not copy " + layout.jarPath());
    assertTrue(lib, path + " does not copy " + layout.libDir());
  }

  @ParameterizedTest
  @ValueSource(strings = {"ops/container/Dockerfile", "ops/container/Dockerfile.cuda"})
  void entryPointRunsTheJarWithContainerJvmFlags(String path) throws Exception {
    Dockerfile d = dockerfile(path);
    JarLayout layout = jarLayout();
    List<String> entry = Dockerfile.execForm(d.one("ENTRYPOINT").args());
    assertEquals("java", entry.get(0));
    int jarIdx = entry.indexOf("-jar");
    assertTrue(jarIdx > 0, "no -jar in " + entry);
    assertEquals("/app/callvec.jar", entry.get(jarIdx + 1));
    assertTrue(entry.stream().anyMatch(a -> a.matches("-XX:MaxRAMPercentage=\\d+(\\.\\d+)?")), "no -XX:MaxRAMPercentage in " + entry);
    int heapPercent = Integer.parseInt(entry.stream().filter(a -> a.startsWith("-XX:MaxRAMPercentage=")).findFirst().orElseThrow().split("=")[1].split("\\.")[0]);
    assertTrue(heapPercent <= 60, "leave room for ONNX Runtime and RocksDB native memory: heap " + heapPercent + "%");
    assertTrue(entry.contains("-XX:+ExitOnOutOfMemoryError"), "no -XX:+ExitOnOutOfMemoryError in " + entry);
    // The main class the manifest names exists.
    assertEquals("io.callvec.cli.CallvecCli", layout.mainClass());
    Class.forName(layout.mainClass());
    assertEquals(List.of("run"), Dockerfile.execForm(d.one("CMD").args()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"ops/container/Dockerfile", "ops/container/Dockerfile.cuda"})
  void runsAsANonRootUserWithStateOnAVolume(String path) throws Exception {
    Dockerfile d = dockerfile(path);
    String user = d.one("USER").args();
    String uid = user.split(":")[0];
    assertTrue(uid.matches("\\d+"), "USER should be numeric (Kubernetes runAsNonRoot can only verify numbers): " + user);
    assertNotEquals("0", uid, "USER must not be root");
    assertTrue(d.finalStage("RUN").stream().anyMatch(r -> r.args().contains("useradd") && r.args().contains("--uid")), "no user created");

    String stateDir = d.env.get("CALLVEC_STATE_DIR");
    assertEquals("/var/lib/callvec/state", stateDir);
    assertTrue(Dockerfile.execForm(d.one("VOLUME").args()).contains(stateDir), "state.dir must be a volume");
    assertTrue(d.finalStage("RUN").stream().anyMatch(r -> r.args().contains("chown") && r.args().contains(stateDir)),
        "the state folder must be writable by the app user");
  }

  @ParameterizedTest
  @ValueSource(strings = {"ops/container/Dockerfile", "ops/container/Dockerfile.cuda"})
  void environmentIsValidCallvecConfiguration(String path) throws Exception {
    Dockerfile d = dockerfile(path);
    Map<String, String> env = d.env;
    CallvecConfig config = CallvecConfig.builder().environment(env).build(); // rejects unknown callvec.* keys
    assertEquals("/models/model.onnx", config.get(Settings.MODEL_PATH));
    assertEquals("/var/lib/callvec/state", config.raw("state.dir"), "CALLVEC_STATE_DIR must reach Kafka Streams' state.dir");
    int port = config.getInt(Settings.HTTP_PORT);
    assertEquals(List.of(String.valueOf(port)), List.of(d.one("EXPOSE").args().split("\\s+")), "EXPOSE must be the HTTP port");
    ExecutionProvider provider = ExecutionProvider.parse(config.get(Settings.MODEL_PROVIDER));
    assertEquals(path.endsWith(".cuda") ? ExecutionProvider.cuda(0).toString() : ExecutionProvider.cpu().toString(), provider.toString());

    String health = d.one("HEALTHCHECK").args();
    assertTrue(health.contains("CMD [\"/app/healthcheck.sh\", \"/health/live\"]"), health);
    assertTrue(d.copies().stream().anyMatch(c -> c.sources().contains("ops/container/healthcheck.sh") && c.destination().startsWith("/app")));
    String checkLibs = d.finalStage("RUN").stream().filter(r -> r.args().contains("check-libs.sh")).findFirst().orElseThrow().args();
    assertTrue(checkLibs.endsWith(path.endsWith(".cuda") ? "check-libs.sh cuda /app/lib" : "check-libs.sh cpu /app/lib"), checkLibs);
  }

  @Test
  void cudaImageMatchesWhatOnnxRuntimeGpuNeeds() throws Exception {
    Dockerfile d = dockerfile("ops/container/Dockerfile.cuda");
    List<String> froms = d.instructions.stream().filter(i -> i.keyword().equals("FROM")).map(Dockerfile.Instruction::args).toList();
    String base = froms.get(froms.size() - 1);
    assertTrue(Pattern.matches("nvidia/cuda:12\\.\\d+(\\.\\d+)?-cudnn-runtime-ubuntu\\d\\d\\.04", base),
        "ONNX Runtime GPU 1.23 needs CUDA 12 + cuDNN 9 runtime libraries: " + base);
    assertTrue(d.copies().stream().anyMatch(c -> "jre".equals(c.from()) && c.sources().equals(List.of("/opt/java/openjdk"))), "a JRE is copied in");
    // The gpu profile of the root pom is the ONNX Runtime this base was chosen for.
    String rootPom = RepoFiles.text("pom.xml");
    assertTrue(rootPom.contains("<onnxruntime.gpu.version>1.23.2</onnxruntime.gpu.version>"), "onnxruntime_gpu version changed: re-check the CUDA base image");
  }

  // --- the scripts, run for real ---------------------------------------------------------------

  private static int run(Map<String, String> env, String... cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(20, TimeUnit.SECONDS), "timed out: " + String.join(" ", cmd));
    log.info("{} -> {}: {}", String.join(" ", cmd), p.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
    return p.exitValue();
  }

  @Test
  void healthcheckScriptFollowsTheAppsHealthEndpoints() throws Exception {
    Path script = RepoFiles.path("ops/container/healthcheck.sh");
    assertTrue(Files.isExecutable(script), "healthcheck.sh must be executable (COPY keeps the mode)");
    AtomicBoolean live = new AtomicBoolean(true);
    AtomicBoolean ready = new AtomicBoolean(false);
    try (HttpEndpoint http = HttpEndpoint.start(0, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), live::get, ready::get)) {
      Map<String, String> env = Map.of("CALLVEC_HTTP_PORT", String.valueOf(http.port()));
      assertEquals(0, run(env, script.toString()), "live app, default path /health/live");
      assertEquals(0, run(env, script.toString(), "/health/live"));
      assertEquals(1, run(env, script.toString(), "/health/ready"), "not ready yet: 503");
      ready.set(true);
      assertEquals(0, run(env, script.toString(), "/health/ready"));
      live.set(false);
      assertEquals(1, run(env, script.toString(), "/health/live"), "Kafka Streams in ERROR: 503");
      assertEquals(1, run(env, script.toString(), "/nothing-here"), "404");
    }
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    assertEquals(1, run(Map.of("CALLVEC_HTTP_PORT", String.valueOf(closed)), script.toString()), "nothing listening");
    assertEquals(1, run(Map.of("CALLVEC_HTTP_PORT", "eighty"), script.toString()), "bad port");
  }

  @Test
  void checkLibsScriptAcceptsOnlyTheRightOnnxRuntimeFlavour(@TempDir Path dir) throws Exception {
    Path script = RepoFiles.path("ops/container/check-libs.sh");
    assertTrue(Files.isExecutable(script));
    Path cpu = Files.createDirectories(dir.resolve("cpu"));
    Files.createFile(cpu.resolve("onnxruntime-1.24.2.jar"));
    Files.createFile(cpu.resolve("kafka-streams-4.4.0.jar"));
    Path gpu = Files.createDirectories(dir.resolve("gpu"));
    Files.createFile(gpu.resolve("onnxruntime_gpu-1.23.2.jar"));
    Path both = Files.createDirectories(dir.resolve("both"));
    Files.createFile(both.resolve("onnxruntime-1.24.2.jar"));
    Files.createFile(both.resolve("onnxruntime_gpu-1.23.2.jar"));
    Path none = Files.createDirectories(dir.resolve("none"));

    assertEquals(0, run(Map.of(), script.toString(), "cpu", cpu.toString()));
    assertEquals(1, run(Map.of(), script.toString(), "cuda", cpu.toString()));
    assertEquals(0, run(Map.of(), script.toString(), "cuda", gpu.toString()));
    assertEquals(1, run(Map.of(), script.toString(), "cpu", gpu.toString()));
    assertEquals(1, run(Map.of(), script.toString(), "cpu", both.toString()));
    assertEquals(1, run(Map.of(), script.toString(), "cuda", both.toString()));
    assertEquals(1, run(Map.of(), script.toString(), "cpu", none.toString()));
    assertEquals(2, run(Map.of(), script.toString(), "rocm", cpu.toString()));
  }

  @Test
  void modelFolderIsInTheContextButModelFilesAreNotCommitted() throws Exception {
    assertTrue(Files.isDirectory(RepoFiles.path("ops/container/models")));
    String ignore = RepoFiles.text("ops/container/models/.gitignore");
    assertEquals(List.of("*", "!.gitignore", "!README.md"), ignore.lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
    for (String f : DOCKERFILES) {
      assertEquals("ops/container/models", dockerfile(f).vars.get("MODEL_DIR"));
    }
  }
}
