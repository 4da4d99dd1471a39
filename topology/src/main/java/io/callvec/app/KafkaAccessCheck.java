package io.callvec.app;

import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start-up check: one {@code describeCluster} through an admin client built from the same
 * Kafka keys as Kafka Streams' clients ({@link CallvecConfig#adminProperties()}), before the model
 * is loaded. A broker that rejects the credentials ({@code SaslAuthenticationException}) or whose
 * certificate is not trusted ({@code SslAuthenticationException}) stops the start at once with a
 * {@link KafkaAccessException} that says so, instead of stream threads retrying in the background.
 *
 * <p>Limits: a broker that does not answer within {@code callvec.startup.check.timeout.ms} only
 * gives a warning (the app starts and Kafka Streams keeps retrying, so that instances may start
 * before the cluster). A client whose {@code security.protocol} does not match the listener at all
 * (e.g. PLAINTEXT against SASL_SSL) usually sees no answer rather than an error, so it gets the
 * warning too. Authorisation (ACLs) is not checked here.
 */
public final class KafkaAccessCheck {
  private static final Logger log = LoggerFactory.getLogger(KafkaAccessCheck.class);

  private KafkaAccessCheck() {}

  /** Kafka refused this client: bad credentials, untrusted certificate, or an unusable security setting. */
  public static final class KafkaAccessException extends IllegalStateException {
    public KafkaAccessException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Runs the check unless {@code callvec.startup.check.timeout.ms} is 0.
   *
   * @throws KafkaAccessException when Kafka rejects the authentication or the TLS handshake, or the
   *     client settings cannot be used (message names the cause; no secret is in it)
   */
  public static void run(CallvecConfig config) {
    long timeoutMs = config.getLong(Settings.STARTUP_CHECK_TIMEOUT_MS);
    if (timeoutMs <= 0) {
      return;
    }
    String bootstrap = config.raw("bootstrap.servers");
    String protocol = String.valueOf(config.asMap().getOrDefault("security.protocol", "PLAINTEXT"));
    String mechanism = config.asMap().getOrDefault("sasl.mechanism", "GSSAPI");
    Properties p = config.adminProperties();
    p.setProperty(AdminClientConfig.CLIENT_ID_CONFIG, config.raw("application.id") + "-startup-check");
    p.setProperty(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(timeoutMs));
    p.setProperty(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(Math.min(timeoutMs, 30_000)));
    long t0 = System.nanoTime();
    try (Admin admin = Admin.create(p)) {
      String clusterId = admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) Math.min(timeoutMs, Integer.MAX_VALUE)))
          .clusterId().get(timeoutMs + 1_000, TimeUnit.MILLISECONDS);
      log.info("Kafka at {} answered (cluster {}, security.protocol {}) in {} ms", bootstrap, clusterId, protocol,
          (System.nanoTime() - t0) / 1_000_000);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof AuthenticationException) {
        throw refused(bootstrap, protocol, mechanism, cause);
      }
      log.warn("Kafka at {} did not answer the start-up check ({}); starting anyway, Kafka Streams keeps retrying", bootstrap,
          CallvecApp.causeChain(cause));
    } catch (TimeoutException e) {
      log.warn("Kafka at {} did not answer within {} ms (security.protocol {}); starting anyway, Kafka Streams keeps retrying", bootstrap,
          timeoutMs, protocol);
    } catch (KafkaException e) {
      // Admin.create failed: e.g. a truststore that cannot be read or a malformed JAAS config.
      throw new KafkaAccessException("cannot create a Kafka client for " + bootstrap + " (security.protocol " + protocol + "): "
          + CallvecApp.causeChain(e) + "; check the security.protocol, sasl.* and ssl.* settings", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaAccessException("interrupted during the Kafka start-up check", e);
    }
  }

  /** Whether {@code e} or a cause of it is an authentication or TLS handshake failure. */
  public static boolean isAuthenticationFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof AuthenticationException) {
        return true;
      }
    }
    return false;
  }

  private static KafkaAccessException refused(String bootstrap, String protocol, String mechanism, Throwable cause) {
    String what = cause instanceof SslAuthenticationException
        ? "TLS handshake with Kafka at " + bootstrap + " failed (is the broker's certificate in ssl.truststore.location, and does "
            + "its name match the host?)"
        : "authentication to Kafka at " + bootstrap + " failed (security.protocol " + protocol + ", sasl.mechanism " + mechanism
            + "; check the user and password in sasl.jaas.config)";
    return new KafkaAccessException(what + ": " + cause.getClass().getSimpleName() + ": " + cause.getMessage(), cause);
  }
}
