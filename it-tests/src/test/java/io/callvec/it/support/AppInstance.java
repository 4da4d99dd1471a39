package io.callvec.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One callvec instance as a separate JVM, exactly as deployed: {@code java -cp <this JVM's class
 * path> io.callvec.cli.CallvecCli run --set key=value ...}, stdout and stderr appended to a log
 * file. {@link #kill()} is {@code kill -9} (no shutdown hook runs); {@link #stop} is {@code SIGTERM}
 * (callvec's graceful shutdown). The HTTP endpoint runs on a free port chosen here, so that {@link
 * #awaitReady} and {@link #metric} can ask the instance how it is doing.
 */
public final class AppInstance implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AppInstance.class);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final String name;
  private final Path logFile;
  private final int httpPort;
  private final Process process;

  private AppInstance(String name, Path logFile, int httpPort, Process process) {
    this.name = name;
    this.logFile = logFile;
    this.httpPort = httpPort;
    this.process = process;
  }

  /**
   * Starts an instance.
   *
   * @param name for logs and the log file name
   * @param logFile where the child's stdout and stderr are appended
   * @param heapMb the child's maximum heap, MiB
   * @param settings {@code --set} values ({@code callvec.http.port} is chosen here)
   */
  public static AppInstance start(String name, Path logFile, int heapMb, Map<String, String> settings) {
    return start(name, logFile, heapMb, settings, List.of("io.callvec.cli.CallvecCli", "run"));
  }

  /**
   * Starts an instance with another main class (e.g. {@link SlowModelMain}) that takes the same
   * {@code --set key=value} arguments after {@code mainAndArgs}.
   */
  public static AppInstance start(String name, Path logFile, int heapMb, Map<String, String> settings, List<String> mainAndArgs) {
    int port = freePort();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + heapMb + "m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.addAll(mainAndArgs);
    Map<String, String> all = new LinkedHashMap<>(settings);
    all.put("callvec.http.port", Integer.toString(port));
    all.forEach((k, v) -> {
      cmd.add("--set");
      cmd.add(k + "=" + v);
    });
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    pb.environment().keySet().removeIf(k -> k.startsWith("CALLVEC_"));
    try {
      Files.createDirectories(logFile.getParent());
      Process p = pb.start();
      log.info("app instance {} started as pid {}, http port {}, log {}", name, p.pid(), port, logFile);
      return new AppInstance(name, logFile, port, p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start app instance " + name + ": " + e.getMessage(), e);
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Waits until {@code /health/ready} answers 200 (Kafka Streams RUNNING).
   *
   * @throws AssertionError if the process exits or is not ready within {@code timeout}
   */
  public void awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      assertAlive();
      if (get("/health/ready").map(r -> r.statusCode() == 200).orElse(false)) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("app instance " + name + " not ready within " + timeout + "\n" + logTail(40));
      }
      Thread.sleep(100);
    }
  }

  /** Throws an {@link AssertionError} with the log's tail if the process has exited. */
  public void assertAlive() {
    if (!process.isAlive()) {
      throw new AssertionError("app instance " + name + " exited with code " + process.exitValue() + "\n" + logTail(60));
    }
  }

  /** One sample of a metric: its label set as written ({@code {a="b",...}}, or empty) and its value. */
  private record MetricSample(String labels, double value) {}

  /** The samples of a Prometheus metric, or an empty list if the instance does not answer or has no such metric. */
  private List<MetricSample> samples(String name) {
    return get("/metrics").map(r -> {
      Pattern p = Pattern.compile("^" + Pattern.quote(name) + "(\\{[^}]*})? ([-+0-9.eE]+|NaN)$", Pattern.MULTILINE);
      Matcher m = p.matcher(r.body());
      List<MetricSample> out = new ArrayList<>();
      while (m.find()) {
        out.add(new MetricSample(m.group(1) == null ? "" : m.group(1), Double.parseDouble(m.group(2))));
      }
      return out;
    }).orElse(List.of());
  }

  /**
   * The sum of a Prometheus metric's samples over all label sets (e.g. {@code callvec_segments_total}),
   * or empty if the instance does not answer or has no such metric.
   */
  public OptionalDouble metric(String name) {
    return metric(name, "");
  }

  /**
   * The sum of a Prometheus metric's samples whose label set contains {@code labelText} (e.g.
   * {@code area="heap"}), or empty.
   */
  public OptionalDouble metric(String name, String labelText) {
    List<MetricSample> matching = samples(name).stream().filter(s -> s.labels().contains(labelText)).toList();
    return matching.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(matching.stream().mapToDouble(MetricSample::value).sum());
  }

  /** The largest sample of a Prometheus metric over its label sets (for shared gauges reported per store), or empty. */
  public OptionalDouble metricMax(String name) {
    return samples(name).stream().mapToDouble(MetricSample::value).max();
  }

  /** The whole {@code /metrics} text, or an empty string if the instance does not answer. */
  public String metricsText() {
    return get("/metrics").map(HttpResponse::body).orElse("");
  }

  /** Resident set size of the process, bytes ({@code VmRSS} of {@code /proc/<pid>/status}; Linux only). */
  public long rssBytes() {
    return procStatus("VmRSS") * 1024L;
  }

  /** Threads of the process ({@code Threads} of {@code /proc/<pid>/status}; Linux only). */
  public int threads() {
    return (int) procStatus("Threads");
  }

  /** Open file descriptors of the process (entries of {@code /proc/<pid>/fd}; Linux only). */
  public int openFileDescriptors() {
    try (var fds = Files.list(Path.of("/proc", Long.toString(process.pid()), "fd"))) {
      return (int) fds.count();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the file descriptors of pid " + process.pid() + " (Linux /proc needed)", e);
    }
  }

  /** The number in a {@code /proc/<pid>/status} line (kB for sizes). */
  private long procStatus(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"), StandardCharsets.US_ASCII)) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
      throw new AssertionError("no " + field + " line for pid " + process.pid());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read /proc status of pid " + process.pid() + " (Linux /proc needed)", e);
    }
  }

  /**
   * Heap in use right after a full GC, bytes: runs {@code jcmd <pid> GC.run}, then reads {@code
   * jvm_memory_used_bytes{area="heap"}}.
   */
  public long heapAfterGcBytes() throws InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    try {
      Process p = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.run").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new AssertionError("jcmd " + process.pid() + " GC.run failed or timed out");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + jcmd, e);
    }
    return (long) metric("jvm_memory_used_bytes", "area=\"heap\"").orElseThrow(() -> new AssertionError("no heap metric from " + name));
  }

  private java.util.Optional<HttpResponse<String>> get(String path) {
    try {
      HttpRequest req = HttpRequest.newBuilder(URI.create("http://localhost:" + httpPort + path)).timeout(Duration.ofSeconds(5)).build();
      return java.util.Optional.of(HTTP.send(req, HttpResponse.BodyHandlers.ofString()));
    } catch (IOException e) {
      return java.util.Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return java.util.Optional.empty();
    }
  }

  /** {@code kill -9}: the JVM dies at once, no shutdown hook, no commit, no transaction abort. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      throw new AssertionError("app instance " + name + " (pid " + process.pid() + ") survived kill -9 for 10 s");
    }
    log.info("app instance {} killed (kill -9)", name);
  }

  /**
   * {@code SIGTERM}: callvec closes Kafka Streams (committing what is done), drains the batcher and
   * exits.
   *
   * @return the exit code (143 = 128 + SIGTERM, the JVM's code after running its shutdown hooks)
   * @throws AssertionError if it has not exited within {@code timeout}
   */
  public int stop(Duration timeout) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("app instance " + name + " did not stop within " + timeout + " of SIGTERM\n" + logTail(40));
    }
    log.info("app instance {} stopped (SIGTERM), exit code {}", name, process.exitValue());
    return process.exitValue();
  }

  /** The last {@code lines} lines of the instance's log. */
  public String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
      return "--- last lines of " + logFile + " ---\n" + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + logFile + ": " + e.getMessage() + ")";
    }
  }

  /** The instance's whole log. */
  public String log() {
    try {
      return Files.readString(logFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** Kills the process if it still runs. */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
