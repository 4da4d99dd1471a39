package io.callvec.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The production artefact carries no Kafka broker: {@code cli/target/lib/} (what the container image
 * copies, and what callvec.jar's manifest names) holds no broker jar, and {@code callvec run} started
 * from callvec.jar alone loads no broker class while it starts the application. Runs after the
 * {@code cli} module is packaged (the reactor builds it before it-tests).
 */
class ProductionClasspathTest {
  /** Jars of the broker and of what only the broker needs. */
  private static final List<String> BROKER_JARS = List.of("callvec-broker-", "kafka_2.13-", "kafka-server-", "kafka-raft-",
      "kafka-metadata-", "kafka-storage-", "kafka-group-coordinator-", "kafka-transaction-coordinator-",
      "kafka-share-coordinator-", "kafka-coordinator-common-", "scala-library-", "log4j-api-");
  /** Packages of broker classes. */
  private static final List<String> BROKER_PACKAGES = List.of("io.callvec.broker.", "kafka.server.", "kafka.log.", "kafka.raft.",
      "org.apache.kafka.raft.", "org.apache.kafka.metadata.", "org.apache.kafka.storage.", "scala.");

  static Path cliTarget() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("cli"))) {
      p = p.getParent();
    }
    assertTrue(p != null, "no cli/ module above " + Path.of("").toAbsolutePath());
    return p.resolve("cli/target");
  }

  @Test
  void libHoldsTheApplicationAndNoBroker() throws IOException {
    Path lib = cliTarget().resolve("lib");
    assertTrue(Files.isDirectory(lib), lib + " is missing: package the cli module first (mvn -pl cli -am package)");
    List<String> jars;
    try (Stream<Path> s = Files.list(lib)) {
      jars = s.map(p -> p.getFileName().toString()).sorted().toList();
    }
    for (String want : List.of("callvec-topology-", "callvec-audio-", "callvec-model-", "callvec-schemas-", "kafka-streams-", "kafka-clients-")) {
      assertTrue(jars.stream().anyMatch(j -> j.startsWith(want)), "lib/ lacks " + want + "*: " + jars);
    }
    List<String> broker = jars.stream().filter(j -> BROKER_JARS.stream().anyMatch(j::startsWith)).toList();
    assertEquals(List.of(), broker, "broker jars in the production lib/");
  }

  @Test
  void runFromTheJarLoadsNoBrokerClass() throws Exception {
    Path jar = cliTarget().resolve("callvec.jar");
    assertTrue(Files.isRegularFile(jar), jar + " is missing");
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    Path state = Files.createTempDirectory("callvec-prodcp-");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-verbose:class", "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.callvec.schemas", "-jar", jar.toString(), "run",
        "--set", "bootstrap.servers=127.0.0.1:" + closedPort, "--set", "state.dir=" + state,
        "--set", "callvec.http.port=0", "--set", "callvec.startup.check.timeout.ms=500"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("CALLVEC_") || k.equals("JAVA_TOOL_OPTIONS"));
    Process p = pb.start();
    List<String> loadedBroker = new ArrayList<>();
    boolean appLoaded = false; // positive control: the class-load lines are read at all
    boolean started = false;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while (System.nanoTime() < deadline && (line = r.readLine()) != null) {
        if (line.startsWith("[") && line.contains("[class,load]")) {
          String cls = line.substring(line.indexOf("[class,load]") + "[class,load]".length()).trim().split(" ")[0];
          if (BROKER_PACKAGES.stream().anyMatch(cls::startsWith)) {
            loadedBroker.add(cls);
          }
          appLoaded |= cls.equals("io.callvec.app.CallvecApp");
        } else if (line.contains("Kafka Streams: CREATED -> REBALANCING")) {
          started = true;
          break;
        }
      }
    } finally {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    assertTrue(started, "callvec run did not start Kafka Streams within 90 s");
    assertTrue(appLoaded, "no class-load line for io.callvec.app.CallvecApp: -verbose:class output not understood");
    assertEquals(List.of(), loadedBroker, "broker classes loaded by callvec run");
  }
}
