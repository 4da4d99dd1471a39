package io.callvec.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real telephone prompts played over Twilio Media Streams by the JDK's WebSocket client, through the
 * gateway and a real broker: records keyed by callSid, one channel per track, sequence numbers and
 * timestamps from the messages, payload bytes equal to what was sent, end-of-stream on stop; with
 * 20 ms pass-through and 100 ms aggregation (whose record and byte counts per audio second are logged).
 */
class TwilioGatewayTest {
  private static final Logger log = LoggerFactory.getLogger(TwilioGatewayTest.class);
  static final String TOPIC = "twilio-audio";
  @RegisterExtension static final TestBroker BROKER = new TestBroker(TOPIC, 3);

  @Test
  void passThroughAndAggregatedCallsArriveWholeInKafka() throws Exception {
    byte[] inbound = GatewayFixture.prompt("hello-world");
    byte[] outbound = GatewayFixture.prompt("agent-loggedoff");
    double audioSeconds = (inbound.length + outbound.length) / 8000.0;
    long[][] perSecond = new long[2][];
    int[] chunkMs = {20, 100};
    for (int k = 0; k < chunkMs.length; k++) {
      int ms = chunkMs[k];
      try (GatewayFixture f = new GatewayFixture(BROKER.kafka(), TOPIC, GatewaySettings.insecureDefaults(TOPIC).withChunkMs(ms))) {
        String callSid = "CA" + ms + "0000000000000000000000000000000";
        TwilioMessages tw = new TwilioMessages(callSid, "MZ" + ms);
        GatewayFixture.Client c = f.connect(IngestGateway.TWILIO_PATH, Map.of());
        for (String m : tw.call(inbound, outbound)) {
          c.text(m);
        }
        List<ConsumerRecord<String, AudioChunk>> recs = f.readCall(callSid, 2);
        c.ws.sendClose(1000, "done").join();
        assertEquals(1, recs.stream().map(ConsumerRecord::partition).collect(Collectors.toSet()).size(), "one call, one partition");
        checkTrack(recs, 0, "inbound", inbound, ms);
        checkTrack(recs, 1, "outbound", outbound, ms);
        long bytes = recs.stream().mapToLong(r -> r.serializedValueSize() + r.serializedKeySize()).sum();
        perSecond[k] = new long[] {recs.size(), bytes};
        log.info(String.format(java.util.Locale.ROOT, "chunk %d ms: %d records, %d bytes (key+value) for %.2f s of audio = %.1f records/s, %.0f bytes/s",
            ms, recs.size(), bytes, audioSeconds, recs.size() / audioSeconds, bytes / audioSeconds));
        assertEquals(recs.size(), (long) f.counter("callvec.gateway.chunks.sent", "protocol", "twilio"));
        assertEquals(2, (long) f.counter("callvec.gateway.streams.ended", "protocol", "twilio"));
        assertEquals(inbound.length + outbound.length, (long) f.counter("callvec.gateway.payload.bytes", "protocol", "twilio"));
      }
    }
    // 100 ms records: about a fifth of the records of 20 ms ones, and fewer bytes (less per-record overhead)
    double recordRatio = (double) perSecond[1][0] / perSecond[0][0];
    double byteRatio = (double) perSecond[1][1] / perSecond[0][1];
    log.info(String.format(java.util.Locale.ROOT, "aggregation 100 ms vs 20 ms: records x%.3f, bytes x%.3f", recordRatio, byteRatio));
    assertTrue(recordRatio < 0.25, "records ratio " + recordRatio);
    assertTrue(byteRatio < 0.9, "bytes ratio " + byteRatio);
  }

  /** The channel's records in sequence order: contiguous audio equal to {@code audio}, then end-of-stream. */
  static void checkTrack(List<ConsumerRecord<String, AudioChunk>> recs, int index, String name, byte[] audio, int chunkMs) {
    List<AudioChunk> ch = recs.stream().map(ConsumerRecord::value).filter(c -> c.getChannel().getIndex() == index)
        .sorted(Comparator.comparingLong(AudioChunk::getSequenceNumber)).toList();
    int framesPerRecord = chunkMs / 20;
    int frames = (audio.length + 159) / 160;
    int expectedAudioRecords = (frames + framesPerRecord - 1) / framesPerRecord;
    assertEquals(expectedAudioRecords + 1, ch.size(), name + " records");
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    for (int i = 0; i < expectedAudioRecords; i++) {
      AudioChunk c = ch.get(i);
      assertEquals(name, c.getChannel().getName());
      assertEquals(1 + (long) i * framesPerRecord, c.getSequenceNumber(), name + " record " + i + " sequence = its first frame's chunk");
      assertEquals((long) i * chunkMs, c.getMediaTimestampMs(), name + " record " + i + " timestamp");
      assertEquals(AudioEncoding.MULAW, c.getEncoding());
      assertEquals(8000, c.getSampleRateHz());
      assertFalse(c.getEndOfStream());
      ByteBuffer p = c.getPayload().duplicate();
      byte[] b = new byte[p.remaining()];
      p.get(b);
      got.writeBytes(b);
      if (i == 0) {
        assertEquals("twilio", c.getMetadata().get("source"));
        assertEquals("spring", c.getMetadata().get("param.campaign"));
        assertTrue(c.getMetadata().get("streamSid").startsWith("MZ"));
      } else {
        assertEquals(null, c.getMetadata());
      }
    }
    assertArrayEquals(audio, got.toByteArray(), name + " payload bytes equal what was sent");
    AudioChunk end = ch.get(ch.size() - 1);
    assertTrue(end.getEndOfStream(), name + " ends with end-of-stream");
    assertEquals(0, end.getPayload().remaining());
    assertEquals(frames + 1L, end.getSequenceNumber(), name + " end-of-stream sequence follows the last frame's chunk");
    assertEquals((long) audio.length * 1000 / 8000, end.getMediaTimestampMs(), name + " end-of-stream at the end of the audio");
    assertEquals(Set.of(index), ch.stream().map(c -> c.getChannel().getIndex()).collect(Collectors.toSet()));
  }
}
