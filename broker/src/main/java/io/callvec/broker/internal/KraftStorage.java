package io.callvec.broker.internal;

import io.callvec.broker.LocalKafkaException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;
import kafka.tools.StorageTool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Formatting and inspecting KRaft log directories; deleting data folders. */
public final class KraftStorage {

  private static final Logger LOG = LoggerFactory.getLogger(KraftStorage.class);

  private KraftStorage() {}

  /**
   * Formats the log directories named in {@code serverProperties} for cluster {@code clusterId},
   * like {@code kafka-storage.sh format -t <id> -c <file>}.
   *
   * @throws LocalKafkaException if the storage tool reports a failure
   */
  public static void format(Path serverProperties, String clusterId) {
    format(serverProperties, clusterId, java.util.List.of());
  }

  /**
   * As {@link #format(Path, String)}, with extra arguments for the storage tool, e.g. {@code
   * --add-scram SCRAM-SHA-512=[name=alice,password=...]} (SCRAM credentials in the bootstrap metadata).
   * This class does not log the arguments (they may hold passwords); the tool itself may echo a malformed one in its error.
   */
  public static void format(Path serverProperties, String clusterId, java.util.List<String> extraArgs) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int rc;
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("format", "-t", clusterId, "-c", serverProperties.toString()));
    args.addAll(extraArgs);
    try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
      rc = StorageTool.execute(args.toArray(String[]::new), out);
    } catch (RuntimeException e) {
      throw new LocalKafkaException(
          "formatting KRaft storage for " + serverProperties + " failed: " + e.getMessage()
              + "; tool output: " + buf.toString(StandardCharsets.UTF_8).trim(), e);
    }
    String output = buf.toString(StandardCharsets.UTF_8).trim();
    if (rc != 0) {
      throw new LocalKafkaException(
          "formatting KRaft storage for " + serverProperties + " returned " + rc + ", expected 0; tool output: " + output);
    }
    LOG.debug("formatted {}: {}", serverProperties, output);
  }

  /** The {@code cluster.id} of a formatted log directory, or empty if it is not formatted. */
  public static Optional<String> clusterIdOf(Path logDir) {
    Path meta = logDir.resolve("meta.properties");
    if (!Files.isRegularFile(meta)) {
      return Optional.empty();
    }
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(meta)) {
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + meta, e);
    }
    return Optional.ofNullable(p.getProperty("cluster.id"));
  }

  /** Deletes {@code dir} and everything under it; returns false (and logs) if something remained. */
  public static boolean deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return true;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      return true;
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("could not delete {} completely: {}", dir, e.getMessage());
      return false;
    }
  }
}
