package io.callvec.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.broker.SelfSignedTls;
import io.callvec.schemas.AudioChunk;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upgrades with wrong, missing and right credentials: refused ones get HTTP 403 (Twilio) / 401
 * (AudioHook) before any WebSocket exists and are counted; right ones stream. Also the connection
 * limit (503) and the operator endpoint.
 */
class GatewaySecurityTest {
  static final String TOPIC = "secure-audio";
  static final String TOKEN = "twilio-token-0123456789";
  static final String API_KEY = "SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";
  static final String SECRET = "TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU=";
  @RegisterExtension static final TestBroker BROKER = new TestBroker(TOPIC, 1);

  static GatewaySettings secured() {
    return GatewaySettings.insecureDefaults(TOPIC).withAuth(new GatewaySettings.TwilioAuth(TOKEN, null, false),
        new GatewaySettings.AudioHookAuth(API_KEY, SECRET, false));
  }

  static int refusedStatus(GatewayFixture f, String path, Map<String, String> headers) {
    CompletionException e = assertThrows(CompletionException.class, () -> f.connect(path, headers));
    assertTrue(e.getCause() instanceof WebSocketHandshakeException, e.toString());
    return ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode();
  }

  @Test
  void twilioSignatureIsCheckedOnTheUpgrade() throws Exception {
    try (GatewayFixture f = new GatewayFixture(BROKER.kafka(), TOPIC, secured())) {
      String path = IngestGateway.TWILIO_PATH + "?tenant=acme";
      String url = "ws://127.0.0.1:" + f.gateway.port() + path;
      assertEquals(403, refusedStatus(f, path, Map.of()), "no signature");
      assertEquals(403, refusedStatus(f, path, Map.of(TwilioSignature.HEADER, new TwilioSignature("wrong-token").sign(url))), "wrong token");
      assertEquals(403, refusedStatus(f, IngestGateway.TWILIO_PATH, Map.of(TwilioSignature.HEADER, new TwilioSignature(TOKEN).sign(url))),
          "signature of another URL");
      assertEquals(3, f.counter("callvec.gateway.upgrades.refused", "protocol", "twilio", "reason", "unauthorized"));
      assertEquals(0, f.counter("callvec.gateway.connections.accepted", "protocol", "twilio"), "no WebSocket was opened for them");

      GatewayFixture.Client c = f.connect(path, Map.of(TwilioSignature.HEADER, new TwilioSignature(TOKEN).sign(url)));
      TwilioMessages tw = new TwilioMessages("CAsigned0000000000000000000000000", "MZsigned");
      c.text(tw.connected());
      c.text(tw.start("inbound"));
      c.text(tw.media("inbound", 1, 0, new byte[160]));
      c.text(tw.stop());
      List<ConsumerRecord<String, AudioChunk>> recs = f.readCall(tw.callSid, 1);
      assertEquals(2, recs.size(), "one frame and the end-of-stream");
    }
  }

  @Test
  void audioHookApiKeyAndSignatureAreCheckedOnTheUpgrade() throws Exception {
    try (GatewayFixture f = new GatewayFixture(BROKER.kafka(), TOPIC, secured())) {
      String authority = "127.0.0.1:" + f.gateway.port();
      Map<String, String> h = new HashMap<>();
      h.put("Audiohook-Organization-Id", "d7934305-0972-4844-938e-9060eef73d05");
      h.put("Audiohook-Session-Id", "30b0e395-84d3-4570-ac13-9a62d8f514c0");
      h.put("Audiohook-Correlation-Id", "e160e428-53e2-487c-977d-96989bf5c99d");
      assertEquals(401, refusedStatus(f, IngestGateway.AUDIOHOOK_PATH, h), "no API key");
      h.put("X-API-KEY", "not-the-key");
      assertEquals(401, refusedStatus(f, IngestGateway.AUDIOHOOK_PATH, h), "wrong API key");
      h.put("X-API-KEY", API_KEY);
      assertEquals(401, refusedStatus(f, IngestGateway.AUDIOHOOK_PATH, h), "right key, no signature");
      long now = System.currentTimeMillis() / 1000;
      List<String> comps = List.of("@request-target", "@authority", "audiohook-organization-id", "audiohook-session-id", "audiohook-correlation-id",
          "x-api-key");
      Map<String, String> lower = new HashMap<>();
      h.forEach((k, v) -> lower.put(k.toLowerCase(java.util.Locale.ROOT), v));
      String[] wrongSecret = new HttpMessageSignature("c29tZSBvdGhlciBzZWNyZXQ=").sign(
          c -> c.equals("@request-target") ? IngestGateway.AUDIOHOOK_PATH : c.equals("@authority") ? authority : lower.get(c), comps, API_KEY, "bm9uY2U=",
          now, now + 60);
      Map<String, String> bad = new HashMap<>(h);
      bad.put("Signature-Input", wrongSecret[0]);
      bad.put("Signature", wrongSecret[1]);
      assertEquals(401, refusedStatus(f, IngestGateway.AUDIOHOOK_PATH, bad), "signed with another secret");
      assertEquals(4, f.counter("callvec.gateway.upgrades.refused", "protocol", "audiohook", "reason", "unauthorized"));

      String[] sig = new HttpMessageSignature(SECRET).sign(
          c -> c.equals("@request-target") ? IngestGateway.AUDIOHOOK_PATH : c.equals("@authority") ? authority : lower.get(c), comps, API_KEY, "bm9uY2U=",
          now, now + 60);
      h.put("Signature-Input", sig[0]);
      h.put("Signature", sig[1]);
      GatewayFixture.Client c = f.connect(IngestGateway.AUDIOHOOK_PATH, h);
      AudioHookMessages ah = new AudioHookMessages("30b0e395-84d3-4570-ac13-9a62d8f514c0", "c0ffee00-0000-4000-8000-000000000001");
      c.text(ah.open(null));
      c.awaitText("\"opened\"");
      c.binary(new byte[320]);
      c.text(ah.close("end"));
      c.awaitText("\"closed\"");
      List<ConsumerRecord<String, AudioChunk>> recs = f.readCall(ah.conversationId, 2);
      assertEquals(4, recs.size(), "one 20 ms record per channel and two end-of-stream records");
      assertEquals("d7934305-0972-4844-938e-9060eef73d05", recs.stream().filter(r -> r.value().getMetadata() != null).findFirst().orElseThrow()
          .value().getMetadata().get("organizationId"));
    }
  }

  @Test
  void tlsServesWssAndTheSignatureCoversTheWssUrl(@TempDir Path dir) throws Exception {
    SelfSignedTls.Material tls = SelfSignedTls.generate(dir);
    try (GatewayFixture f = new GatewayFixture(BROKER.kafka(), TOPIC, secured().withTls(new GatewaySettings.Tls(tls.keystore(), tls.keystorePassword())))) {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      try (var in = Files.newInputStream(tls.truststore())) {
        trust.load(in, tls.truststorePassword().toCharArray());
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(null, tmf.getTrustManagers(), null);
      HttpClient client = HttpClient.newBuilder().sslContext(ssl).build();
      String url = "wss://localhost:" + f.gateway.port() + IngestGateway.TWILIO_PATH;
      GatewayFixture.Client c = new GatewayFixture.Client();
      c.ws = client.newWebSocketBuilder().header(TwilioSignature.HEADER, new TwilioSignature(TOKEN).sign(url)).buildAsync(URI.create(url), c).join();
      TwilioMessages tw = new TwilioMessages("CAtls00000000000000000000000000000", "MZtls");
      c.text(tw.start("inbound"));
      c.text(tw.media("inbound", 1, 0, new byte[160]));
      c.text(tw.stop());
      assertEquals(2, f.readCall(tw.callSid, 1).size());
      CompletionException plain = assertThrows(CompletionException.class, () -> f.connect(IngestGateway.TWILIO_PATH, Map.of()));
      assertTrue(plain.getCause() instanceof java.io.IOException, "ws:// to the TLS port fails: " + plain);
    }
  }

  @Test
  void connectionLimitAndOperatorEndpoint() throws Exception {
    GatewaySettings s = GatewaySettings.insecureDefaults(TOPIC).withLimits(2, 64 * 1024, Duration.ofSeconds(30), 250);
    try (GatewayFixture f = new GatewayFixture(BROKER.kafka(), TOPIC, s)) {
      GatewayFixture.Client a = f.connect(IngestGateway.TWILIO_PATH, Map.of());
      GatewayFixture.Client b = f.connect(IngestGateway.AUDIOHOOK_PATH, Map.of());
      assertEquals(503, refusedStatus(f, IngestGateway.TWILIO_PATH, Map.of()), "third connection over the limit of 2");
      assertEquals(1, f.counter("callvec.gateway.upgrades.refused", "protocol", "twilio", "reason", "limit"));

      String base = "http://127.0.0.1:" + f.gateway.httpPort();
      HttpResponse<String> metrics = f.http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, metrics.statusCode());
      assertTrue(metrics.body().contains("callvec_gateway_connections{protocol=\"twilio\"} 1.0"), metrics.body());
      assertTrue(metrics.body().contains("callvec_gateway_upgrades_refused_total{protocol=\"twilio\",reason=\"limit\"} 1.0"), metrics.body());
      assertEquals(200, f.http.send(HttpRequest.newBuilder(URI.create(base + "/health/live")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
      assertEquals(200, f.http.send(HttpRequest.newBuilder(URI.create(base + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
      assertEquals(404, f.http.send(HttpRequest.newBuilder(URI.create(base + "/health/ready/x")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
      assertEquals(405, f.http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode());
      assertEquals(426, f.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.gateway.port() + "/twilio")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode(), "plain GET on a WebSocket path");
      a.ws.sendClose(1000, "").join();
      b.ws.sendClose(1000, "").join();
    }
  }
}
