package io.callvec.broker;

import io.callvec.broker.internal.Pause;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Schema Registry on this machine: Apicurio Registry 2.6 (H2 storage in a data folder, Confluent API
 * under {@value #CCOMPAT_PATH}) as a child JVM on a free loopback port, for {@code demo --serde
 * confluent}, the integration tests and {@code ops/registry/start-local.sh}.
 *
 * <pre>{@code
 * try (LocalSchemaRegistry registry = LocalSchemaRegistry.start()) {
 *   config.put("schema.registry.url", registry.url());      // http://127.0.0.1:P/apis/ccompat/v7
 * }
 * }</pre>
 *
 * <p>The registry comes from Maven Central ({@code io.apicurio:apicurio-registry-app:2.6.13.Final},
 * classifier {@code all}, type {@code tar.gz}), unpacked by the broker module's build (maven-dependency-plugin) to
 * {@code broker/target/apicurio/}; nothing is downloaded at run time. {@link
 * #locateHome()} says where it is looked for.
 *
 * <p>Storage: Apicurio's H2 database in a file under a data folder (a temporary one, deleted by
 * {@link #close()}, unless {@link #start(Path, int, Path)} names one), so that {@link #stop()} +
 * {@link #restart()} keeps every schema and id, as a production registry does; the port stays.
 * Start-up takes about 6 s on a quiet machine, up to {@link
 * #READY_TIMEOUT} on a loaded one. {@link #close()} kills the child (and a JVM shutdown hook kills
 * it if the JVM exits first).
 */
public final class LocalSchemaRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalSchemaRegistry.class);

  /** The Apicurio version the build unpacks. */
  public static final String VERSION = "2.6.13.Final";
  /** The runner jar inside the unpacked folder. */
  public static final String RUNNER_JAR = "apicurio-registry-app-" + VERSION + "-runner.jar";
  /** Where the Confluent-compatible API lives. */
  public static final String CCOMPAT_PATH = "/apis/ccompat/v7";
  /** System property naming the unpacked folder (holds {@value #RUNNER_JAR} and lib/). */
  public static final String HOME_PROPERTY = "callvec.apicurio.home";
  /** Environment variable naming the unpacked folder, when the property is not set. */
  public static final String HOME_ENV = "CALLVEC_APICURIO_HOME";
  /** Longest wait for the registry to answer after the child starts. */
  public static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
  /** Heap of the child JVM, MiB. */
  public static final int HEAP_MIB = 320;

  private final Path home;
  private final int port;
  private final Path logFile;
  private final Path dataDir;
  private final boolean ownsDataDir;
  private final Optional<SelfSignedTls.Material> tls;
  private final HttpClient http;
  private final Thread shutdownHook;
  private Process process;

  private LocalSchemaRegistry(Path home, int port, Path dataDir, Optional<SelfSignedTls.Material> tls) throws IOException {
    this.home = home;
    this.port = port;
    this.tls = tls;
    HttpClient.Builder hb = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
    if (tls.isPresent()) {
      hb.sslContext(trusting(tls.get()));
    }
    this.http = hb.build();
    this.ownsDataDir = dataDir == null;
    this.dataDir = dataDir == null ? Files.createTempDirectory("callvec-apicurio-data-") : Files.createDirectories(dataDir);
    this.logFile = Files.createTempFile("callvec-apicurio-", ".log");
    this.shutdownHook = new Thread(this::kill, "callvec-apicurio-kill");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** Starts a registry from {@link #locateHome()} on a free port and waits until it answers. */
  public static LocalSchemaRegistry start() {
    return start(locateHome(), 0, null);
  }

  /**
   * Starts a registry from {@code home} on {@code port} (0: a free port) and waits until it answers.
   *
   * @param dataDir where the registry's database lives (kept on close), or null for a temporary
   *     folder deleted on close
   * @throws LocalKafkaException if it does not start or answer within {@link #READY_TIMEOUT}
   */
  public static LocalSchemaRegistry start(Path home, int port, Path dataDir) {
    return start(home, port, dataDir, Optional.empty());
  }

  /**
   * As {@link #start(Path, int, Path)}, serving https only when {@code tls} is given: the keystore of
   * {@link SelfSignedTls} (certificate for {@code localhost}); clients need its truststore ({@code
   * schema.registry.ssl.truststore.location}, type PKCS12). The keystore password reaches the child
   * through its environment, not its command line.
   */
  public static LocalSchemaRegistry start(Path home, int port, Path dataDir, Optional<SelfSignedTls.Material> tls) {
    Path jar = home.resolve(RUNNER_JAR);
    if (!Files.isRegularFile(jar)) {
      throw new LocalKafkaException("Apicurio Registry not found: " + jar + " does not exist. It is unpacked by the build "
          + "(mvn -pl it-tests -am test-compile, or package for topology); or set -D" + HOME_PROPERTY + " / " + HOME_ENV);
    }
    LocalSchemaRegistry r;
    try {
      r = new LocalSchemaRegistry(home, port == 0 ? freePort() : port, dataDir, tls);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the registry's log file", e);
    }
    boolean ok = false;
    try {
      r.launch();
      ok = true;
      return r;
    } finally {
      if (!ok) {
        r.close();
      }
    }
  }

  /**
   * Where the unpacked Apicurio folder is: {@code -D}{@value #HOME_PROPERTY}, else {@code
   * $}{@value #HOME_ENV}, else the first of {@code target/apicurio}, {@code broker/target/apicurio},
   * {@code ../broker/target/apicurio} (from the working
   * directory) and {@code apicurio/} beside the jar this class is in, that holds the runner jar.
   */
  public static Path locateHome() {
    String prop = System.getProperty(HOME_PROPERTY);
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop);
    }
    String env = System.getenv(HOME_ENV);
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    List<Path> candidates = new ArrayList<>(List.of(
        Path.of("target/apicurio"), Path.of("broker/target/apicurio"), Path.of("../broker/target/apicurio")));
    codeLocation().ifPresent(p -> candidates.add(p.resolveSibling("apicurio")));
    for (Path c : candidates) {
      if (Files.isRegularFile(c.resolve(RUNNER_JAR))) {
        return c.toAbsolutePath().normalize();
      }
    }
    return candidates.get(0).toAbsolutePath();
  }

  private static Optional<Path> codeLocation() {
    try {
      var src = LocalSchemaRegistry.class.getProtectionDomain().getCodeSource();
      return src == null ? Optional.empty() : Optional.of(Path.of(src.getLocation().toURI()));
    } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private void launch() {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Xmx" + HEAP_MIB + "m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dquarkus.http.host=127.0.0.1"));
    if (tls.isPresent()) {
      cmd.addAll(List.of("-Dquarkus.http.ssl-port=" + port, "-Dquarkus.http.port=" + (port == 65535 ? port - 1 : port + 1),
          "-Dquarkus.http.insecure-requests=disabled",
          "-Dquarkus.http.ssl.certificate.key-store-file=" + tls.get().keystore().toAbsolutePath(),
          "-Dquarkus.http.ssl.certificate.key-store-file-type=PKCS12"));
    } else {
      cmd.add("-Dquarkus.http.port=" + port);
    }
    cmd.addAll(List.of(
        "-Dquarkus.datasource.jdbc.url=jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("registry"),
        "-Dquarkus.log.level=WARN", "-Dquarkus.banner.enabled=false",
        "-jar", RUNNER_JAR));
    long t0 = System.nanoTime();
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
      tls.ifPresent(t -> pb.environment().put("QUARKUS_HTTP_SSL_CERTIFICATE_KEY_STORE_PASSWORD", t.keystorePassword()));
      process = pb.start();
    } catch (IOException e) {
      throw new LocalKafkaException("cannot start Apicurio Registry (" + String.join(" ", cmd) + "): " + e.getMessage(), e);
    }
    long deadline = t0 + READY_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new LocalKafkaException("Apicurio Registry exited with code " + process.exitValue() + " before answering; log "
            + logFile + ":\n" + logTail());
      }
      if (answers()) {
        log.info("Apicurio Registry {} ready at {} after {} ms (pid {}, log {})", VERSION, url(),
            (System.nanoTime() - t0) / 1_000_000, process.pid(), logFile);
        return;
      }
      Pause.ms(200, "Apicurio Registry");
    }
    throw new LocalKafkaException("Apicurio Registry did not answer on port " + port + " within " + READY_TIMEOUT.toSeconds()
        + " s; log " + logFile + ":\n" + logTail());
  }

  /** Whether {@code GET <url>/subjects} answers 200 now. */
  public boolean answers() {
    try {
      HttpResponse<Void> res = http.send(HttpRequest.newBuilder(URI.create(url() + "/subjects")).timeout(Duration.ofSeconds(2)).GET().build(),
          HttpResponse.BodyHandlers.discarding());
      return res.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LocalKafkaException("interrupted while waiting for Apicurio Registry", e);
    }
  }

  /** The Confluent-compatible base URL, the value for {@code schema.registry.url}. */
  public String url() {
    return (tls.isPresent() ? "https://localhost:" : "http://127.0.0.1:") + port + CCOMPAT_PATH;
  }

  private static javax.net.ssl.SSLContext trusting(SelfSignedTls.Material tls) {
    try (var in = Files.newInputStream(tls.truststore())) {
      java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
      ks.load(in, tls.truststorePassword().toCharArray());
      javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | java.security.GeneralSecurityException e) {
      throw new LocalKafkaException("cannot read the registry's truststore " + tls.truststore() + ": " + e, e);
    }
  }

  /** The TCP port (kept across {@link #stop()} and {@link #restart()}). */
  public int port() {
    return port;
  }

  /** The child's output (stdout and stderr). */
  public Path logFile() {
    return logFile;
  }

  /** Whether the child process runs. */
  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** Kills the registry (for outage tests); {@link #restart()} brings it back on the same port, schemas kept. */
  public synchronized void stop() {
    kill();
    process = null;
  }

  /** Starts the registry again on the same port after {@link #stop()} and waits until it answers. */
  public synchronized void restart() {
    if (isRunning()) {
      throw new IllegalStateException("registry still running on port " + port);
    }
    launch();
  }

  private synchronized void kill() {
    Process p = process;
    if (p == null || !p.isAlive()) {
      return;
    }
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** Kills the child and deletes a temporary data folder; idempotent. The log file is kept for inspection. */
  @Override
  public void close() {
    kill();
    if (ownsDataDir) {
      deleteTree(dataDir);
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook runs anyway
    }
  }

  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(cannot read " + logFile + ": " + e.getMessage() + ")";
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          log.warn("cannot delete {}: {}", p, e.getMessage());
        }
      });
    } catch (IOException e) {
      log.warn("cannot delete {}: {}", dir, e.getMessage());
    }
  }

  /** The folder of the registry's database. */
  public Path dataDir() {
    return dataDir;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Override
  public String toString() {
    return "LocalSchemaRegistry[" + url() + (isRunning() ? ", running" : ", stopped") + "]";
  }
}
