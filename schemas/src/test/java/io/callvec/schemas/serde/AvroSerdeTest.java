package io.callvec.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.CallEndReason;
import io.callvec.schemas.Fixtures;
import io.callvec.schemas.SchemaHistory;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {

  private static final String TOPIC = "callvec.audio";

  private static Schema testSchema(String file) throws IOException {
    try (InputStream in = AvroSerdeTest.class.getResourceAsStream("/io/callvec/schemas/testschemas/" + file)) {
      return new Schema.Parser().parse(in);
    }
  }

  private static GenericRecord genericChunk(Schema schema, String encodingSymbol) {
    Schema channel = schema.getField("channel").schema();
    GenericRecordBuilder b = new GenericRecordBuilder(schema)
        .set("callId", "CA-old")
        .set("channel", new GenericRecordBuilder(channel).set("index", 0).set("name", "agent").build())
        .set("sequenceNumber", 42L)
        .set("mediaTimestampMs", 840L)
        .set("encoding", new GenericData.EnumSymbol(schema.getField("encoding").schema(), encodingSymbol))
        .set("sampleRateHz", 8000)
        .set("payload", ByteBuffer.wrap(new byte[] {1, 2, 3}));
    return b.build();
  }

  private static byte[] encodeGeneric(Schema writer, GenericRecord record) throws IOException {
    ByteBuffer b = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), writer).encode(record);
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  @Test
  void audioChunkRoundTripsWithAndWithoutOptionalFields() {
    AvroSerde<AudioChunk> serde = CallvecSerdes.audioChunk();
    for (boolean withMetadata : new boolean[] {true, false}) {
      AudioChunk chunk = Fixtures.audioChunk(11, withMetadata);
      byte[] bytes = serde.serializer().serialize(TOPIC, chunk);
      AudioChunk back = serde.deserializer().deserialize(TOPIC, bytes);
      assertEquals(chunk, back);
      assertEquals(withMetadata ? "+15550100" : null, back.getMetadata() == null ? null : back.getMetadata().get("from"));
      assertEquals(String.class, back.getCallId().getClass(), "stringType String must give java.lang.String");
    }
  }

  @Test
  void wireFormatIsSingleObjectEncodingWithCurrentFingerprint() {
    AvroSerde<AudioChunk> serde = CallvecSerdes.audioChunk();
    byte[] bytes = serde.encode(Fixtures.audioChunk(3, false));
    assertEquals((byte) 0xC3, bytes[0]);
    assertEquals((byte) 0x01, bytes[1]);
    assertEquals(SchemaHistory.fingerprint(AudioChunk.getClassSchema()), AvroSerde.writerFingerprint(bytes));
    // The generated class's own encoder writes the same bytes: other Avro single-object readers interoperate.
    assertArrayEquals(bytes, toArray(Fixtures.audioChunk(3, false)));
  }

  private static byte[] toArray(AudioChunk c) {
    try {
      ByteBuffer b = c.toByteBuffer();
      byte[] out = new byte[b.remaining()];
      b.get(out);
      return out;
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void embeddingsRoundTripWithVectorsIntact() {
    SegmentEmbedding seg = Fixtures.segmentEmbedding(5, 1024);
    AvroSerde<SegmentEmbedding> segSerde = CallvecSerdes.segmentEmbedding();
    byte[] segBytes = segSerde.encode(seg);
    SegmentEmbedding segBack = segSerde.decode(segBytes);
    assertEquals(seg, segBack);
    assertArrayEquals(Fixtures.vector(5, 1024), Vectors.fromBytes(segBack.getVector(), segBack.getDimension()));
    assertTrue(segBytes.length > 4096 && segBytes.length < 4096 + 300, "size " + segBytes.length);

    CallEmbedding call = Fixtures.callEmbedding(9, 256);
    AvroSerde<CallEmbedding> callSerde = CallvecSerdes.callEmbedding();
    CallEmbedding callBack = callSerde.deserializer().deserialize(TOPIC, new RecordHeaders(), callSerde.encode(call));
    assertEquals(call, callBack);
    assertEquals(CallEndReason.IDLE_TIMEOUT, callBack.getEndReason());
    assertArrayEquals(Fixtures.vector(9, 256), Vectors.fromBytes(callBack.getVector(), 256));
  }

  @Test
  void olderWriterSchemaDecodesWithDefaults() throws IOException {
    Schema v0 = testSchema("AudioChunk-v0.avsc");
    byte[] bytes = encodeGeneric(v0, genericChunk(v0, "ALAW"));

    // Unknown to the default serde: a clear error naming the fingerprint and where to add the schema.
    SerializationException e = assertThrows(SerializationException.class,
        () -> CallvecSerdes.audioChunk().deserializer().deserialize(TOPIC, bytes));
    assertTrue(e.getMessage().contains(String.format("0x%016X", SchemaHistory.fingerprint(v0))), e.getMessage());
    assertTrue(e.getMessage().contains("history/AudioChunk-v<N>.avsc"), e.getMessage());
    assertTrue(e.getMessage().contains(TOPIC), e.getMessage());

    AvroSerde<AudioChunk> serde = AvroSerde.of(AudioChunk.class, List.of(v0));
    AudioChunk back = serde.deserializer().deserialize(TOPIC, bytes);
    assertEquals("CA-old", back.getCallId());
    assertEquals(0, back.getChannel().getIndex());
    assertEquals("agent", back.getChannel().getName());
    assertEquals(42L, back.getSequenceNumber());
    assertEquals(840L, back.getMediaTimestampMs());
    assertEquals(AudioEncoding.ALAW, back.getEncoding());
    assertEquals(ByteBuffer.wrap(new byte[] {1, 2, 3}), back.getPayload());
    assertFalse(back.getEndOfStream(), "default of the field the old writer lacks");
    assertNull(back.getMetadata(), "default of the field the old writer lacks");
  }

  @Test
  void newerWriterSchemaDecodesUnknownEnumSymbolAsDefaultAndDropsNewField() throws IOException {
    Schema future = testSchema("AudioChunk-future.avsc");
    GenericRecord rec = genericChunk(future, "OPUS");
    rec.put("endOfStream", true);
    rec.put("metadata", Map.of("to", "+15550111"));
    rec.put("codecFrameMs", 20);
    byte[] bytes = encodeGeneric(future, rec);
    AudioChunk back = AvroSerde.of(AudioChunk.class, List.of(future)).decode(bytes);
    assertEquals(AudioEncoding.UNKNOWN, back.getEncoding());
    assertTrue(back.getEndOfStream());
    assertEquals(Map.of("to", "+15550111"), back.getMetadata());
  }

  @Test
  void incompatibleOrForeignExtraSchemasAreRefusedUpFront() throws IOException {
    Schema bad = testSchema("AudioChunk-incompatible.avsc");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AvroSerde.of(AudioChunk.class, List.of(bad)));
    assertTrue(e.getMessage().contains("cannot be read with the current schema"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> AvroSerde.of(AudioChunk.class, List.of(CallEmbedding.getClassSchema())));
  }

  @Test
  void nullIsATombstoneOnWriteAndAnErrorOnReadUnlessAllowed() {
    AvroSerde<AudioChunk> serde = CallvecSerdes.audioChunk();
    assertNull(serde.serializer().serialize(TOPIC, null));
    SerializationException e = assertThrows(SerializationException.class,
        () -> serde.deserializer().deserialize(TOPIC, null));
    assertTrue(e.getMessage().startsWith("null value on topic " + TOPIC), e.getMessage());
    assertNull(serde.allowingNull().deserializer().deserialize(TOPIC, null));
  }

  @Test
  void badInputsAreSerializationExceptionsWithClearMessages() {
    AvroSerde<AudioChunk> serde = CallvecSerdes.audioChunk();
    byte[] good = serde.encode(Fixtures.audioChunk(21, true));

    assertMessage(serde, new byte[0], "truncated AudioChunk on topic " + TOPIC + ": 0 bytes");
    assertMessage(serde, Arrays.copyOf(good, 6), "truncated AudioChunk on topic " + TOPIC + ": 6 bytes");

    byte[] json = "{\"callId\":\"x\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertMessage(serde, json, "bad header in AudioChunk on topic " + TOPIC + ": found 7B 22, expected C3 01");

    byte[] confluent = new byte[] {0, 0, 0, 0, 7, 2, 'a', 2, 'b', 0, 0, 0};
    assertMessage(serde, confluent, "Confluent Schema Registry wire format");

    byte[] otherType = CallvecSerdes.callEmbedding().encode(Fixtures.callEmbedding(1, 8));
    assertMessage(serde, otherType, "unknown writer schema fingerprint");

    assertMessage(serde, Arrays.copyOf(good, good.length - 5), "corrupt or truncated AudioChunk");

    byte[] trailing = Arrays.copyOf(good, good.length + 3);
    assertMessage(serde, trailing, "trailing bytes after the record");

    // A hostile length prefix: callId claims 1 GiB (zig-zag varint) in a 20-byte message.
    byte[] hostile = Arrays.copyOf(good, 20);
    byte[] len = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08};
    System.arraycopy(len, 0, hostile, 10, len.length);
    assertMessage(serde, hostile, "corrupt or truncated AudioChunk");
  }

  private static void assertMessage(AvroSerde<AudioChunk> serde, byte[] data, String expected) {
    SerializationException e = assertThrows(SerializationException.class,
        () -> serde.deserializer().deserialize(TOPIC, data));
    assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
  }

  @Test
  void encodingARecordWithAMissingRequiredFieldIsASerializationException() {
    AudioChunk broken = Fixtures.audioChunk(2, false);
    broken.setCallId(null);
    SerializationException e = assertThrows(SerializationException.class,
        () -> CallvecSerdes.audioChunk().serializer().serialize(TOPIC, broken));
    assertTrue(e.getMessage().startsWith("cannot encode AudioChunk on topic " + TOPIC), e.getMessage());
  }

  @Test
  void historySchemasAreReadable() {
    AvroSerde<AudioChunk> serde = CallvecSerdes.audioChunk();
    long current = SchemaHistory.fingerprint(AudioChunk.getClassSchema());
    assertEquals(current, SchemaHistory.fingerprint(serde.readableWriterSchemas().get(0)));
    for (Schema s : SchemaHistory.versions("AudioChunk")) {
      assertTrue(serde.readableWriterSchemas().stream()
          .anyMatch(r -> SchemaHistory.fingerprint(r) == SchemaHistory.fingerprint(s)));
    }
  }
}
