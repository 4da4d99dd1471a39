package io.callvec.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.broker.LocalKafkaCluster;
import io.callvec.schemas.AudioChunk;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Kafka goes away in the middle of a call: the connection's buffer fills (at most
 * {@code maxBufferedChunks} records unacknowledged), the gateway stops reading the socket, and once
 * the broker is back every frame arrives: nothing dropped.
 */
class BackpressureTest {
  static final String TOPIC = "backpressure-audio";

  @Test
  void aStoppedBrokerStopsReadingAndLosesNothing() throws Exception {
    byte[] audio = GatewayFixture.prompt("hello-world");
    try (LocalKafkaCluster kafka = LocalKafkaCluster.startSingleNode()) {
      kafka.createTopics(1, TOPIC);
      GatewaySettings s = GatewaySettings.insecureDefaults(TOPIC).withLimits(10, 64 * 1024, Duration.ofSeconds(120), 8);
      try (GatewayFixture f = new GatewayFixture(kafka, TOPIC, s)) {
        TwilioMessages tw = new TwilioMessages("CAbackpressure000000000000000000", "MZbp");
        GatewayFixture.Client c = f.connect(IngestGateway.TWILIO_PATH, Map.of());
        c.text(tw.start("inbound"));
        List<byte[]> frames = TwilioMessages.frames(audio);
        int firstHalf = frames.size() / 2;
        for (int i = 0; i < firstHalf; i++) {
          c.text(tw.media("inbound", i + 1, i * 20L, frames.get(i)));
        }
        // The broker goes away once the first half is acknowledged: stopped any earlier, the
        // producer may not even have the topic's metadata yet, and its first send then fails
        // (metadata timeout) instead of waiting in the buffer (seen under load in CI).
        long acked = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (f.counter("callvec.gateway.chunks.sent", "protocol", "twilio") < firstHalf && System.nanoTime() < acked) {
          Thread.sleep(20);
        }
        assertTrue(f.counter("callvec.gateway.chunks.sent", "protocol", "twilio") >= firstHalf,
            "the first half acknowledged before the broker stops");
        kafka.stopNode(0);
        CompletableFuture<Void> rest = CompletableFuture.runAsync(() -> {
          for (int i = firstHalf; i < frames.size(); i++) {
            c.text(tw.media("inbound", i + 1, i * 20L, frames.get(i)));
          }
          c.text(tw.stop());
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (f.counter("callvec.gateway.backpressure.pauses", "protocol", "twilio") == 0 && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertTrue(f.counter("callvec.gateway.backpressure.pauses", "protocol", "twilio") >= 1, "the connection stopped being read");
        double buffered = f.registry.find("callvec.gateway.buffered.chunks").gauge().value();
        assertTrue(buffered <= 8 + 1, "buffer bounded by max-buffered-chunks (+ one message's records): " + buffered);
        kafka.startNode(0);
        rest.get(60, TimeUnit.SECONDS);
        List<ConsumerRecord<String, AudioChunk>> recs = f.readCall(tw.callSid, 1);
        TwilioGatewayTest.checkTrack(recs, 0, "inbound", audio, 20);
        assertEquals(0, f.counter("callvec.gateway.send.failures", "protocol", "twilio"));
      }
    }
  }
}
