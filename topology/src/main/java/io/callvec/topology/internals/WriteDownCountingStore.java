package io.callvec.topology.internals;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The innermost layer of the block store: Kafka Streams' own RocksDB store, plus a count of the
 * writes that reach it. With the record cache enabled (callvec's stores), a write reaches this layer
 * (and, through the changelogging layer above it, the changelog topic) only when the cache writes
 * its dirty entries down: at every commit, or when an entry is evicted. {@link AudioBlocks} reads
 * the count to tell whether the block it is appending to has been written down since its last
 * append: if not, the cache still holds it, and rewriting it costs no changelog bytes (the cache
 * keeps only the newest value of a key); if so, it starts a new block. So a stream writes about one
 * block per commit interval instead of one per chunk.
 *
 * <p>The count is an optimisation signal only: a block rewritten after it was written down is still
 * correct (its newer value replaces the older one in the changelog and in RocksDB), it only costs
 * bytes. Restoration writes into RocksDB directly and is not counted (no processor runs meanwhile).
 *
 * <p>Stream thread only (the cache writes down on the thread that owns the task); the registry that
 * hands the count to the task's processor is thread-safe.
 */
public final class WriteDownCountingStore implements KeyValueStore<Bytes, byte[]> {
  private final KeyValueStore<Bytes, byte[]> inner;
  private final Registry registry;
  private TaskId taskId;
  private long writeDowns;

  private WriteDownCountingStore(KeyValueStore<Bytes, byte[]> inner, Registry registry) {
    this.inner = inner;
    this.registry = registry;
  }

  /**
   * A persistent (RocksDB) store supplier whose stores count their write-downs into {@code registry},
   * under the task that initialises them.
   */
  public static KeyValueBytesStoreSupplier persistent(String name, Registry registry) {
    KeyValueBytesStoreSupplier rocks = Stores.persistentKeyValueStore(name);
    return new KeyValueBytesStoreSupplier() {
      @Override
      public String name() {
        return rocks.name();
      }

      @Override
      public KeyValueStore<Bytes, byte[]> get() {
        return new WriteDownCountingStore(rocks.get(), registry);
      }

      @Override
      public String metricsScope() {
        return rocks.metricsScope();
      }
    };
  }

  /** Where a task's processor finds the write-down count of its task's store. */
  public static final class Registry {
    private final Map<TaskId, WriteDownCountingStore> stores = new ConcurrentHashMap<>();

    /**
     * The write-down count of {@code task}'s store; for a task whose store is not registered here (a
     * store built otherwise), a count that changes on every read, so that every write starts anew.
     */
    public LongSupplier writeDowns(TaskId task) {
      WriteDownCountingStore s = task == null ? null : stores.get(task);
      if (s != null) {
        return () -> s.writeDowns;
      }
      long[] n = {0};
      return () -> n[0]++;
    }
  }

  @Override
  public void init(StateStoreContext context, StateStore root) {
    inner.init(context, root);
    taskId = context.taskId();
    registry.stores.put(taskId, this);
  }

  @Override
  public void close() {
    if (taskId != null) {
      registry.stores.remove(taskId, this);
    }
    inner.close();
  }

  @Override
  public void put(Bytes key, byte[] value) {
    writeDowns++;
    inner.put(key, value);
  }

  @Override
  public byte[] putIfAbsent(Bytes key, byte[] value) {
    writeDowns++;
    return inner.putIfAbsent(key, value);
  }

  @Override
  public void putAll(List<KeyValue<Bytes, byte[]>> entries) {
    writeDowns++;
    inner.putAll(entries);
  }

  @Override
  public byte[] delete(Bytes key) {
    writeDowns++;
    return inner.delete(key);
  }

  @Override
  public byte[] get(Bytes key) {
    return inner.get(key);
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
    return inner.range(from, to);
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> reverseRange(Bytes from, Bytes to) {
    return inner.reverseRange(from, to);
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> all() {
    return inner.all();
  }

  @Override
  public KeyValueIterator<Bytes, byte[]> reverseAll() {
    return inner.reverseAll();
  }

  @Override
  public <PS extends Serializer<P>, P> KeyValueIterator<Bytes, byte[]> prefixScan(P prefix, PS prefixKeySerializer) {
    return inner.prefixScan(prefix, prefixKeySerializer);
  }

  @Override
  public long approximateNumEntries() {
    return inner.approximateNumEntries();
  }

  @Override
  public String name() {
    return inner.name();
  }

  @Override
  @SuppressWarnings("deprecation")
  public void flush() {
    inner.flush();
  }

  @Override
  public void commit(Map<TopicPartition, Long> changelogOffsets) {
    inner.commit(changelogOffsets);
  }

  @Override
  public Long committedOffset(TopicPartition partition) {
    return inner.committedOffset(partition);
  }

  @Override
  public boolean managesOffsets() {
    return inner.managesOffsets();
  }

  @Override
  public boolean persistent() {
    return inner.persistent();
  }

  @Override
  public boolean isOpen() {
    return inner.isOpen();
  }

  @Override
  public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig config) {
    return inner.query(query, positionBound, config);
  }

  @Override
  public long approximateNumUncommittedBytes() {
    return inner.approximateNumUncommittedBytes();
  }

  @Override
  public Position getPosition() {
    return inner.getPosition();
  }
}
