package io.callvec.broker;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Security of a {@link LocalKafkaCluster}'s client listener: SASL over TLS ({@code SASL_SSL}) with
 * one user, for {@link LocalKafkaCluster.Builder#saslSsl}.
 *
 * <p>{@code SCRAM-SHA-512} (preferred: the broker stores only salted hashes; the user is added to
 * the KRaft bootstrap metadata when the storage is formatted) or {@code PLAIN} (the broker's JAAS
 * config holds the password). TLS material comes from {@link SelfSignedTls#generate}. {@link
 * #toString()} hides the password.
 *
 * @param mechanism {@code SCRAM-SHA-512} or {@code PLAIN}
 * @param username the one user the broker accepts
 * @param password that user's password
 * @param tls the broker's keystore and the clients' truststore
 */
public record SaslSsl(String mechanism, String username, String password, SelfSignedTls.Material tls) {
  /** {@code SCRAM-SHA-512}. */
  public static final String SCRAM_SHA_512 = "SCRAM-SHA-512";
  /** {@code PLAIN}. */
  public static final String PLAIN = "PLAIN";

  public SaslSsl {
    Objects.requireNonNull(tls, "tls");
    if (!SCRAM_SHA_512.equals(mechanism) && !PLAIN.equals(mechanism)) {
      throw new IllegalArgumentException("mechanism must be " + SCRAM_SHA_512 + " or " + PLAIN + ", found " + mechanism);
    }
    if (username == null || !username.matches("[A-Za-z0-9_-]+")) {
      throw new IllegalArgumentException("username must be letters, digits, '_' or '-'");
    }
    if (password == null || password.isEmpty() || password.contains("\"") || password.contains("\\") || password.contains(",")
        || password.contains("]")) {
      throw new IllegalArgumentException("password must be non-empty, without quotes, backslashes, ',' or ']'");
    }
  }

  /** SCRAM-SHA-512 for {@code username}/{@code password}. */
  public static SaslSsl scramSha512(String username, String password, SelfSignedTls.Material tls) {
    return new SaslSsl(SCRAM_SHA_512, username, password, tls);
  }

  /** PLAIN for {@code username}/{@code password}. */
  public static SaslSsl plain(String username, String password, SelfSignedTls.Material tls) {
    return new SaslSsl(PLAIN, username, password, tls);
  }

  /**
   * The standard Kafka client keys that reach a listener with this security as {@code username} /
   * {@code password} (which may differ from the broker's user, to test wrong credentials): {@code
   * security.protocol}, {@code sasl.mechanism}, {@code sasl.jaas.config}, {@code
   * ssl.truststore.location}, {@code ssl.truststore.password}, {@code ssl.truststore.type}.
   */
  public Map<String, String> clientSettings(String username, String password) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("security.protocol", "SASL_SSL");
    m.put("sasl.mechanism", mechanism);
    m.put("sasl.jaas.config", loginModule() + " required username=\"" + username + "\" password=\"" + password + "\";");
    m.put("ssl.truststore.location", tls.truststore().toAbsolutePath().toString());
    m.put("ssl.truststore.password", tls.truststorePassword());
    m.put("ssl.truststore.type", "PKCS12");
    return m;
  }

  /** {@link #clientSettings(String, String)} with this user's own credentials. */
  public Map<String, String> clientSettings() {
    return clientSettings(username, password);
  }

  String loginModule() {
    return mechanism.equals(PLAIN)
        ? "org.apache.kafka.common.security.plain.PlainLoginModule"
        : "org.apache.kafka.common.security.scram.ScramLoginModule";
  }

  /** The broker settings of listener {@code listenerName} (e.g. {@code SASL_SSL}). */
  Map<String, String> brokerSettings(String listenerName) {
    String prefix = "listener.name." + listenerName.toLowerCase(Locale.ROOT) + ".";
    String mech = mechanism.toLowerCase(Locale.ROOT);
    Map<String, String> m = new LinkedHashMap<>();
    m.put("sasl.enabled.mechanisms", mechanism);
    m.put(prefix + "sasl.enabled.mechanisms", mechanism);
    m.put(prefix + mech + ".sasl.jaas.config", mechanism.equals(PLAIN)
        ? loginModule() + " required user_" + username + "=\"" + password + "\";"
        : loginModule() + " required;");
    m.put(prefix + "ssl.keystore.location", tls.keystore().toAbsolutePath().toString());
    m.put(prefix + "ssl.keystore.password", tls.keystorePassword());
    m.put(prefix + "ssl.key.password", tls.keystorePassword());
    m.put(prefix + "ssl.keystore.type", "PKCS12");
    return m;
  }

  /** Storage-format arguments that create the SCRAM user; none for PLAIN. */
  java.util.List<String> formatArguments() {
    return mechanism.equals(SCRAM_SHA_512)
        ? java.util.List.of("--add-scram", SCRAM_SHA_512 + "=[name=" + username + ",password=" + password + "]")
        : java.util.List.of();
  }

  @Override
  public String toString() {
    return "SaslSsl[" + mechanism + ", user " + username + ", password [hidden], " + tls + "]";
  }
}
