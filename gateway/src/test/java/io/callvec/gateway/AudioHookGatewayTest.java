package io.callvec.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Real telephone prompts played over Genesys AudioHook by the JDK's WebSocket client: open/opened,
 * stereo PCMU binary frames, ping/pong, paused/resumed with discarded audio, discarded, close/closed;
 * and a dropped connection continued by a new session naming it in continuedSessions.
 */
class AudioHookGatewayTest {
  static final String TOPIC = "audiohook-audio";
  @RegisterExtension static final TestBroker BROKER = new TestBroker(TOPIC, 3);

  @Test
  void sessionWithPauseAndDiscardArrivesWholeInKafka() throws Exception {
    byte[] external = GatewayFixture.prompt("hello-world");
    byte[] internal = GatewayFixture.prompt("agent-loggedoff");
    int samples = Math.max(external.length, internal.length);
    samples -= samples % 160; // whole 20 ms records, to check each one
    byte[] ext = Arrays.copyOf(pad(external, samples), samples);
    byte[] in = Arrays.copyOf(pad(internal, samples), samples);
    try (GatewayFixture f = new GatewayFixture(BROKER.kafka(), TOPIC, GatewaySettings.insecureDefaults(TOPIC))) {
      AudioHookMessages ah = new AudioHookMessages("e160e428-53e2-487c-977d-96989bf5c99d", "090eaa2f-72fa-480a-83e0-8667ff89c0ec");
      GatewayFixture.Client c = f.connect(IngestGateway.AUDIOHOOK_PATH, Map.of("Audiohook-Organization-Id", "d7934305-0972-4844-938e-9060eef73d05",
          "Audiohook-Session-Id", ah.sessionId, "Audiohook-Correlation-Id", "30b0e395-84d3-4570-ac13-9a62d8f514c0"));
      c.text(ah.open(null));
      String opened = c.awaitText("\"opened\"");
      assertTrue(opened.contains("\"format\":\"PCMU\"") && opened.contains("[\"external\",\"internal\"]"), opened);
      ah.serverSeq = 1;
      int half = samples / 2 - (samples / 2) % 800; // a frame boundary
      int frame = 800; // 100 ms frames
      for (int at = 0; at < samples; at += frame) {
        if (at == half) {
          c.text(ah.ping());
          c.awaitText("\"pong\"");
          ah.serverSeq++;
          c.text(ah.paused());
          c.text(ah.resumed(1500)); // 1.5 s on hold, not sent
          c.text(ah.discarded(200)); // and 200 ms lost
        }
        int n = Math.min(frame, samples - at);
        c.binary(AudioHookMessages.interleave(ext, in, at, n));
        ah.positionMs += n / 8;
      }
      c.text(ah.close("end"));
      c.awaitText("\"closed\"");
      c.ws.sendClose(1000, "").join();
      List<ConsumerRecord<String, AudioChunk>> recs = f.readCall(ah.conversationId, 2);
      check(recs, 0, "external", ext, half, 1700);
      check(recs, 1, "internal", in, half, 1700);
      AudioChunk first = recs.stream().map(ConsumerRecord::value).filter(x -> x.getSequenceNumber() == 0).findFirst().orElseThrow();
      assertEquals("audiohook", first.getMetadata().get("source"));
      assertEquals("+1-555-555-1234", first.getMetadata().get("participant.ani"));
      assertEquals("support", first.getMetadata().get("config.queue"));
      assertEquals(ah.sessionId, first.getMetadata().get("sessionId"));
      assertEquals(1, f.counter("callvec.gateway.audiohook.events", "type", "ping"));
      assertEquals(1, f.counter("callvec.gateway.audiohook.events", "type", "resumed"));
    }
  }

  @Test
  void droppedSessionIsContinuedByItsReconnection() throws Exception {
    byte[] external = GatewayFixture.prompt("hello-world");
    byte[] internal = GatewayFixture.prompt("agent-loggedoff");
    int samples = 8000; // 1 s per session
    try (GatewayFixture f = new GatewayFixture(BROKER.kafka(), TOPIC, GatewaySettings.insecureDefaults(TOPIC))) {
      String conv = "5b1e6f3c-9a51-4c1b-8f8d-3f3f3a2d9e01";
      AudioHookMessages first = new AudioHookMessages("11111111-2222-3333-4444-555555555555", conv);
      GatewayFixture.Client c1 = f.connect(IngestGateway.AUDIOHOOK_PATH, Map.of());
      c1.text(first.open(null));
      c1.awaitText("\"opened\"");
      for (int at = 0; at < samples; at += 800) {
        c1.binary(AudioHookMessages.interleave(external, internal, at, 800));
      }
      c1.ws.abort(); // the network drops: no close message
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (f.gateway.connections() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      AudioHookMessages second = new AudioHookMessages("66666666-7777-8888-9999-000000000000", conv);
      GatewayFixture.Client c2 = f.connect(IngestGateway.AUDIOHOOK_PATH, Map.of());
      c2.text(second.open("[{\"id\":\"" + first.sessionId + "\",\"serverseq\":1,\"clientseq\":1}]"));
      c2.awaitText("\"opened\"");
      for (int at = samples; at < 2 * samples; at += 800) {
        c2.binary(AudioHookMessages.interleave(external, internal, at, 800));
      }
      c2.text(second.close("end"));
      c2.awaitText("\"closed\"");
      List<ConsumerRecord<String, AudioChunk>> recs = f.readCall(conv, 2);
      for (int ch = 0; ch < 2; ch++) {
        int index = ch;
        List<AudioChunk> l = recs.stream().map(ConsumerRecord::value).filter(x -> x.getChannel().getIndex() == index)
            .sorted(Comparator.comparingLong(AudioChunk::getSequenceNumber)).toList();
        assertEquals(2 * samples / 160 + 1, l.size(), "channel " + ch + ": both sessions' records and one end-of-stream");
        for (int i = 0; i < l.size(); i++) {
          assertEquals(i, l.get(i).getSequenceNumber(), "sequence numbers go on across the reconnection");
        }
        long resumedAt = l.get(samples / 160).getMediaTimestampMs();
        assertTrue(resumedAt >= 1000 && resumedAt < 11_000, "second session starts after the first on the timeline: " + resumedAt);
        assertTrue(l.get(l.size() - 1).getEndOfStream());
        assertEquals(1, l.stream().filter(AudioChunk::getEndOfStream).count());
        assertEquals(null, l.get(samples / 160).getMetadata(), "a continued stream carries no new first-record metadata");
      }
      assertEquals(1, f.counter("callvec.gateway.audiohook.events", "type", "continued"));
    }
  }

  private static byte[] pad(byte[] a, int n) {
    byte[] out = Arrays.copyOf(a, Math.max(n, a.length));
    Arrays.fill(out, a.length, out.length, (byte) 0xFF);
    return out;
  }

  /** 20 ms records 0..n-1, equal to the audio; timestamps jump by {@code skippedMs} at sample {@code skipAt}. */
  static void check(List<ConsumerRecord<String, AudioChunk>> recs, int index, String name, byte[] audio, int skipAt, long skippedMs) {
    List<AudioChunk> ch = recs.stream().map(ConsumerRecord::value).filter(c -> c.getChannel().getIndex() == index)
        .sorted(Comparator.comparingLong(AudioChunk::getSequenceNumber)).toList();
    int n = audio.length / 160;
    assertEquals(n + 1, ch.size(), name + " records");
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    for (int i = 0; i < n; i++) {
      AudioChunk c = ch.get(i);
      assertEquals(name, c.getChannel().getName());
      assertEquals(i, c.getSequenceNumber());
      long expectedTs = i * 20L + (i * 160 >= skipAt ? skippedMs : 0);
      assertEquals(expectedTs, c.getMediaTimestampMs(), name + " record " + i + " timestamp");
      assertEquals(AudioEncoding.MULAW, c.getEncoding());
      assertFalse(c.getEndOfStream());
      ByteBuffer p = c.getPayload().duplicate();
      byte[] b = new byte[p.remaining()];
      p.get(b);
      assertEquals(160, b.length);
      got.writeBytes(b);
    }
    assertArrayEquals(audio, got.toByteArray(), name + " payload bytes equal what was sent");
    AudioChunk end = ch.get(n);
    assertTrue(end.getEndOfStream());
    assertEquals(n, end.getSequenceNumber());
    assertEquals(n * 20L + skippedMs, end.getMediaTimestampMs());
  }
}
