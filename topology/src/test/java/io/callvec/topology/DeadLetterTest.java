package io.callvec.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.Channel;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import io.callvec.topology.internals.CallProcessor;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/** Bad input goes to the dead-letter topic with a reason; the app keeps going and other calls are unaffected. */
class DeadLetterTest {

  private static AudioChunk.Builder chunk(String callId, long seq) {
    return AudioChunk.newBuilder()
        .setCallId(callId)
        .setChannel(new Channel(0, "agent"))
        .setSequenceNumber(seq)
        .setMediaTimestampMs(seq * 20)
        .setEncoding(AudioEncoding.MULAW)
        .setSampleRateHz(8000)
        .setPayload(ByteBuffer.wrap(new byte[160]))
        .setEndOfStream(false);
  }

  private static String header(TestRecord<String, AudioChunk> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  @Test
  void everyKindOfBadRecordIsDeadLetteredWithItsReasonAndAGoodCallStillCompletes() throws Exception {
    try (TopologyHarness h = new TopologyHarness(Map.of("callvec.max.payload.bytes", "4000"))) {
      // A good call interleaved with the bad records.
      Recording good = TopologyHarness.stream("good", 0, 5_500, 11);
      List<AudioChunk> goodChunks = Chunker.chunks(good, Chunker.Options.realTime());
      h.pipe(goodChunks.subList(0, 100));

      Map<String, Runnable> cases = new LinkedHashMap<>();
      cases.put("NULL_KEY", () -> h.input.pipeInput((String) null, chunk("k-null", 1).build()));
      cases.put("NULL_VALUE", () -> h.input.pipeInput("tomb", (AudioChunk) null));
      cases.put("INVALID_CALL_ID", () -> h.input.pipeInput("bad\u0001id", chunk("bad\u0001id", 1).build()));
      cases.put("CALL_ID_TOO_LONG", () -> { String id = "x".repeat(1 << 20); h.input.pipeInput(id, chunk(id, 1).build()); });
      cases.put("KEY_MISMATCH", () -> h.input.pipeInput("other-key", chunk("keyed-otherwise", 1).build()));
      cases.put("INVALID_CHANNEL", () -> h.input.pipeInput("ch", chunk("ch", 1).setChannel(new Channel(99, "x")).build()));
      cases.put("INVALID_SEQUENCE", () -> h.input.pipeInput("neg", chunk("neg", -5).setMediaTimestampMs(0).build()));
      cases.put("INVALID_TIMESTAMP", () -> h.input.pipeInput("ts", chunk("ts", 1).setMediaTimestampMs(-20).build()));
      cases.put("UNKNOWN_ENCODING", () -> h.input.pipeInput("enc", chunk("enc", 1).setEncoding(AudioEncoding.UNKNOWN).build()));
      cases.put("UNSUPPORTED_SAMPLE_RATE", () -> h.input.pipeInput("rate", chunk("rate", 1).setSampleRateHz(0).build()));
      cases.put("UNSUPPORTED_SAMPLE_RATE ", () -> h.input.pipeInput("rate2", chunk("rate2", 1).setSampleRateHz(2_000_000_000).build()));
      cases.put("EMPTY_PAYLOAD", () -> h.input.pipeInput("empty", chunk("empty", 1).setPayload(ByteBuffer.allocate(0)).build()));
      cases.put("ODD_PCM16_PAYLOAD", () -> h.input.pipeInput("odd", chunk("odd", 1).setEncoding(AudioEncoding.PCM_S16LE).setPayload(ByteBuffer.allocate(321)).build()));
      cases.put("OVERSIZE_PAYLOAD", () -> h.input.pipeInput("big", chunk("big", 1).setPayload(ByteBuffer.allocate(4001)).build()));
      cases.put("FORMAT_CHANGED", () -> h.input.pipeInput("good", chunk("good", 100_000).setMediaTimestampMs(2_000).setSampleRateHz(16000).build()));
      cases.put("DUPLICATE", () -> h.input.pipeInput("good", goodChunks.get(50)));
      cases.put("TOO_LATE", () -> h.input.pipeInput("good", chunk("good", 100_001).setMediaTimestampMs(100).build()));

      List<String> expected = new ArrayList<>();
      for (var e : cases.entrySet()) {
        e.getValue().run();
        expected.add(e.getKey().trim());
      }
      // Bytes that are not an AudioChunk at all: Kafka Streams' deserialization handler skips them (and, on a
      // real broker, dead-letters them with __streams.errors.* headers: TopologyTestDriver does not send those;
      // the integration test checks it).
      TestInputTopic<String, byte[]> raw = h.driver.createInputTopic(h.settings.inputTopic(), new StringSerializer(), new ByteArraySerializer());
      raw.pipeInput("garbage", "not avro at all".getBytes(StandardCharsets.UTF_8));

      h.pipe(goodChunks.subList(100, goodChunks.size()));
      // A chunk after the end of the good call.
      h.awaitCalls(1);
      h.input.pipeInput("good", chunk("good", 100_002).setMediaTimestampMs(9_000).build());
      expected.add("CHUNK_AFTER_END");

      var rawDlq = h.driver.createOutputTopic(h.settings.dlqTopic(), new org.apache.kafka.common.serialization.StringDeserializer(),
          new org.apache.kafka.common.serialization.ByteArrayDeserializer());
      var chunkDe = io.callvec.schemas.serde.CallvecSerdes.audioChunk().allowingNull().deserializer();
      List<TestRecord<String, AudioChunk>> dead = new ArrayList<>();
      for (TestRecord<String, byte[]> r : rawDlq.readRecordsToList()) {
        dead.add(new TestRecord<>(r.key(), chunkDe.deserialize(h.settings.dlqTopic(), r.value()), r.headers(), r.timestamp()));
      }
      List<String> reasons = new ArrayList<>();
      for (TestRecord<String, AudioChunk> r : dead) {
        String reason = header(r, CallProcessor.HEADER_REASON);
        reasons.add(reason);
        assertNotNull(header(r, CallProcessor.HEADER_DETAIL), reason);
        assertTrue(header(r, CallProcessor.HEADER_SOURCE).startsWith(h.settings.inputTopic() + "/0@"), reason);
      }
      assertEquals(expected, reasons);
      // The oversize id was cut to the documented limit in the dead letter.
      TestRecord<String, AudioChunk> longId = dead.get(expected.indexOf("CALL_ID_TOO_LONG"));
      assertEquals(TopologySettings.MAX_CALL_ID_CHARS, longId.value().getCallId().length());
      assertEquals(0, dead.get(expected.indexOf("OVERSIZE_PAYLOAD")).value().getPayload().remaining());

      assertEquals(expected.size(), (long) h.metrics.total("callvec.dead.letters"));
      assertEquals(1, h.callsSeen.size());
      assertEquals(1, h.segmentsSeen.size()); // [0,5); the 0.5 s tail is shorter than 1 s: dropped
      assertEquals("good", h.segmentsSeen.get(0).getCallId());
    }
  }
}
