package io.callvec.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.app.KafkaAccessCheck;
import io.callvec.broker.LocalKafkaCluster;
import io.callvec.broker.SaslSsl;
import io.callvec.broker.SelfSignedTls;
import io.callvec.it.support.AppStates;
import io.callvec.it.support.AppTopics;
import io.callvec.it.support.CallFixtures;
import io.callvec.it.support.ChunkFeeder;
import io.callvec.it.support.CommittedOutput;
import io.callvec.it.support.ExactlyOnceCheck;
import io.callvec.it.support.ScenarioSettings;
import io.callvec.it.support.WorkDirs;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scenario "security": one in-process KRaft broker whose client listener requires SASL_SSL
 * (SCRAM-SHA-512 over TLS; keystore, truststore and passwords generated at test time by {@link
 * SelfSignedTls}). The app gets only the standard Kafka client keys ({@code security.protocol},
 * {@code sasl.mechanism}, {@code sasl.jaas.config}, {@code ssl.truststore.*}) in its config.
 *
 * <ul>
 *   <li>good credentials: two two-channel calls give every segment and call embedding exactly once;
 *   <li>the HTTP endpoint (queried while that app runs) serves only metrics and health: no audio, no
 *       vector values, no call ids; unknown paths 404, POST 405;
 *   <li>wrong password and an untrusted broker certificate fail {@code CallvecApp.start} within 30 s
 *       with an error that says authentication / the TLS handshake failed; with the start-up check
 *       off, the stream thread's authentication error shuts the app down;
 *   <li>last: nothing logged during the class (callvec's and Kafka's loggers at INFO) nor the
 *       {@code /metrics} output contains the SASL password, the keystore or truststore password, or
 *       the JAAS config.
 * </ul>
 *
 * Limits: one mechanism (SCRAM-SHA-512) is run end to end; PLAIN is only wired in {@link SaslSsl}.
 * The broker's inter-broker and controller listeners are PLAINTEXT (see {@link LocalKafkaCluster}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecurityTest {
  private static final Logger log = LoggerFactory.getLogger(SecurityTest.class);
  private static final String USER = "callvec-app";
  private static final Duration FAIL_FAST = Duration.ofSeconds(30);

  private final Path work = WorkDirs.create("SecurityTest");
  private final LogCapture logs = new LogCapture();
  private SelfSignedTls.Material tls;
  private String password;
  private LocalKafkaCluster kafka;
  private CallvecApp app;
  private AppTopics topics;
  private List<Recording> streams;
  private CommittedOutput out;
  private ExactlyOnceCheck.Verdict verdict;
  private String metricsText;

  @BeforeAll
  void startBrokerAndRunCalls() throws Exception {
    logs.start();
    tls = SelfSignedTls.generate(work.resolve("tls"));
    password = randomHex();
    kafka = LocalKafkaCluster.builder().saslSsl(SaslSsl.scramSha512(USER, password, tls)).build();
    String prefix = "sec-" + UUID.randomUUID().toString().substring(0, 8);
    topics = AppTopics.of(prefix);
    kafka.createTopics(ScenarioSettings.topics(topics, 2, (short) 1));

    Map<String, String> cfg = appConfig(prefix + "-app", kafka.saslSsl().orElseThrow().clientSettings());
    TopologySettings settings = ScenarioSettings.topology(cfg);
    streams = CallFixtures.twoChannelCalls(prefix, 2, 4000, 500);
    Map<String, float[]> expected = CallFixtures.expectedSegments(streams, settings);
    Chunker.Options play = Chunker.Options.realTime().withSpeed(4.0);
    app = CallvecApp.start(CallvecConfig.builder().overrides(cfg).build());
    AppStates.awaitRunning(app, "app running over SASL_SSL before the feed");
    try (ChunkFeeder feeder = ChunkFeeder.start(kafka.clientConfig(), topics.input(), streams, play)) {
      feeder.awaitDone(Duration.ofSeconds(120));
    }
    out = CommittedOutput.read(kafka.clientConfig(), topics, streams.size(), Duration.ofSeconds(120), Duration.ofSeconds(2),
        () -> assertNull(app.failure(), "the app failed"));
    verdict = ExactlyOnceCheck.check(out, streams, play, expected, settings);
    log.info("RESULT scenario=security {}", verdict.summary());
  }

  @AfterAll
  void stop() {
    try {
      if (app != null) {
        app.close();
      }
    } finally {
      try {
        if (kafka != null) {
          kafka.close();
        }
      } finally {
        logs.stop();
      }
    }
  }

  @Test
  @Order(1)
  void goodCredentialsGiveEverySegmentAndCallEmbeddingExactlyOnce() {
    verdict.assertClean();
    assertTrue(verdict.expectedSegments() >= 8, "enough segments to mean something: " + verdict.summary());
    assertEquals(streams.size(), verdict.deliveredCalls(), verdict.summary());
    assertNull(app.failure());
  }

  @Test
  @Order(2)
  void theBrokerRefusesAClientWithoutSecurity() throws Exception {
    Map<String, Object> cfg = new HashMap<>();
    cfg.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    cfg.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000);
    cfg.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000);
    try (Admin admin = Admin.create(cfg)) {
      assertThrows(ExecutionException.class, () -> admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS),
          "a PLAINTEXT client must not get an answer from the SASL_SSL listener");
    }
  }

  @Test
  @Order(3)
  void httpEndpointServesOnlyMetricsAndHealthNeverAudioOrEmbeddings() throws Exception {
    int port = app.httpPort();
    assertTrue(port > 0, "HTTP endpoint on");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    Map<String, Integer> expectedStatus = new LinkedHashMap<>();
    expectedStatus.put("/metrics", 200);
    expectedStatus.put("/health/live", 200);
    expectedStatus.put("/health/ready", 200);
    for (String unknown : List.of("/", "/segments", "/state", "/debug", "/api/embeddings", "/embeddings", "/audio", "/config", "/env",
        "/health", "/metrics/segments", "/health/ready/x", "/metrics.json", "/" + streams.get(0).callId())) {
      expectedStatus.put(unknown, 404);
    }
    List<String> bodies = new ArrayList<>();
    for (Map.Entry<String, Integer> e : expectedStatus.entrySet()) {
      HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + e.getKey()))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(e.getValue(), r.statusCode(), "GET " + e.getKey());
      String type = r.headers().firstValue("Content-Type").orElse("");
      assertTrue(type.startsWith("text/plain"), "GET " + e.getKey() + " content type " + type);
      String body = new String(r.body(), StandardCharsets.UTF_8);
      assertTrue(body.chars().allMatch(c -> c == '\n' || c == '\t' || c == '\r' || (c >= 0x20 && c != 0xFFFD)),
          "GET " + e.getKey() + " returned non-text bytes");
      assertFalse(body.contains("RIFF"), "GET " + e.getKey() + " looks like WAV audio");
      if (e.getKey().equals("/metrics")) {
        metricsText = body;
        assertTrue(body.contains("callvec_segments_total"), "metrics served");
        assertTrue(r.body().length < 2_000_000, "metrics size " + r.body().length);
      }
      bodies.add(body);
    }
    for (String method : List.of("POST", "PUT", "DELETE")) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/metrics"))
          .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(405, r.statusCode(), method + " /metrics");
    }

    // No vector component, no call id in any response.
    Set<String> vectorValues = new LinkedHashSet<>();
    for (SegmentEmbedding s : out.segments) {
      addComponents(vectorValues, Vectors.fromBytes(s.getVector(), s.getDimension()));
    }
    for (CallEmbedding c : out.calls) {
      addComponents(vectorValues, Vectors.fromBytes(c.getVector(), c.getDimension()));
    }
    assertTrue(vectorValues.size() > 100, "vector values to look for: " + vectorValues.size());
    Set<String> callIds = new LinkedHashSet<>();
    streams.forEach(s -> callIds.add(s.callId()));
    for (String body : bodies) {
      for (String v : vectorValues) {
        assertFalse(body.contains(v), "an HTTP response holds the embedding value " + v);
      }
      for (String id : callIds) {
        assertFalse(body.contains(id), "an HTTP response names call " + id);
      }
    }
  }

  @Test
  @Order(4)
  void wrongPasswordFailsTheStartFastWithAnAuthenticationError() throws Exception {
    Map<String, String> cfg = appConfig("sec-wrong-pw-" + UUID.randomUUID().toString().substring(0, 8),
        kafka.saslSsl().orElseThrow().clientSettings(USER, "wrong-" + randomHex()));
    assertStartFailsFast(cfg, "wrong_password", "authentication to Kafka at ", org.apache.kafka.common.errors.SaslAuthenticationException.class);
  }

  @Test
  @Order(5)
  void untrustedBrokerCertificateFailsTheStartFastWithATlsError() throws Exception {
    SelfSignedTls.Material other = SelfSignedTls.generate(work.resolve("other-tls"));
    Map<String, String> client = new LinkedHashMap<>(kafka.saslSsl().orElseThrow().clientSettings());
    client.put("ssl.truststore.location", other.truststore().toString());
    client.put("ssl.truststore.password", other.truststorePassword());
    logs.addSecret(other.truststorePassword());
    logs.addSecret(other.keystorePassword());
    Map<String, String> cfg = appConfig("sec-bad-tls-" + UUID.randomUUID().toString().substring(0, 8), client);
    assertStartFailsFast(cfg, "untrusted_certificate", "TLS handshake with Kafka at ", org.apache.kafka.common.errors.SslAuthenticationException.class);
  }

  /**
   * The start with {@code cfg} throws a KafkaAccessException within {@link #FAIL_FAST} whose message
   * starts with {@code messageStart} + the bootstrap servers + " failed" and whose cause is a {@code cause}.
   */
  private void assertStartFailsFast(Map<String, String> cfg, String scenario, String messageStart, Class<? extends Throwable> cause) {
    long t0 = System.nanoTime();
    KafkaAccessCheck.KafkaAccessException e = assertThrows(KafkaAccessCheck.KafkaAccessException.class,
        () -> CallvecApp.start(CallvecConfig.builder().overrides(cfg).build()).close());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    log.info("RESULT scenario=security {} failed_after_ms={} message={}", scenario, ms, e.getMessage());
    assertTrue(ms < FAIL_FAST.toMillis(), "failed after " + ms + " ms");
    assertTrue(e.getMessage().startsWith(messageStart + kafka.bootstrapServers() + " failed"), e.getMessage());
    assertTrue(cause.isInstance(e.getCause()), String.valueOf(e.getCause()));
  }

  @Test
  @Order(6)
  void withoutTheStartupCheckAWrongPasswordStopsTheAppWithAnAuthenticationError() throws Exception {
    Map<String, String> cfg = appConfig("sec-late-" + UUID.randomUUID().toString().substring(0, 8),
        kafka.saslSsl().orElseThrow().clientSettings(USER, "wrong-" + randomHex()));
    cfg.put("callvec.startup.check.timeout.ms", "0");
    cfg.put("callvec.http.port", "-1");
    long t0 = System.nanoTime();
    try (CallvecApp bad = CallvecApp.start(CallvecConfig.builder().overrides(cfg).build())) {
      boolean stopped = bad.awaitTermination(FAIL_FAST.toMillis(), TimeUnit.MILLISECONDS);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      log.info("RESULT scenario=security wrong_password_no_check stopped={} after_ms={} state={} failure={}", stopped, ms,
          bad.streams().state(), bad.failure() == null ? null : CallvecApp.causeChain(bad.failure()));
      assertTrue(stopped, "the app must stop, not retry forever; state " + bad.streams().state());
      assertNotNull(bad.failure(), "the failure is kept");
      assertTrue(KafkaAccessCheck.isAuthenticationFailure(bad.failure()), CallvecApp.causeChain(bad.failure()));
    }
  }

  @Test
  @Order(100)
  void noSecretInLogsOrMetrics() {
    assertNotNull(metricsText, "the HTTP test ran and kept /metrics");
    String jaas = kafka.saslSsl().orElseThrow().clientSettings().get("sasl.jaas.config");
    String logged = logs.text();
    assertTrue(logged.length() > 10_000, "log captured: " + logged.length() + " chars");
    // Both redactions ran and were captured: callvec's configuration dump and Kafka's client config dump.
    assertTrue(logged.contains("sasl.jaas.config=[hidden]"), "callvec's configuration log line");
    assertTrue(logged.contains("ssl.truststore.password=[hidden]"), "callvec's configuration log line");
    assertTrue(logged.contains("sasl.jaas.config = [hidden]"), "Kafka's client configuration log");
    List<String> secrets = new ArrayList<>(logs.secrets());
    secrets.addAll(List.of(password, tls.keystorePassword(), tls.truststorePassword(), jaas));
    for (String secret : secrets) {
      assertFalse(logged.contains(secret), "a secret appears in the log");
      assertFalse(metricsText.contains(secret), "a secret appears in /metrics");
    }
    assertFalse(logged.contains("password=\""), "a JAAS password clause appears in the log");
    assertFalse(metricsText.contains("password"), "/metrics mentions a password");
  }

  // ---------------------------------------------------------------------------------------------

  private Map<String, String> appConfig(String applicationId, Map<String, String> security) {
    Map<String, String> cfg = new HashMap<>(ScenarioSettings.app(kafka.bootstrapServers(), applicationId, topics));
    cfg.putAll(security);
    cfg.put("state.dir", work.resolve("state-" + applicationId).toString());
    cfg.put("callvec.http.port", "0");
    String jaas = security.get("sasl.jaas.config");
    logs.addSecret(jaas);
    int at = jaas.indexOf("password=\"");
    logs.addSecret(jaas.substring(at + "password=\"".length(), jaas.lastIndexOf('"')));
    return cfg;
  }

  private static void addComponents(Set<String> into, float[] v) {
    for (float f : v) {
      // Only values whose decimal form is long enough not to occur by chance among metric values.
      for (String s : List.of(Float.toString(f), Double.toString(f))) {
        if (s.replace("-", "").replace(".", "").replaceFirst("^0+", "").length() >= 6 && !s.contains("E")) {
          into.add(s);
        }
      }
    }
  }

  private static String randomHex() {
    byte[] b = new byte[16];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /**
   * Everything logged through Logback while started (rendered message and stack traces), with
   * {@code org.apache.kafka} raised to INFO so that Kafka's own configuration dumps are included.
   */
  private static final class LogCapture extends AppenderBase<ILoggingEvent> {
    private final StringBuilder text = new StringBuilder();
    private final List<String> secrets = new ArrayList<>();
    private Level kafkaLevel;

    @Override
    public void start() {
      LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
      setContext(ctx);
      ch.qos.logback.classic.Logger kafkaLogger = ctx.getLogger("org.apache.kafka");
      kafkaLevel = kafkaLogger.getLevel();
      kafkaLogger.setLevel(Level.INFO);
      super.start();
      ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(this);
    }

    @Override
    public void stop() {
      LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
      ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(this);
      ctx.getLogger("org.apache.kafka").setLevel(kafkaLevel);
      super.stop();
    }

    @Override
    protected void append(ILoggingEvent e) {
      text.append(e.getLevel()).append(' ').append(e.getLoggerName()).append(" - ").append(e.getFormattedMessage()).append('\n');
      if (e.getThrowableProxy() != null) {
        text.append(ThrowableProxyUtil.asString(e.getThrowableProxy())).append('\n');
      }
    }

    synchronized String text() {
      return text.toString();
    }

    synchronized void addSecret(String s) {
      secrets.add(s);
    }

    synchronized List<String> secrets() {
      return List.copyOf(secrets);
    }
  }
}
