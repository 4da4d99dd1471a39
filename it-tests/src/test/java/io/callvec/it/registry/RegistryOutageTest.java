package io.callvec.it.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.broker.LocalSchemaRegistry;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.Fixtures;
import io.callvec.schemas.registry.ConfluentAvroSerde;
import io.callvec.schemas.registry.RegistryClient;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The registry goes down mid-stream and comes back (its own registry: this test stops it; its
 * storage survives the restart, as a production registry's does). Known ids keep working from the
 * caches; a record with an id this reader has not seen waits, retrying with backoff, and is decoded
 * once the registry answers again: nothing is lost.
 */
class RegistryOutageTest {
  @AutoClose static LocalSchemaRegistry registry;

  @BeforeAll
  static void start() {
    registry = LocalSchemaRegistry.start();
  }

  @Test
  void cachedIdsSurviveAnOutageAndANewIdIsReadAfterTheRegistryReturns() throws Exception {
    RegistryClient client = RegistryClient.fromConfig(RegistryFixtures.clientConfig(registry.url(), 120_000));
    ConfluentAvroSerde<AudioChunk> serde = ConfluentAvroSerde.of(AudioChunk.class, client);
    AudioChunk first = Fixtures.audioChunk(1, true);
    byte[] b1 = serde.serializer().serialize("outage.chunks", first);
    assertEquals(first, serde.deserializer().deserialize("outage.chunks", b1));

    Schema v0 = RegistryFixtures.testSchema("AudioChunk-v0.avsc");
    RegistryClient admin = RegistryClient.fromConfig(RegistryFixtures.clientConfig(registry.url(), 5_000));
    int v0Id = admin.register("outage.old-value", v0);

    registry.stop();
    assertFalse(registry.answers());
    // Mid-stream with the registry down: the cached writer id and reader still work.
    AudioChunk second = Fixtures.audioChunk(2, true);
    byte[] b2 = serde.serializer().serialize("outage.chunks", second);
    assertEquals(second, serde.deserializer().deserialize("outage.chunks", b2));

    // A record from an older producer, with an id this client has not seen: it waits for the registry.
    GenericRecord old = new GenericData.Record(v0);
    old.put("callId", "CA-outage");
    GenericRecord ch = new GenericData.Record(v0.getField("channel").schema());
    ch.put("index", 0);
    ch.put("name", "agent");
    old.put("channel", ch);
    old.put("sequenceNumber", 9L);
    old.put("mediaTimestampMs", 180L);
    old.put("encoding", new GenericData.EnumSymbol(v0.getField("encoding").schema(), "MULAW"));
    old.put("sampleRateHz", 8000);
    old.put("payload", ByteBuffer.wrap(new byte[] {7}));
    byte[] oldBytes = RegistryFixtures.framed(v0Id, v0, old);
    long failedBefore = client.failedAttempts();
    CompletableFuture<AudioChunk> pending = CompletableFuture.supplyAsync(() -> serde.deserializer().deserialize("outage.chunks", oldBytes));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (client.failedAttempts() < failedBefore + 3 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(client.failedAttempts() >= failedBefore + 3, "the reader retried while the registry was down");
    assertFalse(pending.isDone(), "still waiting, not failed");

    registry.restart();

    AudioChunk decoded = pending.get(60, TimeUnit.SECONDS);
    assertEquals("CA-outage", decoded.getCallId());
    assertEquals(9L, decoded.getSequenceNumber());
    assertEquals(0, client.unavailableErrors(), "no lookup gave up");
    // The registry kept its schemas across the restart: a fresh client reads the first record.
    RegistryClient fresh = RegistryClient.fromConfig(RegistryFixtures.clientConfig(registry.url(), 5_000));
    assertEquals(first, ConfluentAvroSerde.of(AudioChunk.class, fresh).deserializer().deserialize("outage.chunks", b1));
  }
}
