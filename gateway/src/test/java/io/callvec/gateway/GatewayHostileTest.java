package io.callvec.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.AudioChunk;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hostile clients against one gateway while a well-behaved Twilio call streams through it: each gets
 * its documented close code and metric, and the good call's records arrive whole.
 */
class GatewayHostileTest {
  private static final Logger log = LoggerFactory.getLogger(GatewayHostileTest.class);
  static final String TOPIC = "hostile-audio";
  @RegisterExtension static final TestBroker BROKER = new TestBroker(TOPIC, 2);

  @Test
  void eachHostileClientGetsItsAnswerAndTheGoodCallIsUndisturbed() throws Exception {
    GatewaySettings s = GatewaySettings.insecureDefaults(TOPIC).withLimits(100, 64 * 1024, Duration.ofSeconds(2), 250);
    byte[] inbound = GatewayFixture.prompt("hello-world");
    byte[] outbound = GatewayFixture.prompt("agent-loggedoff");
    try (GatewayFixture f = new GatewayFixture(BROKER.kafka(), TOPIC, s)) {
      TwilioMessages good = new TwilioMessages("CAgood000000000000000000000000000", "MZgood");
      GatewayFixture.Client goodClient = f.connect(IngestGateway.TWILIO_PATH, Map.of());
      List<String> goodMessages = good.call(inbound, outbound);
      CompletableFuture<Void> goodCall = CompletableFuture.runAsync(() -> {
        for (String m : goodMessages) {
          goodClient.text(m);
          try {
            Thread.sleep(4); // paced, so that the call spans the hostile clients below
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      });

      // Twilio
      assertEquals(1007, hostileTwilio(f, "{not json"), "malformed JSON");
      assertEquals(1008, hostileTwilio(f, new TwilioMessages("CAx", "MZx").media("inbound", 1, 0, new byte[160])), "media before start");
      TwilioMessages b64 = new TwilioMessages("CAb64", "MZb64");
      assertEquals(1007, hostileTwilio(f, b64.start("inbound"), b64.media("inbound", 1, 0, new byte[160]).replaceAll("\"payload\":\"[^\"]*\"",
          "\"payload\":\"%%not*base64%%\"")), "bad base64");
      int oversize = hostileTwilio(f, "{\"event\":\"media\",\"pad\":\"" + "x".repeat(100_000) + "\"}");
      if (oversize == CONNECTION_BROKEN) {
        // The gateway closed while this client was still writing the 100 kB frame: the JDK client then
        // reports the broken pipe instead of the close frame. The gateway's own count says what it answered.
        assertEquals(1, f.counter("callvec.gateway.protocol.errors", "protocol", "twilio", "reason", "oversize"), "oversize message");
      } else {
        assertEquals(1009, oversize, "oversize message");
      }
      assertEquals(1008, hostileTwilio(f, "[1,2,3]"), "JSON without event");
      GatewayFixture.Client bin = f.connect(IngestGateway.TWILIO_PATH, Map.of());
      bin.binary(new byte[160]);
      assertEquals(1003, bin.awaitClose(), "binary frame on Twilio");

      TwilioMessages unknown = new TwilioMessages("CAunknown00000000000000000000000", "MZunknown");
      GatewayFixture.Client u = f.connect(IngestGateway.TWILIO_PATH, Map.of());
      u.text("{\"event\":\"transcription\",\"streamSid\":\"MZunknown\"}");
      u.text(unknown.start("inbound"));
      u.text(unknown.media("inbound", 1, 0, new byte[160]));
      u.text(unknown.stop());
      assertEquals(2, f.readCall(unknown.callSid, 1).size(), "an unknown event is ignored: the stream goes on");

      // AudioHook
      GatewayFixture.Client early = f.connect(IngestGateway.AUDIOHOOK_PATH, Map.of());
      early.binary(new byte[320]);
      assertTrue(early.awaitText("\"disconnect\"").contains("\"reason\":\"error\""));
      assertEquals(1008, early.awaitClose(), "audio before open");
      GatewayFixture.Client badJson = f.connect(IngestGateway.AUDIOHOOK_PATH, Map.of());
      badJson.text("{\"version\":\"2\",");
      assertEquals(1007, badJson.awaitClose(), "AudioHook malformed JSON");
      AudioHookMessages ah = new AudioHookMessages("aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000001");
      GatewayFixture.Client odd = f.connect(IngestGateway.AUDIOHOOK_PATH, Map.of());
      odd.text(ah.open(null));
      odd.awaitText("\"opened\"");
      odd.binary(new byte[3]);
      assertEquals(1007, odd.awaitClose(), "a frame that is not whole stereo samples");
      GatewayFixture.Client unsupported = f.connect(IngestGateway.AUDIOHOOK_PATH, Map.of());
      unsupported.text(new AudioHookMessages("cccccccc-0000-4000-8000-000000000001", "dddddddd-0000-4000-8000-000000000001").open(null)
          .replace("\"rate\":8000", "\"rate\":16000"));
      assertEquals(1003, unsupported.awaitClose(), "no acceptable media offer");

      // a silent client is closed by the idle timeout (2 s here)
      GatewayFixture.Client silent = f.connect(IngestGateway.TWILIO_PATH, Map.of());
      silent.text(new TwilioMessages("CAsilent", "MZsilent").connected());
      int idleCode = silent.awaitClose();
      assertEquals(1001, idleCode, "idle timeout closes with 1001");

      goodCall.get(60, TimeUnit.SECONDS);
      List<ConsumerRecord<String, AudioChunk>> recs = f.readCall(good.callSid, 2);
      TwilioGatewayTest.checkTrack(recs, 0, "inbound", inbound, 20);
      TwilioGatewayTest.checkTrack(recs, 1, "outbound", outbound, 20);

      assertEquals(1, f.counter("callvec.gateway.protocol.errors", "protocol", "twilio", "reason", "malformed_json"));
      assertEquals(1, f.counter("callvec.gateway.protocol.errors", "protocol", "twilio", "reason", "media_before_start"));
      assertEquals(1, f.counter("callvec.gateway.protocol.errors", "protocol", "twilio", "reason", "bad_base64"));
      assertEquals(1, f.counter("callvec.gateway.protocol.errors", "protocol", "twilio", "reason", "oversize"));
      assertEquals(1, f.counter("callvec.gateway.protocol.errors", "protocol", "twilio", "reason", "unknown_event"));
      assertEquals(1, f.counter("callvec.gateway.protocol.errors", "protocol", "audiohook", "reason", "media_before_start"));
      assertEquals(1, f.counter("callvec.gateway.protocol.errors", "protocol", "audiohook", "reason", "bad_frame"));
      // the silent client, and any test client left open after its stream ended
      assertTrue(f.counter("callvec.gateway.protocol.errors", "protocol", "twilio", "reason", "idle_timeout") >= 1);
    }
  }

  /** Opens a Twilio connection, sends the messages, returns the close code the gateway answered with. */
  private static int hostileTwilio(GatewayFixture f, String... messages) {
    GatewayFixture.Client c = f.connect(IngestGateway.TWILIO_PATH, Map.of());
    for (String m : messages) {
      try {
        c.text(m);
      } catch (CompletionException e) {
        // The gateway's answer may close the connection while this client is still sending (a 100 kB
        // message, 1009): the send then fails with "closed output"; the close code below is what counts.
        log.info("hostile client: sending ended by the gateway's close: {}", e.getCause().toString());
        break;
      }
    }
    int code;
    try {
      code = c.awaitClose();
    } catch (CompletionException e) {
      if (!(e.getCause() instanceof java.io.IOException)) {
        throw e;
      }
      log.info("hostile client: connection broken before the close frame reached it: {}", e.getCause().toString());
      return CONNECTION_BROKEN;
    }
    log.info("hostile client closed with {} ({})", code, c.closeReason);
    return code;
  }

  /** What {@link #hostileTwilio} returns when the connection broke (the client saw no close frame). */
  private static final int CONNECTION_BROKEN = -1;

  @Test
  void aClientThatStopsReadingIsDisconnectedAlone() throws Exception {
    try (GatewayFixture f = new GatewayFixture(BROKER.kafka(), TOPIC, GatewaySettings.insecureDefaults(TOPIC))) {
      CompletableFuture<Void> opened = new CompletableFuture<>();
      WebSocket ws = f.http.newWebSocketBuilder().buildAsync(f.uri(IngestGateway.AUDIOHOOK_PATH), new WebSocket.Listener() {
        @Override
        public void onOpen(WebSocket w) {
          w.request(1);
        }

        @Override
        public CompletableFuture<?> onText(WebSocket w, CharSequence data, boolean last) {
          opened.complete(null); // and never request more: the client stops reading
          return null;
        }
      }).join();
      AudioHookMessages ah = new AudioHookMessages("eeeeeeee-0000-4000-8000-000000000001", "ffffffff-0000-4000-8000-000000000001");
      ws.sendText(ah.open(null), true).join();
      opened.get(10, TimeUnit.SECONDS);
      int pings = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      try {
        while (f.counter("callvec.gateway.protocol.errors", "protocol", "audiohook", "reason", "send_failed") == 0 && System.nanoTime() < deadline) {
          ws.sendText(ah.ping(), true).get(10, TimeUnit.SECONDS);
          pings++;
        }
      } catch (CompletionException | java.util.concurrent.ExecutionException e) {
        log.info("sending failed after {} pings: {}", pings, e.toString());
      }
      log.info("client stopped reading: disconnected after {} pings", pings);
      assertTrue(f.counter("callvec.gateway.protocol.errors", "protocol", "audiohook", "reason", "send_failed") >= 1,
          "the gateway gave up on the client after " + pings + " unread pongs");
      // the gateway still serves others
      TwilioMessages tw = new TwilioMessages("CAafter0000000000000000000000000", "MZafter");
      GatewayFixture.Client c = f.connect(IngestGateway.TWILIO_PATH, Map.of());
      c.text(tw.start("inbound"));
      c.text(tw.media("inbound", 1, 0, new byte[160]));
      c.text(tw.stop());
      assertEquals(2, f.readCall(tw.callSid, 1).size());
      ws.abort();
    }
  }
}
