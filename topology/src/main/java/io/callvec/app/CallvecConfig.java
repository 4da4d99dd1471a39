package io.callvec.app;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * callvec's configuration, layered and then frozen. Later layers win:
 *
 * <ol>
 *   <li>built-in defaults ({@link Settings} and {@link Settings#KAFKA_DEFAULTS});
 *   <li>a properties file ({@code run --config FILE});
 *   <li>environment variables {@code CALLVEC_*}: {@code CALLVEC_WINDOW_MS} sets {@code
 *       callvec.window.ms} (a known callvec key), any other {@code CALLVEC_FOO_BAR} sets the Kafka
 *       key {@code foo.bar} (e.g. {@code CALLVEC_BOOTSTRAP_SERVERS}, {@code
 *       CALLVEC_SASL_JAAS_CONFIG});
 *   <li>command-line overrides ({@code --set key=value}).
 * </ol>
 *
 * <p>Unknown {@code callvec.*} keys and malformed values are rejected when the configuration is
 * built, with a message that names the key. Values are unmodifiable afterwards. {@link #toString()}
 * hides the values of keys that look secret (password, secret, jaas, token, key material).
 */
public final class CallvecConfig {

  private static final String ENV_PREFIX = "CALLVEC_";
  /**
   * Keys whose values are never printed: anything naming a password, passphrase, secret, JAAS
   * config, token, credential, user info or private key, and keys that are or end in {@code key}
   * (e.g. {@code ssl.keystore.key}, the PEM private key).
   */
  private static final Pattern SECRET_KEY = Pattern.compile(
      ".*(password|passphrase|secret|jaas|token|credential|user\\.info|private\\.key|keystore\\.key|(^|\\.)key$).*",
      Pattern.CASE_INSENSITIVE);
  /** What {@link #redacted} prints instead of a secret value. */
  public static final String HIDDEN = "[hidden]";

  private final Map<String, String> values;

  private CallvecConfig(Map<String, String> values) {
    this.values = Collections.unmodifiableMap(new TreeMap<>(values));
    validate();
  }

  /** Defaults only. */
  public static CallvecConfig defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds the layered configuration; see the class comment for the order. */
  public static final class Builder {
    private final Map<String, String> values = new LinkedHashMap<>();

    private Builder() {
      for (Settings s : Settings.values()) {
        values.put(s.key(), s.defaultValue());
      }
      values.putAll(Settings.KAFKA_DEFAULTS);
    }

    /** Layer 2: a properties file. */
    public Builder file(Path file) {
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        p.load(r);
      } catch (IOException e) {
        throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage());
      }
      p.stringPropertyNames().forEach(k -> values.put(k.trim(), p.getProperty(k).trim()));
      return this;
    }

    /** Layer 3: environment variables ({@code System.getenv()} in production). */
    public Builder environment(Map<String, String> env) {
      new TreeMap<>(env).forEach((name, value) -> {
        if (name.startsWith(ENV_PREFIX) && name.length() > ENV_PREFIX.length()) {
          values.put(keyOfEnv(name), value);
        }
      });
      return this;
    }

    /** Layer 4: explicit overrides. */
    public Builder overrides(Map<String, String> overrides) {
      values.putAll(overrides);
      return this;
    }

    /** One explicit override. */
    public Builder set(String key, String value) {
      values.put(key, value);
      return this;
    }

    public CallvecConfig build() {
      return new CallvecConfig(values);
    }
  }

  /** {@code CALLVEC_WINDOW_MS} → {@code callvec.window.ms}; {@code CALLVEC_BOOTSTRAP_SERVERS} → {@code bootstrap.servers}. */
  static String keyOfEnv(String envName) {
    String dotted = envName.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
    String appKey = "callvec." + dotted;
    return Settings.byKey(appKey) != null ? appKey : dotted;
  }

  private void validate() {
    for (String k : values.keySet()) {
      if (Settings.IS_APP_KEY.test(k) && Settings.byKey(k) == null) {
        throw new ConfigException("unknown setting '" + k + "'; callvec settings are: " + Settings.all().stream().map(Settings::key).toList());
      }
    }
    for (Settings s : Settings.values()) {
      String v = values.get(s.key());
      if (v == null || v.isBlank()) {
        throw new ConfigException("setting '" + s.key() + "' must not be empty");
      }
      if (s.defaultValue().matches("-?\\d+")) {
        getLong(s);
      } else if (s.defaultValue().equals("true") || s.defaultValue().equals("false")) {
        getBoolean(s);
      }
    }
    try {
      io.callvec.schemas.serde.SerdeFormat.parse(get(Settings.SERDE));
    } catch (org.apache.kafka.common.config.ConfigException e) {
      throw new ConfigException("setting '" + Settings.SERDE.key() + "' must be single-object or confluent, got '" + get(Settings.SERDE) + "'");
    }
    positive(Settings.REGISTRY_REQUEST_TIMEOUT_MS);
    positive(Settings.REGISTRY_RETRY_BACKOFF_MS);
    positive(Settings.REGISTRY_RETRY_BACKOFF_MAX_MS);
    positive(Settings.BATCH_MAX_WINDOWS);
    positive(Settings.BATCH_QUEUE_CAPACITY);
    positive(Settings.BATCH_WORKERS);
    positive(Settings.BATCH_MAX_ATTEMPTS);
    positive(Settings.IDLE_TIMEOUT_MS);
    positive(Settings.IDLE_SCAN_INTERVAL_MS);
    positive(Settings.MAX_PAYLOAD_BYTES);
    positive(Settings.COMPLETION_POLL_MS);
    long rocksDbBytes = getLong(Settings.ROCKSDB_MEMORY_BYTES);
    if (rocksDbBytes != 0 && rocksDbBytes < BoundedRocksDbMemory.MIN_BYTES) {
      throw new ConfigException("setting '" + Settings.ROCKSDB_MEMORY_BYTES.key() + "' must be 0 (Kafka Streams' defaults) or at least "
          + BoundedRocksDbMemory.MIN_BYTES + " bytes (16 MiB), got " + rocksDbBytes);
    }
    if (getLong(Settings.BATCH_MAX_DELAY_MS) < 0 || getLong(Settings.REORDER_LATENESS_MS) < 0 || getLong(Settings.MAX_GAP_FILL_MS) < 0) {
      throw new ConfigException("batch delay, reorder lateness and gap fill must be >= 0 ms");
    }
    StreamThreadBudget.check(this);
  }

  private void positive(Settings s) {
    if (getLong(s) <= 0) {
      throw new ConfigException("setting '" + s.key() + "' must be > 0, got " + get(s));
    }
  }

  public String get(Settings s) {
    return values.get(s.key());
  }

  public long getLong(Settings s) {
    String v = get(s);
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new ConfigException("setting '" + s.key() + "' must be an integer, got '" + v + "'");
    }
  }

  public int getInt(Settings s) {
    long v = getLong(s);
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
      throw new ConfigException("setting '" + s.key() + "' is out of range: " + v);
    }
    return (int) v;
  }

  public boolean getBoolean(Settings s) {
    String v = get(s).trim().toLowerCase(Locale.ROOT);
    if (!v.equals("true") && !v.equals("false")) {
      throw new ConfigException("setting '" + s.key() + "' must be true or false, got '" + get(s) + "'");
    }
    return v.equals("true");
  }

  /** Any key, callvec or Kafka; null if unset. */
  public String raw(String key) {
    return values.get(key);
  }

  /** All values (unmodifiable, sorted by key). */
  public Map<String, String> asMap() {
    return values;
  }

  /** The Kafka Streams configuration: every non-callvec key, plus the DLQ topic for the built-in handlers. */
  public Properties streamsProperties() {
    Properties p = new Properties();
    values.forEach((k, v) -> {
      if (!Settings.IS_APP_KEY.test(k)) {
        p.setProperty(k, v);
      }
    });
    p.putIfAbsent("errors.dead.letter.queue.topic.name", get(Settings.DLQ_TOPIC));
    long rocksDbBytes = getLong(Settings.ROCKSDB_MEMORY_BYTES);
    if (rocksDbBytes > 0 && !p.containsKey("rocksdb.config.setter")) {
      p.setProperty("rocksdb.config.setter", BoundedRocksDbMemory.class.getName());
      p.setProperty(BoundedRocksDbMemory.MEMORY_KEY, Long.toString(rocksDbBytes));
    }
    return p;
  }

  /** True when the key's value must never be printed. */
  public static boolean isSecretKey(String key) {
    return SECRET_KEY.matcher(key).matches();
  }

  /** {@code value}, or {@value #HIDDEN} when {@code key} {@link #isSecretKey is secret}. */
  public static String redacted(String key, String value) {
    return isSecretKey(key) ? HIDDEN : value;
  }

  /**
   * The admin client's settings: the non-callvec keys that {@link AdminClientConfig} knows ({@code
   * bootstrap.servers}, {@code security.protocol}, {@code sasl.*}, {@code ssl.*}, ...), then {@code
   * admin.}-prefixed keys (Kafka Streams' convention) with the prefix removed.
   */
  public Properties adminProperties() {
    java.util.Set<String> known = AdminClientConfig.configNames();
    Properties p = new Properties();
    values.forEach((k, v) -> {
      if (!Settings.IS_APP_KEY.test(k) && known.contains(k)) {
        p.setProperty(k, v);
      }
    });
    values.forEach((k, v) -> {
      if (k.startsWith("admin.") && known.contains(k.substring("admin.".length()))) {
        p.setProperty(k.substring("admin.".length()), v);
      }
    });
    return p;
  }

  /** One {@code key=value} line per setting, sorted, secrets as {@value #HIDDEN}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    values.forEach((k, v) -> sb.append(k).append('=').append(redacted(k, v)).append('\n'));
    return sb.toString();
  }

  /** A configuration that cannot be used; the message names the key. */
  public static final class ConfigException extends IllegalArgumentException {
    public ConfigException(String message) {
      super(message);
    }
  }
}
