package io.callvec.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class BoundedRocksDbMemoryTest {

  @Test
  void theBoundedSetterIsTheDefaultAndCarriesTheBudget() {
    Properties p = CallvecConfig.defaults().streamsProperties();
    assertEquals(BoundedRocksDbMemory.class.getName(), p.getProperty("rocksdb.config.setter"));
    assertEquals("134217728", p.getProperty(BoundedRocksDbMemory.MEMORY_KEY));
    assertEquals(134_217_728L, BoundedRocksDbMemory.parseBudget(p.getProperty(BoundedRocksDbMemory.MEMORY_KEY)));
  }

  @Test
  void zeroKeepsKafkaDefaultsAndAUserSetterWins() {
    Properties off = CallvecConfig.builder().overrides(Map.of("callvec.rocksdb.memory.bytes", "0")).build().streamsProperties();
    assertFalse(off.containsKey("rocksdb.config.setter"));
    Properties own = CallvecConfig.builder().overrides(Map.of("rocksdb.config.setter", "com.example.Mine")).build().streamsProperties();
    assertEquals("com.example.Mine", own.getProperty("rocksdb.config.setter"));
    assertFalse(own.containsKey(BoundedRocksDbMemory.MEMORY_KEY));
  }

  @Test
  void tooSmallOrMalformedBudgetsAreRejectedNamingTheKey() {
    var small = assertThrows(CallvecConfig.ConfigException.class,
        () -> CallvecConfig.builder().overrides(Map.of("callvec.rocksdb.memory.bytes", "1000")).build());
    assertTrue(small.getMessage().contains("callvec.rocksdb.memory.bytes"), small.getMessage());
    var bad = assertThrows(IllegalArgumentException.class, () -> BoundedRocksDbMemory.parseBudget("lots"));
    assertTrue(bad.getMessage().contains("callvec.rocksdb.memory.bytes"), bad.getMessage());
  }
}
