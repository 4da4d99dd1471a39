package io.callvec.gateway;

import io.callvec.schemas.AudioChunk;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;

/**
 * One connection's records on their way to Kafka: sent to the shared producer, counted until Kafka
 * acknowledges them. At most {@code maxInFlight} records may be unacknowledged before
 * {@link #hasRoom} turns false; the connection then stops reading its socket (backpressure) until
 * acknowledgements make room again and {@link Listener#room} is called. A record Kafka did not take
 * (after the producer's own retries, {@code delivery.timeout.ms}) is reported to
 * {@link Listener#failed}: never dropped silently.
 */
final class Outbox {
  interface Listener {
    /** Called (on a producer thread) when room returns after {@link #hasRoom} was false. */
    void room();

    /** Called once, on the first record Kafka refused or could not take. */
    void failed(AudioChunk chunk, Exception e);
  }

  private final Producer<String, AudioChunk> producer;
  private final String topic;
  private final int maxInFlight;
  private final GatewayMetrics metrics;
  private final String protocol;
  private final Listener listener;
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile boolean failed;
  private volatile CompletableFuture<Void> drained;

  Outbox(Producer<String, AudioChunk> producer, String topic, int maxInFlight, GatewayMetrics metrics, String protocol, Listener listener) {
    this.producer = producer;
    this.topic = topic;
    this.maxInFlight = maxInFlight;
    this.metrics = metrics;
    this.protocol = protocol;
    this.listener = listener;
  }

  /** Sends a record keyed by its call id; returns false (and reports) if it could not be handed over. */
  boolean send(AudioChunk chunk) {
    if (failed) {
      return false;
    }
    inFlight.incrementAndGet();
    metrics.buffered(1);
    try {
      producer.send(new ProducerRecord<>(topic, chunk.getCallId(), chunk), (md, e) -> acked(chunk, e));
      return true;
    } catch (KafkaException | IllegalStateException e) {
      acked(chunk, e);
      return false;
    }
  }

  private void acked(AudioChunk chunk, Exception e) {
    int left = inFlight.decrementAndGet();
    metrics.buffered(-1);
    if (e != null) {
      metrics.sendFailure(protocol);
      if (!failed) {
        failed = true;
        listener.failed(chunk, e);
      }
    } else {
      metrics.sent(protocol, chunk.getPayload().remaining(), chunk.getEndOfStream());
    }
    if (left < maxInFlight) {
      listener.room();
    }
    if (left == 0) {
      CompletableFuture<Void> d = drained;
      if (d != null) {
        d.complete(null);
      }
    }
  }

  boolean hasRoom() {
    return inFlight.get() < maxInFlight;
  }

  int inFlight() {
    return inFlight.get();
  }

  boolean failedOnce() {
    return failed;
  }

  /** Completes once every record sent so far is acknowledged or failed. */
  synchronized CompletableFuture<Void> drained() {
    if (drained == null || drained.isDone()) {
      drained = new CompletableFuture<>();
    }
    CompletableFuture<Void> d = drained;
    if (inFlight.get() == 0) {
      d.complete(null);
    }
    return d;
  }
}
