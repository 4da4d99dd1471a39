package io.callvec.broker.internal;

import io.callvec.broker.LocalKafkaException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A KRaft node running as a child JVM: {@code java <options> -cp <classpath> kafka.Kafka
 * server.properties}, its stdout and stderr appended to a log file. {@link #kill()} is {@code kill
 * -9}; {@link #beginStop()} is {@code SIGTERM} (Kafka's controlled shutdown).
 */
public final class ChildProcessNode implements BrokerNode {

  private static final Logger LOG = LoggerFactory.getLogger(ChildProcessNode.class);
  private static final int DIAGNOSTIC_LINES = 40;

  private final int nodeId;
  private final Path serverProperties;
  private final Path logFile;
  private final List<String> jvmOptions;
  private final String classpath;
  private Process process;

  /**
   * @param serverProperties the formatted node's server.properties
   * @param logFile where the child's stdout and stderr are appended
   * @param jvmOptions options before {@code -cp}, e.g. {@code -Xmx512m}
   * @param classpath a class path with kafka_2.13, kafka-server and a logging binding
   */
  public ChildProcessNode(int nodeId, Path serverProperties, Path logFile, List<String> jvmOptions, String classpath) {
    this.nodeId = nodeId;
    this.serverProperties = serverProperties;
    this.logFile = logFile;
    this.jvmOptions = List.copyOf(jvmOptions);
    this.classpath = classpath;
  }

  @Override
  public int nodeId() {
    return nodeId;
  }

  @Override
  public synchronized void start() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("node " + nodeId + " is already running (pid " + process.pid() + ")");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add("kafka.Kafka");
    cmd.add(serverProperties.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new LocalKafkaException("cannot start broker node " + nodeId + " as a child JVM: " + e.getMessage(), e);
    }
    LOG.debug("broker node {} started as pid {}, log {}", nodeId, process.pid(), logFile);
  }

  @Override
  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** The child's process id, or -1 when it never started. */
  public synchronized long pid() {
    return process == null ? -1 : process.pid();
  }

  @Override
  public synchronized void beginStop() {
    if (process != null && process.isAlive()) {
      process.destroy();
    }
  }

  @Override
  public void stop(Duration timeout) {
    Process p;
    synchronized (this) {
      p = process;
    }
    if (p == null) {
      return;
    }
    beginStop();
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn("broker node {} (pid {}) did not stop within {} ms; killing it", nodeId, p.pid(), timeout.toMillis());
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void kill() {
    Process p;
    synchronized (this) {
      p = process;
    }
    if (p == null) {
      return;
    }
    p.destroyForcibly();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        throw new LocalKafkaException("broker node " + nodeId + " (pid " + p.pid() + ") survived kill -9 for 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String diagnostics() {
    StringBuilder sb = new StringBuilder();
    synchronized (this) {
      if (process != null && !process.isAlive()) {
        sb.append("child JVM exited with code ").append(process.exitValue()).append("; ");
      }
    }
    sb.append("last lines of ").append(logFile).append(":\n");
    try {
      List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
      lines.subList(Math.max(0, lines.size() - DIAGNOSTIC_LINES), lines.size()).forEach(l -> sb.append(l).append('\n'));
    } catch (IOException e) {
      sb.append("(cannot read: ").append(e.getMessage()).append(")");
    }
    return sb.toString();
  }
}
