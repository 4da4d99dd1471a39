package io.callvec.schemas.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.serde.SerdeFormat;
import io.callvec.schemas.serde.TopicSerdes;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class RegistryConfigTest {

  @Test
  void readsConfluentKeysWithSeveralUrlsAndUserInfo() {
    RegistryConfig c = RegistryConfig.from(Map.of(
        "schema.registry.url", "https://a.example:8081/, https://b.example/apis/ccompat/v7",
        "basic.auth.credentials.source", "USER_INFO",
        "basic.auth.user.info", "KEY:SECRET",
        "auto.register.schemas", "false",
        "callvec.registry.retry.max.ms", "0"));
    assertEquals(List.of(URI.create("https://a.example:8081"), URI.create("https://b.example/apis/ccompat/v7")), c.urls());
    assertEquals(Optional.of("KEY:SECRET"), c.userInfo());
    assertFalse(c.autoRegister());
    assertEquals(0, c.retryMax().toMillis());
    assertFalse(c.toString().contains("SECRET"), c.toString());
  }

  @Test
  void userInfoInTheUrlIsUsedWithSourceUrlAndStrippedFromTheUrl() {
    RegistryConfig c = RegistryConfig.from(Map.of("schema.registry.url", "http://u:p@localhost:8081", "basic.auth.credentials.source", "URL"));
    assertEquals(List.of(URI.create("http://localhost:8081")), c.urls());
    assertEquals(Optional.of("u:p"), c.userInfo());
    assertTrue(c.autoRegister());
    assertEquals(60_000, c.retryMax().toMillis());
  }

  @Test
  void badValuesNameTheirKey() {
    assertTrue(assertThrows(ConfigException.class, () -> RegistryConfig.from(Map.of()))
        .getMessage().contains("schema.registry.url"));
    assertTrue(assertThrows(ConfigException.class, () -> RegistryConfig.from(Map.of("schema.registry.url", "localhost:8081")))
        .getMessage().contains("schema.registry.url"));
    assertTrue(assertThrows(ConfigException.class, () -> RegistryConfig.from(Map.of(
        "schema.registry.url", "http://h", "basic.auth.credentials.source", "USER_INFO"))).getMessage().contains("basic.auth.user.info"));
    assertTrue(assertThrows(ConfigException.class, () -> RegistryConfig.from(Map.of(
        "schema.registry.url", "http://h", "basic.auth.credentials.source", "SASL_INHERIT"))).getMessage().contains("basic.auth.credentials.source"));
    assertTrue(assertThrows(ConfigException.class, () -> RegistryConfig.from(Map.of(
        "schema.registry.url", "http://h", "callvec.registry.retry.max.ms", "soon"))).getMessage().contains("callvec.registry.retry.max.ms"));
    assertTrue(assertThrows(ConfigException.class, () -> RegistryConfig.from(Map.of(
        "schema.registry.url", "https://h", "schema.registry.ssl.truststore.location", "/no/such/store.jks")))
        .getMessage().contains("schema.registry.ssl.truststore.location"));
  }

  @Test
  void serdeFormatDefaultsToSingleObject() {
    assertEquals(SerdeFormat.SINGLE_OBJECT, TopicSerdes.fromConfig(Map.of()).format());
    assertEquals(SerdeFormat.CONFLUENT, TopicSerdes.fromConfig(Map.of("callvec.serde", "Confluent", "schema.registry.url", "http://h")).format());
    assertTrue(assertThrows(ConfigException.class, () -> SerdeFormat.parse("protobuf")).getMessage().contains("callvec.serde"));
    assertTrue(assertThrows(ConfigException.class, () -> TopicSerdes.fromConfig(Map.of("callvec.serde", "confluent")))
        .getMessage().contains("schema.registry.url"));
  }
}
