package io.callvec.app;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.apache.kafka.streams.state.internals.BlockBasedTableConfigWithAccessibleCache;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caps the off-heap memory of all RocksDB state stores in this JVM with one shared block cache that
 * also accounts the memtables (Kafka's "bounded memory" recipe). Without it, every store instance (5
 * stores per task, one task per input partition) opens its own 50 MiB block cache and up to 3 × 16
 * MiB memtables, so the process's RSS grows with the number of partitions an instance owns.
 *
 * <p>Kafka Streams instantiates this class by name ({@code rocksdb.config.setter}); callvec sets it
 * unless the user names another setter. The budget is {@value #MEMORY_KEY} (bytes, total for the
 * JVM): half of it may hold memtables, the rest data, index and filter blocks. Index and filter
 * blocks are cached with high priority, so a large state does not push them out.
 *
 * <p>Limits: the budget is per JVM, not per {@code KafkaStreams} instance: the first store opened
 * fixes it, and a later different value is ignored with a warning. The cache does not use a strict
 * capacity limit (a strict limit makes reads fail instead of evicting pinned blocks), so usage can
 * briefly exceed the budget by the blocks being read. The shared cache is never closed: it lives as
 * long as the JVM, like the stores that use it.
 */
public final class BoundedRocksDbMemory implements RocksDBConfigSetter {
  private static final Logger log = LoggerFactory.getLogger(BoundedRocksDbMemory.class);

  /** The Kafka Streams property that carries the budget (copied from {@code callvec.rocksdb.memory.bytes}). */
  public static final String MEMORY_KEY = "callvec.rocksdb.memory.bytes";
  /** Smallest accepted budget, bytes. */
  public static final long MIN_BYTES = 16L << 20;
  /** Share of the budget memtables may use. */
  static final double MEMTABLE_SHARE = 0.5;
  /** Memtable size per store instance, bytes (Kafka Streams' default is 16 MiB). */
  static final long MEMTABLE_BYTES = 8L << 20;
  /** Data block size, bytes (Kafka Streams' default is 4 KiB). */
  static final long BLOCK_BYTES = 16L << 10;

  private static Cache cache;
  private static WriteBufferManager writeBufferManager;
  private static long budgetBytes;

  /** The shared budget in use, bytes, or 0 before the first store opened. */
  public static synchronized long budgetBytes() {
    return budgetBytes;
  }

  private static synchronized void ensureShared(long bytes) {
    if (cache == null) {
      cache = new LRUCache(bytes, -1, false, 0.1);
      writeBufferManager = new WriteBufferManager((long) (bytes * MEMTABLE_SHARE), cache);
      budgetBytes = bytes;
      log.info("RocksDB off-heap budget for all state stores of this JVM: {} MiB (memtables up to {} MiB)",
          bytes >> 20, (long) (bytes * MEMTABLE_SHARE) >> 20);
    } else if (bytes != budgetBytes) {
      log.warn("{}={} ignored: this JVM's RocksDB budget is already {} bytes", MEMORY_KEY, bytes, budgetBytes);
    }
  }

  static long parseBudget(Object value) {
    if (value == null) {
      throw new IllegalArgumentException(MEMORY_KEY + " is not set");
    }
    long bytes;
    try {
      bytes = Long.parseLong(value.toString().trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(MEMORY_KEY + " must be a number of bytes, got '" + value + "'");
    }
    if (bytes < MIN_BYTES) {
      throw new IllegalArgumentException(MEMORY_KEY + " must be at least " + MIN_BYTES + " bytes (16 MiB), got " + bytes);
    }
    return bytes;
  }

  @Override
  public void setConfig(String storeName, Options options, Map<String, Object> configs) {
    ensureShared(parseBudget(configs.get(MEMORY_KEY)));
    BlockBasedTableConfigWithAccessibleCache table = (BlockBasedTableConfigWithAccessibleCache) options.tableFormatConfig();
    synchronized (BoundedRocksDbMemory.class) {
      table.setBlockCache(cache);
      options.setWriteBufferManager(writeBufferManager);
    }
    table.setCacheIndexAndFilterBlocks(true);
    table.setCacheIndexAndFilterBlocksWithHighPriority(true);
    table.setPinTopLevelIndexAndFilter(true);
    table.setBlockSize(BLOCK_BYTES);
    options.setMaxWriteBufferNumber(2);
    options.setWriteBufferSize(MEMTABLE_BYTES);
    options.setTableFormatConfig(table);
  }

  @Override
  public void close(String storeName, Options options) {
    // The cache and the write buffer manager are shared by every store of the JVM: not closed here.
  }
}
