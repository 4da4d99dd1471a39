package io.callvec.it.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.broker.LocalSchemaRegistry;
import io.callvec.broker.SelfSignedTls;
import io.callvec.schemas.Fixtures;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.registry.ConfluentAvroSerde;
import io.callvec.schemas.registry.RegistryClient;
import io.callvec.schemas.registry.RegistryRequestException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A registry over https with a private certificate: the Confluent truststore keys make it work, without them it fails fast. */
class RegistryTlsTest {
  static Path dir;
  static SelfSignedTls.Material tls;
  static LocalSchemaRegistry registry;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("callvec-registry-tls-");
    tls = SelfSignedTls.generate(dir);
    registry = LocalSchemaRegistry.start(LocalSchemaRegistry.locateHome(), 0, null, Optional.of(tls));
  }

  @AfterAll
  static void stop() throws Exception {
    if (registry != null) {
      registry.close();
    }
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void truststoreKeysLetTheSerdeTalkHttpsAndAMissingTruststoreFailsAtOnce() {
    assertTrue(registry.url().startsWith("https://"), registry.url());
    Map<String, Object> c = RegistryFixtures.clientConfig(registry.url(), 30_000);
    c.put("schema.registry.ssl.truststore.location", tls.truststore().toString());
    c.put("schema.registry.ssl.truststore.password", tls.truststorePassword());
    c.put("schema.registry.ssl.truststore.type", "PKCS12");
    ConfluentAvroSerde<SegmentEmbedding> serde = ConfluentAvroSerde.of(SegmentEmbedding.class, RegistryClient.fromConfig(c));
    SegmentEmbedding s = Fixtures.segmentEmbedding(3, 8);
    assertEquals(s, serde.deserializer().deserialize("tls.segments", serde.serializer().serialize("tls.segments", s)));

    RegistryClient untrusting = RegistryClient.fromConfig(RegistryFixtures.clientConfig(registry.url(), 30_000));
    long t0 = System.nanoTime();
    RegistryRequestException e = assertThrows(RegistryRequestException.class,
        () -> untrusting.register("tls.segments-value", SegmentEmbedding.getClassSchema()));
    assertTrue(e.getMessage().contains("TLS handshake") && e.getMessage().contains("schema.registry.ssl.truststore.location"), e.getMessage());
    assertTrue((System.nanoTime() - t0) / 1_000_000 < 20_000, "not retried for the whole budget");
  }
}
