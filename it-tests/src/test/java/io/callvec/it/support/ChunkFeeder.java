package io.callvec.it.support;

import io.callvec.player.CallPlayer;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.serde.CallvecSerdes;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Plays call streams into the input topic on a background thread (as {@link CallPlayer#play} does,
 * through an idempotent {@code acks=all} producer), so that a test can crash, add or stop app
 * instances and brokers while the calls are live. {@link #awaitFraction} lets the test act at chosen
 * moments; {@link #holdAt} makes sure a step happens before the feed ends.
 */
public final class ChunkFeeder implements AutoCloseable {
  private final long totalRecords;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final Thread thread;
  private final Object gate = new Object();
  private volatile long holdBelow = Long.MAX_VALUE;

  private ChunkFeeder(Map<String, Object> clientConfig, String topic, List<Recording> streams, Chunker.Options options) {
    long total = 0;
    for (Recording s : streams) {
      total += Chunker.chunks(s, options).size();
    }
    this.totalRecords = total;
    Properties p = new Properties();
    p.putAll(clientConfig);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    // Ride out a broker restart: keep retrying a record for up to 2 minutes.
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "120000");
    this.thread = new Thread(() -> {
      try (KafkaProducer<String, AudioChunk> producer = new KafkaProducer<>(p, new StringSerializer(), CallvecSerdes.audioChunk().serializer())) {
        play(producer, topic, streams, options);
      } catch (Throwable t) {
        failure.set(t);
      }
    }, "chunk-feeder");
    thread.setDaemon(true);
  }

  /**
   * {@link CallPlayer#play}'s interleaving and pacing (chunk {@code i} of every stream is due at
   * {@code i × chunkMs / speed}), plus the hold gate: the clock stops while the gate holds.
   */
  private void play(KafkaProducer<String, AudioChunk> producer, String topic, List<Recording> streams, Chunker.Options o)
      throws InterruptedException {
    List<List<AudioChunk>> all = new ArrayList<>();
    int longest = 0;
    for (Recording s : streams) {
      List<AudioChunk> c = Chunker.chunks(s, o);
      all.add(c);
      longest = Math.max(longest, c.size());
    }
    long n = 0;
    long startNs = System.nanoTime();
    for (int i = 0; i < longest; i++) {
      if (o.speed() > 0) {
        long waitNs = startNs + (long) (i * o.chunkMs() * 1e6 / o.speed()) - System.nanoTime();
        if (waitNs > 0) {
          Thread.sleep(waitNs / 1_000_000, (int) (waitNs % 1_000_000));
        }
      }
      for (List<AudioChunk> c : all) {
        if (i < c.size()) {
          if (n >= holdBelow) {
            producer.flush();
            long heldFrom = System.nanoTime();
            synchronized (gate) {
              while (n >= holdBelow) {
                gate.wait(100);
              }
            }
            startNs += System.nanoTime() - heldFrom;
          }
          AudioChunk chunk = c.get(i);
          producer.send(new ProducerRecord<>(topic, chunk.getCallId(), chunk));
          sent.set(++n);
        }
      }
    }
    producer.flush();
  }

  /**
   * Holds the feed once {@code fraction} (0..1) of all records were sent, until {@link #release()}:
   * so that a scenario's step happens mid-stream however slow the machine is. The pacing clock stops
   * while held.
   */
  public void holdAt(double fraction) {
    synchronized (gate) {
      holdBelow = (long) Math.ceil(fraction * totalRecords);
      gate.notifyAll();
    }
  }

  /** Lifts the hold of {@link #holdAt}. */
  public void release() {
    synchronized (gate) {
      holdBelow = Long.MAX_VALUE;
      gate.notifyAll();
    }
  }

  /** Starts playing {@code streams} into {@code topic}. */
  public static ChunkFeeder start(Map<String, Object> clientConfig, String topic, List<Recording> streams, Chunker.Options options) {
    ChunkFeeder f = new ChunkFeeder(clientConfig, topic, streams, options);
    f.thread.start();
    return f;
  }

  /** Records the whole play sends (duplicates and end-of-stream chunks included). */
  public long totalRecords() {
    return totalRecords;
  }

  /** Records handed to the producer so far. */
  public long sent() {
    return sent.get();
  }

  /**
   * Waits until {@code fraction} (0..1) of all records were handed to the producer.
   *
   * @throws AssertionError if the feeder failed, or the fraction is not reached within {@code timeout}
   */
  public void awaitFraction(double fraction, Duration timeout) throws InterruptedException {
    long target = (long) Math.ceil(fraction * totalRecords);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (sent.get() < target) {
      checkFailure();
      if (!thread.isAlive() && sent.get() < target) {
        throw new AssertionError("feeder ended after " + sent.get() + " of " + totalRecords + " records");
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("feeder sent " + sent.get() + " of " + totalRecords + " records, not " + target + " within " + timeout);
      }
      Thread.sleep(10);
    }
  }

  /** Waits until every record was sent and acknowledged (flushed). */
  public void awaitDone(Duration timeout) throws InterruptedException {
    thread.join(timeout.toMillis());
    checkFailure();
    if (thread.isAlive()) {
      throw new AssertionError("feeder still running after " + timeout + " (" + sent.get() + " of " + totalRecords + " sent)");
    }
  }

  private void checkFailure() {
    Throwable t = failure.get();
    if (t != null) {
      throw new AssertionError("feeder failed after " + sent.get() + " records: " + t, t);
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (thread.isAlive()) {
      thread.interrupt();
      thread.join(TimeUnit.SECONDS.toMillis(10));
    }
  }
}
