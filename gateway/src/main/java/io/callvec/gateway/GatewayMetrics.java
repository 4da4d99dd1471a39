package io.callvec.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gateway's meters (Prometheus names after Micrometer's conversion: dots become underscores,
 * counters gain {@code _total}):
 *
 * <ul>
 *   <li>{@code callvec.gateway.connections} {protocol}: open WebSocket connections (gauge);
 *   <li>{@code callvec.gateway.connections.accepted} {protocol}: upgrades accepted;
 *   <li>{@code callvec.gateway.upgrades.refused} {protocol, reason=unauthorized|limit}: upgrades
 *       answered with an HTTP error before any audio was read;
 *   <li>{@code callvec.gateway.protocol.errors} {protocol, reason}: connections closed for a protocol
 *       violation (malformed_json, bad_base64, media_before_start, oversize, ...), and ignored events
 *       ({@code reason=unknown_event});
 *   <li>{@code callvec.gateway.chunks.sent} {protocol}: records Kafka acknowledged;
 *       {@code callvec.gateway.payload.bytes} {protocol}: their audio bytes;
 *       {@code callvec.gateway.streams.ended} {protocol}: end-of-stream records acknowledged;
 *   <li>{@code callvec.gateway.send.failures} {protocol}: records Kafka did not take (the connection is closed);
 *   <li>{@code callvec.gateway.buffered.chunks}: records sent but not yet acknowledged, all connections (gauge);
 *   <li>{@code callvec.gateway.backpressure.pauses} {protocol}: times a connection stopped reading
 *       because its buffer was full;
 *   <li>{@code callvec.gateway.audiohook.events} {type}: AudioHook control messages by type
 *       (paused, resumed, discarded, ping, update, error, close, continued, continued_unknown).
 * </ul>
 */
public final class GatewayMetrics {
  private final MeterRegistry registry;
  private final AtomicLong buffered = new AtomicLong();
  private final AtomicLong twilioOpen = new AtomicLong();
  private final AtomicLong audiohookOpen = new AtomicLong();

  public GatewayMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("callvec.gateway.buffered.chunks", buffered, AtomicLong::get)
        .description("Records sent to Kafka and not yet acknowledged, all connections").register(registry);
    Gauge.builder("callvec.gateway.connections", twilioOpen, AtomicLong::get).tag("protocol", Protocol.TWILIO)
        .description("Open WebSocket connections").register(registry);
    Gauge.builder("callvec.gateway.connections", audiohookOpen, AtomicLong::get).tag("protocol", Protocol.AUDIOHOOK)
        .description("Open WebSocket connections").register(registry);
  }

  /** Protocol tag values. */
  public static final class Protocol {
    public static final String TWILIO = "twilio";
    public static final String AUDIOHOOK = "audiohook";

    private Protocol() {}
  }

  public MeterRegistry registry() {
    return registry;
  }

  void opened(String protocol) {
    open(protocol).incrementAndGet();
    counter("callvec.gateway.connections.accepted", "WebSocket upgrades accepted", "protocol", protocol).increment();
  }

  void closed(String protocol) {
    open(protocol).decrementAndGet();
  }

  private AtomicLong open(String protocol) {
    return Protocol.TWILIO.equals(protocol) ? twilioOpen : audiohookOpen;
  }

  void refused(String protocol, String reason) {
    counter("callvec.gateway.upgrades.refused", "Upgrades refused before any audio was read", "protocol", protocol, "reason", reason).increment();
  }

  void protocolError(String protocol, String reason) {
    counter("callvec.gateway.protocol.errors", "Protocol violations and ignored events", "protocol", protocol, "reason", reason).increment();
  }

  void sent(String protocol, int payloadBytes, boolean endOfStream) {
    counter("callvec.gateway.chunks.sent", "Records acknowledged by Kafka", "protocol", protocol).increment();
    counter("callvec.gateway.payload.bytes", "Audio bytes in acknowledged records", "protocol", protocol).increment(payloadBytes);
    if (endOfStream) {
      counter("callvec.gateway.streams.ended", "End-of-stream records acknowledged", "protocol", protocol).increment();
    }
  }

  void sendFailure(String protocol) {
    counter("callvec.gateway.send.failures", "Records Kafka did not take", "protocol", protocol).increment();
  }

  void buffered(int delta) {
    buffered.addAndGet(delta);
  }

  void backpressure(String protocol) {
    counter("callvec.gateway.backpressure.pauses", "Times a connection stopped reading, buffer full", "protocol", protocol).increment();
  }

  void audiohookEvent(String type) {
    counter("callvec.gateway.audiohook.events", "AudioHook control messages by type", "type", type).increment();
  }

  private Counter counter(String name, String description, String... tags) {
    return Counter.builder(name).description(description).tags(tags).register(registry);
  }
}
