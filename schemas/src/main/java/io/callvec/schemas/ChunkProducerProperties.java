package io.callvec.schemas;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The producer settings of a publisher of {@link AudioChunk} records ({@code callvec replay},
 * {@code callvec ingest}), layered in this order, later wins: callvec's defaults (idempotent,
 * {@code acks=all}, {@code linger.ms=5}, the client id), the caller's own defaults, a properties
 * file (security, compression, ...), then the bootstrap servers given on the command line.
 */
public final class ChunkProducerProperties {
  private ChunkProducerProperties() {}

  /**
   * The layered properties.
   *
   * @param clientId {@code client.id}
   * @param defaults the caller's defaults over callvec's (may be empty)
   * @param file a properties file, or null
   * @param bootstrapServers {@code bootstrap.servers} from the command line, or null
   * @throws IllegalArgumentException naming the file if it cannot be read, or when no bootstrap
   *     servers are given at all
   */
  public static Properties layered(String clientId, Map<String, String> defaults, Path file, String bootstrapServers) {
    Properties p = new Properties();
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    p.putAll(defaults);
    if (file != null) {
      Properties fromFile = new Properties();
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        fromFile.load(r);
      } catch (IOException e) {
        throw new IllegalArgumentException("--producer-config " + file + ": cannot read it: " + e.getMessage(), e);
      }
      fromFile.stringPropertyNames().forEach(k -> p.put(k.trim(), fromFile.getProperty(k).trim()));
    }
    if (bootstrapServers != null) {
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    }
    if (p.getProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "").isBlank()) {
      throw new IllegalArgumentException("give --bootstrap-servers HOST:PORT (or bootstrap.servers in --producer-config)");
    }
    return p;
  }

  /** Whether the properties turn the idempotent producer off (a retried send may then write a chunk twice). */
  public static boolean idempotenceDisabled(Properties p) {
    return "false".equalsIgnoreCase(p.getProperty(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG));
  }
}
