package io.callvec.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Work folders of reliability scenarios under {@code target/reliability/} (state directories and the
 * app instances' logs), kept after the run so that a failure can be read; {@code mvn clean} removes
 * them. Not under the OS temp folder, where Kafka Streams warns that state may be cleared.
 */
public final class WorkDirs {
  private WorkDirs() {}

  /** A new folder {@code target/reliability/<name>-<8 hex>}. */
  public static Path create(String name) {
    try {
      return Files.createDirectories(Path.of("target", "reliability", name + "-" + UUID.randomUUID().toString().substring(0, 8)))
          .toAbsolutePath();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a work folder for " + name, e);
    }
  }

  /** Deletes a folder and everything in it (nothing if it does not exist). */
  public static void deleteTree(Path dir) throws IOException {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
