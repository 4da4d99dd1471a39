package io.callvec.it.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.callvec.broker.LocalSchemaRegistry;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.Fixtures;
import io.callvec.schemas.SchemaHistory;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.registry.ConfluentAvroSerde;
import io.callvec.schemas.registry.ConfluentFraming;
import io.callvec.schemas.registry.RegistryClient;
import io.callvec.schemas.registry.RegistryRequestException;
import io.callvec.schemas.registry.RegistryUnavailableException;
import io.callvec.schemas.registry.UnknownSchemaIdException;
import io.callvec.schemas.registry.WrongMagicByteException;
import io.callvec.schemas.serde.CallvecSerdes;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Confluent serdes and the registry client against a real Schema Registry (Apicurio, one per
 * class): round trip, the schema history through the compatibility API, older and newer writer
 * schemas, unknown id, wrong magic, registry down at start, and a consumer that is not callvec.
 */
class ConfluentSerdeRegistryTest {
  /** The level schemas/README.md promises: every reader reads every writer, in both upgrade orders. */
  static final String PROMISED_LEVEL = "FULL_TRANSITIVE";

  @AutoClose static LocalSchemaRegistry registry;
  static RegistryClient client;

  @BeforeAll
  static void startRegistry() {
    registry = LocalSchemaRegistry.start();
    client = RegistryClient.fromConfig(RegistryFixtures.clientConfig(registry.url(), 5_000));
  }

  @Test
  void roundTripRegistersUnderTopicNameSubjectAndFramesWithItsId() {
    ConfluentAvroSerde<AudioChunk> serde = ConfluentAvroSerde.of(AudioChunk.class, client);
    AudioChunk chunk = Fixtures.audioChunk(1, true);
    byte[] bytes = serde.serializer().serialize("rt.chunks", chunk);
    assertEquals(0, bytes[0], "magic byte");
    int id = ConfluentFraming.schemaId(bytes, "test");
    assertEquals(id, client.lookup("rt.chunks-value", AudioChunk.getClassSchema()).orElseThrow(), "id registered under <topic>-value");
    assertEquals(chunk, serde.deserializer().deserialize("rt.chunks", bytes));

    ConfluentAvroSerde<SegmentEmbedding> seg = ConfluentAvroSerde.of(SegmentEmbedding.class, client);
    SegmentEmbedding s = Fixtures.segmentEmbedding(7, 32);
    assertEquals(s, seg.deserializer().deserialize("rt.segments", seg.serializer().serialize("rt.segments", s)));
    long before = client.requests();
    for (int i = 0; i < 100; i++) {
      seg.deserializer().deserialize("rt.segments", seg.serializer().serialize("rt.segments", s));
    }
    assertEquals(before, client.requests(), "ids and schemas are cached: no request per record");
  }

  @Test
  void withoutAutoRegistrationTheSchemaIsLookedUpAndAMissingOneFails() {
    Map<String, Object> c = RegistryFixtures.clientConfig(registry.url(), 5_000);
    c.put("auto.register.schemas", "false");
    ConfluentAvroSerde<CallEmbedding> serde = ConfluentAvroSerde.of(CallEmbedding.class, RegistryClient.fromConfig(c));
    RegistryRequestException e = assertThrows(RegistryRequestException.class, () -> serde.schemaIdFor("noauto.calls"));
    assertTrue(e.getMessage().contains("noauto.calls-value"), e.getMessage());
    int id = client.register("noauto.calls-value", CallEmbedding.getClassSchema());
    assertEquals(id, serde.schemaIdFor("noauto.calls"));
  }

  @Test
  void schemaHistoryPassesThePromisedLevelAndAnIncompatibleChangeIsRefused() {
    for (String record : List.of("AudioChunk", "SegmentEmbedding", "CallEmbedding")) {
      String subject = "history." + record + "-value";
      assertEquals(PROMISED_LEVEL, client.setCompatibility(Optional.of(subject), PROMISED_LEVEL));
      assertEquals(PROMISED_LEVEL, client.compatibility(Optional.of(subject)));
      List<Schema> versions = SchemaHistory.versions(record);
      assertFalse(versions.isEmpty(), record);
      for (Schema v : versions) {
        RegistryClient.Compatibility c = client.testCompatibility(subject, v);
        assertTrue(c.compatible(), record + ": " + c.messages());
        client.register(subject, v);
      }
    }
    String subject = "history.AudioChunk-value";
    for (String file : List.of("AudioChunk-v0.avsc", "AudioChunk-future.avsc")) {
      RegistryClient.Compatibility c = client.testCompatibility(subject, RegistryFixtures.testSchema(file));
      assertTrue(c.compatible(), file + ": " + c.messages());
    }
    Schema bad = RegistryFixtures.testSchema("AudioChunk-incompatible.avsc");
    RegistryClient.Compatibility c = client.testCompatibility(subject, bad);
    assertFalse(c.compatible(), "sequenceNumber long -> string must be refused");
    assertFalse(c.messages().isEmpty());
    RegistryRequestException refused = assertThrows(RegistryRequestException.class, () -> client.register(subject, bad));
    assertEquals(409, refused.status(), refused.getMessage());
  }

  /**
   * An AudioChunk of {@code writer}'s schema with the fields every version has: chunk {@code seq} of
   * 20 ms (media timestamp 20 × seq ms), encoding {@code encodingSymbol}.
   */
  private static GenericRecord genericChunk(Schema writer, String callId, GenericRecord channel, long seq, String encodingSymbol, int sampleRateHz,
      byte[] payload) {
    GenericRecord r = new GenericData.Record(writer);
    r.put("callId", callId);
    r.put("channel", channel);
    r.put("sequenceNumber", seq);
    r.put("mediaTimestampMs", 20 * seq);
    r.put("encoding", new GenericData.EnumSymbol(writer.getField("encoding").schema(), encodingSymbol));
    r.put("sampleRateHz", sampleRateHz);
    r.put("payload", ByteBuffer.wrap(payload));
    return r;
  }

  @Test
  void olderAndNewerWriterSchemasAreReadByIdIntoTheCurrentClass() {
    ConfluentAvroSerde<AudioChunk> serde = ConfluentAvroSerde.of(AudioChunk.class, client);
    Schema v0 = RegistryFixtures.testSchema("AudioChunk-v0.avsc");
    Schema future = RegistryFixtures.testSchema("AudioChunk-future.avsc");
    int v0Id = client.register("writers.old-value", v0);
    int futureId = client.register("writers.new-value", future);

    GenericRecord old = genericChunk(v0, "CA-old", channel(v0, 0, "agent"), 5L, "ALAW", 8000, new byte[] {1, 2, 3});
    AudioChunk a = serde.deserializer().deserialize("writers.old", RegistryFixtures.framed(v0Id, v0, old));
    assertEquals("CA-old", a.getCallId());
    assertEquals(AudioEncoding.ALAW, a.getEncoding());
    assertFalse(a.getEndOfStream(), "default filled in");
    assertNull(a.getMetadata(), "default filled in");

    GenericRecord next = genericChunk(future, "CA-new", channel(future, 1, "customer"), 6L, "OPUS", 16000, new byte[] {4, 5});
    next.put("endOfStream", true);
    next.put("metadata", null);
    next.put("codecFrameMs", 20);
    AudioChunk b = serde.deserializer().deserialize("writers.new", RegistryFixtures.framed(futureId, future, next));
    assertEquals("CA-new", b.getCallId());
    assertEquals(AudioEncoding.UNKNOWN, b.getEncoding(), "unknown symbol reads as the enum default");
    assertTrue(b.getEndOfStream());
    assertEquals(ByteBuffer.wrap(new byte[] {4, 5}), b.getPayload());
  }

  @Test
  void unknownIdAndWrongMagicAreTypedBadData() {
    ConfluentAvroSerde<AudioChunk> serde = ConfluentAvroSerde.of(AudioChunk.class, client);
    byte[] good = serde.serializer().serialize("bad.chunks", Fixtures.audioChunk(2, true));
    byte[] unknown = good.clone();
    unknown[1] = 0x00;
    unknown[2] = 0x7F;
    unknown[3] = 0x12;
    unknown[4] = 0x34;
    UnknownSchemaIdException u = assertThrows(UnknownSchemaIdException.class, () -> serde.deserializer().deserialize("bad.chunks", unknown));
    assertEquals(0x7F1234, u.schemaId());

    byte[] singleObject = CallvecSerdes.audioChunk().encode(Fixtures.audioChunk(3, true));
    WrongMagicByteException w = assertThrows(WrongMagicByteException.class, () -> serde.deserializer().deserialize("bad.chunks", singleObject));
    assertTrue(w.getMessage().contains("found C3") && w.getMessage().contains("single-object"), w.getMessage());
    assertThrows(WrongMagicByteException.class, () -> serde.deserializer().deserialize("bad.chunks", new byte[] {0, 0, 1}));
  }

  @Test
  void registryDownAtStartFailsRetryablyAfterRetriesWithBackoff() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    RegistryClient down = RegistryClient.fromConfig(RegistryFixtures.clientConfig("http://127.0.0.1:" + closedPort + "/apis/ccompat/v7", 1_500));
    ConfluentAvroSerde<SegmentEmbedding> serde = ConfluentAvroSerde.of(SegmentEmbedding.class, down);
    long t0 = System.nanoTime();
    RegistryUnavailableException e = assertThrows(RegistryUnavailableException.class,
        () -> serde.serializer().serialize("down.segments", Fixtures.segmentEmbedding(1, 8)));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms >= 1_500, "retried for the whole budget, took " + ms + " ms");
    assertTrue(down.failedAttempts() >= 3, "several attempts with backoff: " + down.failedAttempts());
    assertEquals(1, down.unavailableErrors());
    assertTrue(RegistryUnavailableException.isCause(new RuntimeException(e)));
    assertTrue(e.getMessage().contains(Integer.toString(closedPort)), e.getMessage());

    // Failover: a dead URL first, the live registry second.
    RegistryClient failover = RegistryClient.fromConfig(RegistryFixtures.clientConfig(
        "http://127.0.0.1:" + closedPort + "/apis/ccompat/v7," + registry.url(), 5_000));
    SegmentEmbedding s = Fixtures.segmentEmbedding(9, 8);
    ConfluentAvroSerde<SegmentEmbedding> f = ConfluentAvroSerde.of(SegmentEmbedding.class, failover);
    assertEquals(s, f.deserializer().deserialize("failover.segments", f.serializer().serialize("failover.segments", s)));
  }

  /** A consumer with no callvec class: the schema by id over REST, then Apache Avro's GenericDatumReader. */
  @Test
  void plainAvroConsumerDecodesTheVectorWithTheSchemaFetchedById() throws Exception {
    ConfluentAvroSerde<SegmentEmbedding> serde = ConfluentAvroSerde.of(SegmentEmbedding.class, client);
    SegmentEmbedding s = Fixtures.segmentEmbedding(11, 16);
    byte[] value = serde.serializer().serialize("plain.segments", s);
    GenericRecord r = PlainAvroConsumer.decode(registry.url(), value);
    assertEquals("call-11", r.get("callId").toString());
    assertEquals(16, r.get("dimension"));
    assertArrayEquals(Fixtures.vector(11, 16), PlainAvroConsumer.vector(r), 0f);
  }

  private static GenericRecord channel(Schema chunk, int index, String name) {
    GenericRecord c = new GenericData.Record(chunk.getField("channel").schema());
    c.put("index", index);
    c.put("name", name);
    return c;
  }

  /** What a non-callvec consumer does: JDK HTTP + Jackson + Apache Avro, nothing else. */
  static final class PlainAvroConsumer {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    static GenericRecord decode(String registryUrl, byte[] value) throws Exception {
      if (value[0] != 0) {
        throw new IllegalArgumentException("not Confluent-framed");
      }
      int id = ByteBuffer.wrap(value, 1, 4).getInt();
      HttpResponse<String> res = HTTP.send(HttpRequest.newBuilder(URI.create(registryUrl + "/schemas/ids/" + id)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, res.statusCode(), res.body());
      Schema writer = new Schema.Parser().parse(new ObjectMapper().readTree(res.body()).get("schema").asText());
      return new GenericDatumReader<GenericRecord>(writer)
          .read(null, DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, null));
    }

    static float[] vector(GenericRecord r) {
      ByteBuffer b = ((ByteBuffer) r.get("vector")).duplicate().order(ByteOrder.LITTLE_ENDIAN);
      float[] v = new float[(Integer) r.get("dimension")];
      b.asFloatBuffer().get(v);
      return v;
    }
  }
}
