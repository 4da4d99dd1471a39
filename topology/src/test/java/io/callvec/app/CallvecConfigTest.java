package io.callvec.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.topology.TopologySettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CallvecConfigTest {

  @Test
  void layersApplyInTheDocumentedOrder(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("callvec.properties");
    Files.writeString(file, "callvec.window.ms=4000\ncallvec.hop.ms=2000\nbootstrap.servers=file:9092\nnum.stream.threads=3\n");
    CallvecConfig c = CallvecConfig.builder()
        .file(file)
        .environment(Map.of("CALLVEC_HOP_MS", "1000", "CALLVEC_BOOTSTRAP_SERVERS", "env:9092", "PATH", "/bin"))
        .overrides(Map.of("bootstrap.servers", "cli:9092"))
        .build();
    assertEquals(4000, c.getLong(Settings.WINDOW_MS)); // file beats default
    assertEquals(1000, c.getLong(Settings.HOP_MS)); // env beats file
    assertEquals("cli:9092", c.raw("bootstrap.servers")); // --set beats env
    assertEquals("callvec.audio-chunks", c.get(Settings.INPUT_TOPIC)); // default
    Properties p = c.streamsProperties();
    assertEquals("3", p.getProperty("num.stream.threads"));
    assertEquals("exactly_once_v2", p.getProperty("processing.guarantee"));
    assertEquals("callvec.dlq", p.getProperty("errors.dead.letter.queue.topic.name"));
    // No callvec key reaches Kafka, except the budget the bounded RocksDB setter reads from its configs.
    assertFalse(p.stringPropertyNames().stream().anyMatch(k -> k.startsWith("callvec.") && !k.equals(BoundedRocksDbMemory.MEMORY_KEY)));
    assertThrows(UnsupportedOperationException.class, () -> c.asMap().put("x", "y"));
    assertEquals(64_000, TopologySettings.from(c).frontEnd().windowSamples());
  }

  @Test
  void environmentNamesMapToCallvecKeysWhenKnownElseToKafkaKeys() {
    assertEquals("callvec.window.ms", CallvecConfig.keyOfEnv("CALLVEC_WINDOW_MS"));
    assertEquals("callvec.model.path", CallvecConfig.keyOfEnv("CALLVEC_MODEL_PATH"));
    assertEquals("sasl.jaas.config", CallvecConfig.keyOfEnv("CALLVEC_SASL_JAAS_CONFIG"));
  }

  @Test
  void badSettingsFailWithTheKeyInTheMessage() {
    var e = assertThrows(CallvecConfig.ConfigException.class, () -> CallvecConfig.builder().set("callvec.windw.ms", "1").build());
    assertTrue(e.getMessage().contains("callvec.windw.ms"), e.getMessage());
    e = assertThrows(CallvecConfig.ConfigException.class, () -> CallvecConfig.builder().set("callvec.batch.max.windows", "lots").build());
    assertTrue(e.getMessage().contains("callvec.batch.max.windows"), e.getMessage());
    e = assertThrows(CallvecConfig.ConfigException.class, () -> CallvecConfig.builder().set("callvec.batch.workers", "0").build());
    assertTrue(e.getMessage().contains("callvec.batch.workers"), e.getMessage());
    CallvecConfig hopTooLong = CallvecConfig.builder().set("callvec.hop.ms", "6000").build();
    e = assertThrows(CallvecConfig.ConfigException.class, () -> TopologySettings.from(hopTooLong));
    assertTrue(e.getMessage().contains("hopMs"), e.getMessage());
    e = assertThrows(CallvecConfig.ConfigException.class, () -> CallvecConfig.builder().file(Path.of("/nonexistent/x.properties")));
    assertTrue(e.getMessage().contains("/nonexistent/x.properties"), e.getMessage());
  }

  @Test
  void secretsNeverAppearInToString() {
    CallvecConfig c = CallvecConfig.builder()
        .set("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"hunter2\";")
        .set("ssl.truststore.password", "s3cret")
        .build();
    String s = c.toString();
    assertFalse(s.contains("hunter2"), s);
    assertFalse(s.contains("s3cret"), s);
    assertTrue(s.contains("sasl.jaas.config=[hidden]"), s);
  }

  @Test
  void secretLookingKeysAreHiddenAndOrdinaryKeysAreNot() {
    for (String k : List.of("sasl.jaas.config", "ssl.truststore.password", "ssl.keystore.password", "ssl.key.password", "ssl.keystore.key",
        "sasl.oauthbearer.client.credentials.client.secret", "sasl.oauthbearer.assertion.private.key.passphrase",
        "basic.auth.user.info", "admin.sasl.jaas.config", "producer.ssl.key.password", "SASL_JAAS_CONFIG", "api.token", "key")) {
      assertTrue(CallvecConfig.isSecretKey(k), k);
      assertEquals("[hidden]", CallvecConfig.redacted(k, "v"), k);
    }
    for (String k : List.of("bootstrap.servers", "security.protocol", "sasl.mechanism", "ssl.truststore.location", "ssl.truststore.type",
        "key.serializer", "default.key.serde", "callvec.window.ms", "ssl.endpoint.identification.algorithm")) {
      assertFalse(CallvecConfig.isSecretKey(k), k);
      assertEquals("v", CallvecConfig.redacted(k, "v"), k);
    }
    CallvecConfig c = CallvecConfig.builder().set("ssl.keystore.password", "ks-pass-1").set("ssl.key.password", "key-pass-2")
        .set("security.protocol", "SASL_SSL").build();
    String s = c.toString();
    assertFalse(s.contains("ks-pass-1") || s.contains("key-pass-2"), s);
    assertTrue(s.contains("security.protocol=SASL_SSL"), s);
  }

  @Test
  void adminPropertiesCarryTheSecurityKeysAndAdminPrefixedOverrides() {
    CallvecConfig c = CallvecConfig.builder().set("security.protocol", "SASL_SSL").set("sasl.mechanism", "SCRAM-SHA-512")
        .set("sasl.jaas.config", "x required;").set("ssl.truststore.location", "/t.p12").set("admin.request.timeout.ms", "1234")
        .set("max.poll.records", "10").build();
    java.util.Properties p = c.adminProperties();
    assertEquals("SASL_SSL", p.getProperty("security.protocol"));
    assertEquals("SCRAM-SHA-512", p.getProperty("sasl.mechanism"));
    assertEquals("x required;", p.getProperty("sasl.jaas.config"));
    assertEquals("/t.p12", p.getProperty("ssl.truststore.location"));
    assertEquals("1234", p.getProperty("request.timeout.ms"));
    assertFalse(p.containsKey("max.poll.records"), "consumer-only key");
    assertFalse(p.containsKey("callvec.window.ms"));
  }

  @Test
  void everySettingIsDocumentedInTheReadme() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    for (Settings s : Settings.values()) {
      assertTrue(readme.contains("| `" + s.key() + "` | `" + s.defaultValue() + "` |"), "README table row for " + s.key());
    }
  }
}
