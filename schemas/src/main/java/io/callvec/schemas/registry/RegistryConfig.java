package io.callvec.schemas.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.common.config.ConfigException;

/**
 * How to reach a Schema Registry, read from the same keys Confluent's serializers read, so that an
 * existing client configuration works unchanged:
 *
 * <table>
 *   <caption>keys</caption>
 *   <tr><td>{@value #URL}</td><td>one or more base URLs, comma-separated (failover in order), e.g.
 *       {@code https://psrc-xxxx.confluent.cloud} or {@code http://host:8080/apis/ccompat/v7}</td></tr>
 *   <tr><td>{@value #CREDENTIALS_SOURCE}</td><td>{@code USER_INFO} (with {@value #USER_INFO}), {@code URL}
 *       ({@code https://user:secret@host}) or unset (no auth; USER_INFO is assumed when a user info is set)</td></tr>
 *   <tr><td>{@value #USER_INFO}</td><td>{@code user:secret}, e.g. a Confluent Cloud API key and secret
 *       (also read as {@code schema.registry.basic.auth.user.info})</td></tr>
 *   <tr><td>{@value #TRUSTSTORE_LOCATION}, {@code .password}, {@code .type}</td><td>trust store for
 *       https (JKS or PKCS12; default: the JDK's trusted CAs)</td></tr>
 *   <tr><td>{@value #KEYSTORE_LOCATION}, {@code .password}, {@code .type}, {@code schema.registry.ssl.key.password}</td>
 *       <td>client certificate for mutual TLS</td></tr>
 *   <tr><td>{@value #AUTO_REGISTER}</td><td>{@code true} (default): the serializer registers its schema;
 *       {@code false}: it only looks the schema up and fails if it is not registered</td></tr>
 *   <tr><td>{@value #REQUEST_TIMEOUT_MS}</td><td>timeout of one HTTP request, ms (default 10000)</td></tr>
 *   <tr><td>{@value #RETRY_BACKOFF_MS} / {@value #RETRY_BACKOFF_MAX_MS}</td><td>first and largest pause
 *       between retries of an unreachable registry, ms (default 100 / 5000, doubling)</td></tr>
 *   <tr><td>{@value #RETRY_MAX_MS}</td><td>how long one lookup keeps retrying before it fails with
 *       {@link RegistryUnavailableException}, ms (default 60000; keep it below {@code max.poll.interval.ms})</td></tr>
 * </table>
 */
public record RegistryConfig(
    List<URI> urls,
    Optional<String> userInfo,
    Optional<SSLContext> sslContext,
    boolean autoRegister,
    Duration requestTimeout,
    Duration retryBackoff,
    Duration retryBackoffMax,
    Duration retryMax) {

  public static final String URL = "schema.registry.url";
  public static final String CREDENTIALS_SOURCE = "basic.auth.credentials.source";
  public static final String USER_INFO = "basic.auth.user.info";
  public static final String USER_INFO_ALT = "schema.registry.basic.auth.user.info";
  public static final String TRUSTSTORE_LOCATION = "schema.registry.ssl.truststore.location";
  public static final String TRUSTSTORE_PASSWORD = "schema.registry.ssl.truststore.password";
  public static final String TRUSTSTORE_TYPE = "schema.registry.ssl.truststore.type";
  public static final String KEYSTORE_LOCATION = "schema.registry.ssl.keystore.location";
  public static final String KEYSTORE_PASSWORD = "schema.registry.ssl.keystore.password";
  public static final String KEYSTORE_TYPE = "schema.registry.ssl.keystore.type";
  public static final String KEY_PASSWORD = "schema.registry.ssl.key.password";
  public static final String AUTO_REGISTER = "auto.register.schemas";
  public static final String REQUEST_TIMEOUT_MS = "callvec.registry.request.timeout.ms";
  public static final String RETRY_BACKOFF_MS = "callvec.registry.retry.backoff.ms";
  public static final String RETRY_BACKOFF_MAX_MS = "callvec.registry.retry.backoff.max.ms";
  public static final String RETRY_MAX_MS = "callvec.registry.retry.max.ms";

  public RegistryConfig {
    if (urls.isEmpty()) {
      throw new ConfigException(URL + " is required for the Confluent wire format (callvec.serde=confluent)");
    }
    urls = List.copyOf(urls);
  }

  /**
   * Reads the keys above from a client configuration map (other keys are ignored).
   *
   * @throws ConfigException naming the key when a value is missing or malformed, or a store cannot be read
   */
  public static RegistryConfig from(Map<String, ?> config) {
    String rawUrls = string(config, URL, "");
    List<URI> urls = new ArrayList<>();
    Optional<String> urlUserInfo = Optional.empty();
    for (String u : rawUrls.split(",")) {
      String t = u.trim();
      if (t.isEmpty()) {
        continue;
      }
      URI uri;
      try {
        uri = URI.create(t.endsWith("/") ? t.substring(0, t.length() - 1) : t);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(URL, t, "not a URL: " + e.getMessage());
      }
      if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https")) || uri.getHost() == null) {
        throw new ConfigException(URL, t, "expected http://host[:port][/path] or https://...");
      }
      if (uri.getRawUserInfo() != null) {
        urlUserInfo = Optional.of(uri.getUserInfo());
        uri = URI.create(uri.getScheme() + "://" + uri.getHost() + (uri.getPort() >= 0 ? ":" + uri.getPort() : "")
            + (uri.getRawPath() == null ? "" : uri.getRawPath()));
      }
      urls.add(uri);
    }
    Optional<String> info = Optional.ofNullable(string(config, USER_INFO, null))
        .or(() -> Optional.ofNullable(string(config, USER_INFO_ALT, null)))
        .filter(s -> !s.isEmpty());
    String source = string(config, CREDENTIALS_SOURCE, info.isPresent() ? "USER_INFO" : (urlUserInfo.isPresent() ? "URL" : ""))
        .toUpperCase(Locale.ROOT);
    Optional<String> userInfo;
    switch (source) {
      case "" -> userInfo = Optional.empty();
      case "USER_INFO" -> {
        if (info.isEmpty()) {
          throw new ConfigException(USER_INFO, null, CREDENTIALS_SOURCE + "=USER_INFO needs " + USER_INFO + "=user:secret");
        }
        userInfo = info;
      }
      case "URL" -> {
        if (urlUserInfo.isEmpty()) {
          throw new ConfigException(URL, rawUrls, CREDENTIALS_SOURCE + "=URL needs user:secret@ in the URL");
        }
        userInfo = urlUserInfo;
      }
      default -> throw new ConfigException(CREDENTIALS_SOURCE, source, "supported: USER_INFO, URL");
    }
    if (userInfo.isPresent() && !userInfo.get().contains(":")) {
      throw new ConfigException(USER_INFO, "[hidden]", "expected user:secret");
    }
    return new RegistryConfig(urls, userInfo, sslContext(config),
        Boolean.parseBoolean(string(config, AUTO_REGISTER, "true")),
        Duration.ofMillis(positive(config, REQUEST_TIMEOUT_MS, 10_000)),
        Duration.ofMillis(positive(config, RETRY_BACKOFF_MS, 100)),
        Duration.ofMillis(positive(config, RETRY_BACKOFF_MAX_MS, 5_000)),
        Duration.ofMillis(nonNegative(config, RETRY_MAX_MS, 60_000)));
  }

  private static Optional<SSLContext> sslContext(Map<String, ?> config) {
    String trust = string(config, TRUSTSTORE_LOCATION, "");
    String keys = string(config, KEYSTORE_LOCATION, "");
    if (trust.isEmpty() && keys.isEmpty()) {
      return Optional.empty();
    }
    try {
      TrustManagerFactory tmf = null;
      if (!trust.isEmpty()) {
        tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(load(trust, string(config, TRUSTSTORE_TYPE, "JKS"), string(config, TRUSTSTORE_PASSWORD, ""), TRUSTSTORE_LOCATION));
      }
      KeyManagerFactory kmf = null;
      if (!keys.isEmpty()) {
        String storePassword = string(config, KEYSTORE_PASSWORD, "");
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(load(keys, string(config, KEYSTORE_TYPE, "JKS"), storePassword, KEYSTORE_LOCATION),
            string(config, KEY_PASSWORD, storePassword).toCharArray());
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
      return Optional.of(ctx);
    } catch (GeneralSecurityException e) {
      throw new ConfigException("cannot build the registry TLS context from " + TRUSTSTORE_LOCATION + "/" + KEYSTORE_LOCATION + ": " + e);
    }
  }

  private static KeyStore load(String location, String type, String password, String key) throws GeneralSecurityException {
    try (InputStream in = Files.newInputStream(Path.of(location))) {
      KeyStore ks = KeyStore.getInstance(type);
      ks.load(in, password.toCharArray());
      return ks;
    } catch (IOException e) {
      throw new ConfigException(key, location, "cannot read the " + type + " store: " + e.getMessage());
    }
  }

  private static String string(Map<String, ?> config, String key, String fallback) {
    Object v = config.get(key);
    return v == null ? fallback : v.toString().trim();
  }

  private static long positive(Map<String, ?> config, String key, long fallback) {
    long v = nonNegative(config, key, fallback);
    if (v == 0) {
      throw new ConfigException(key, 0, "must be > 0");
    }
    return v;
  }

  private static long nonNegative(Map<String, ?> config, String key, long fallback) {
    String s = string(config, key, Long.toString(fallback));
    try {
      long v = Long.parseLong(s);
      if (v < 0) {
        throw new ConfigException(key, s, "must be >= 0");
      }
      return v;
    } catch (NumberFormatException e) {
      throw new ConfigException(key, s, "not a number of milliseconds");
    }
  }

  /** No secrets: URLs, whether auth and TLS are set, the retry budget. */
  @Override
  public String toString() {
    return "RegistryConfig[urls=" + urls + ", auth=" + (userInfo.isPresent() ? "basic" : "none")
        + ", tls=" + (sslContext.isPresent() ? "custom" : "default") + ", autoRegister=" + autoRegister
        + ", retryMax=" + retryMax.toMillis() + " ms]";
  }
}
