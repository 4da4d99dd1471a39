package io.callvec.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.callvec.schemas.AudioChunk;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.Producer;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.StatusCode;
import org.eclipse.jetty.websocket.api.exceptions.MessageTooLargeException;
import org.eclipse.jetty.websocket.api.exceptions.WebSocketTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What both protocols share: one WebSocket connection, read one message at a time (explicit demand),
 * its records sent through an {@link Outbox}; when the outbox is full the next message is not
 * demanded, so Jetty stops reading the socket and TCP pushes back on the sender. A protocol error
 * closes the connection with a status code and a reason, logs it and counts it; other connections
 * are not touched.
 */
public abstract class MediaConnection implements Session.Listener, Outbox.Listener {
  private static final Logger log = LoggerFactory.getLogger(MediaConnection.class);
  /** Reads and writes the protocols' JSON text messages. */
  protected static final ObjectMapper JSON = new ObjectMapper();

  protected final String protocol;
  protected final GatewayMetrics metrics;
  protected final Outbox outbox;
  private final Runnable onClosed;
  private final AtomicBoolean suspended = new AtomicBoolean();
  private final AtomicBoolean closedOnce = new AtomicBoolean();
  protected volatile Session session;
  /** Null until the protocol's start message names the call. */
  private volatile String callId;
  /** Set when this side decided to close: no more demand, no more records. */
  protected volatile boolean closing;

  MediaConnection(String protocol, Producer<String, AudioChunk> producer, String topic, int maxBufferedChunks, GatewayMetrics metrics,
      Runnable onClosed) {
    this.protocol = protocol;
    this.metrics = metrics;
    this.onClosed = onClosed;
    this.outbox = new Outbox(producer, topic, maxBufferedChunks, metrics, protocol, this);
  }

  /** Handles one text message; runs on a Jetty thread, one message at a time. */
  protected abstract void text(String message);

  /** Handles one binary message (the buffer is valid only during the call). */
  protected abstract void binary(ByteBuffer message);

  /** The socket closed (any reason, either side); flush or end streams as the protocol says. */
  protected abstract void socketClosed(int statusCode, String reason);

  /** Call id for log lines, or "-" before it is known. */
  protected final String callId() {
    String id = callId;
    return id == null ? "-" : id;
  }

  /** The protocol's start message named the call. */
  protected final void callIdKnown(String id) {
    callId = id;
  }

  @Override
  public final void onWebSocketOpen(Session s) {
    this.session = s;
    metrics.opened(protocol);
    log.info("{} connection from {}", protocol, s.getRemoteSocketAddress());
    s.demand();
  }

  @Override
  public final void onWebSocketText(String message) {
    handle(() -> text(message));
    next();
  }

  @Override
  public final void onWebSocketBinary(ByteBuffer message, Callback callback) {
    try {
      handle(() -> binary(message));
    } finally {
      callback.succeed();
    }
    next();
  }

  /** Runs a message handler unless this side is closing; a RuntimeException from it closes the connection with 1011. */
  private void handle(Runnable handler) {
    try {
      if (!closing) {
        handler.run();
      }
    } catch (RuntimeException e) {
      log.error("{} call {}: failed on a message", protocol, callId(), e);
      fail(StatusCode.SERVER_ERROR, "internal_error", "internal error");
    }
  }

  @Override
  public final void onWebSocketError(Throwable cause) {
    if (cause instanceof MessageTooLargeException) {
      metrics.protocolError(protocol, "oversize");
      log.warn("{} call {}: message too large, closing 1009: {}", protocol, callId(), cause.getMessage());
    } else if (cause instanceof WebSocketTimeoutException) {
      metrics.protocolError(protocol, "idle_timeout");
      log.warn("{} call {}: idle timeout, closing: {}", protocol, callId(), cause.getMessage());
    } else {
      log.warn("{} call {}: WebSocket error: {}", protocol, callId(), cause.toString());
    }
  }

  @Override
  public final void onWebSocketClose(int statusCode, String reason) {
    if (!closedOnce.compareAndSet(false, true)) {
      return;
    }
    try {
      socketClosed(statusCode, reason);
    } catch (RuntimeException e) {
      log.error("{} call {}: failed while closing", protocol, callId(), e);
    } finally {
      metrics.closed(protocol);
      onClosed.run();
      log.info("{} call {}: closed ({} {})", protocol, callId(), statusCode, reason);
    }
  }

  /** Demands the next message unless the outbox is full (then {@link #room} demands it later). */
  private void next() {
    Session s = session;
    if (closing || s == null) {
      return;
    }
    if (outbox.hasRoom()) {
      s.demand();
      return;
    }
    suspended.set(true);
    metrics.backpressure(protocol);
    log.debug("{} call {}: {} records unacknowledged, not reading until Kafka catches up", protocol, callId(), outbox.inFlight());
    room(); // acknowledgements may have made room between the check and setting the flag
  }

  @Override
  public final void room() {
    if (outbox.hasRoom() && suspended.compareAndSet(true, false)) {
      Session s = session;
      if (s != null && !closing) {
        s.demand();
      }
    }
  }

  @Override
  public final void failed(AudioChunk chunk, Exception e) {
    log.error("{} call {}: Kafka did not take chunk {} of channel {}: {}; closing the connection (1011) so the source knows",
        protocol, chunk.getCallId(), chunk.getSequenceNumber(), chunk.getChannel().getIndex(), e.toString());
    fail(StatusCode.SERVER_ERROR, null, "kafka write failed");
  }

  /** Sends records; false if the outbox has failed (the connection is being closed). */
  protected final boolean send(List<AudioChunk> chunks) {
    for (AudioChunk c : chunks) {
      if (!outbox.send(c)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Parses a text message that must be a JSON object with a string field {@code kindField} (the
   * message's type). Malformed JSON is a {@link #protocolError} 1007 "malformed_json"; a message that
   * is not an object or lacks the string field is a protocolError 1008 "no_&lt;kindField&gt;" with
   * {@code missingInfo} as the reason.
   *
   * @return the object, or null after the protocol error
   */
  protected final JsonNode readObject(String message, String kindField, String missingInfo) {
    JsonNode m;
    try {
      m = JSON.readTree(message);
    } catch (JsonProcessingException e) {
      protocolError(StatusCode.BAD_PAYLOAD, "malformed_json", "malformed JSON: " + e.getOriginalMessage());
      return null;
    }
    if (m == null || !m.isObject() || !m.path(kindField).isTextual()) {
      protocolError(StatusCode.POLICY_VIOLATION, "no_" + kindField, missingInfo);
      return null;
    }
    return m;
  }

  /**
   * Closes for a protocol violation: by default {@link #fail}; a protocol that tells the client why
   * first (AudioHook's disconnect message) overrides it.
   */
  protected void protocolError(int statusCode, String metricReason, String info) {
    fail(statusCode, metricReason, info);
  }

  /**
   * Closes for a protocol violation or failure: logs, counts ({@code metricReason}, null = not a
   * protocol error) and closes with {@code statusCode}.
   */
  protected final void fail(int statusCode, String metricReason, String reason) {
    if (metricReason != null) {
      metrics.protocolError(protocol, metricReason);
      log.warn("{} call {}: {}; closing with {}", protocol, callId(), reason, statusCode);
    }
    closeWith(statusCode, reason);
  }

  protected final void closeWith(int statusCode, String reason) {
    closing = true;
    Session s = session;
    if (s != null && s.isOpen()) {
      s.close(statusCode, reason, Callback.NOOP);
    }
  }

  /** Sends a text message; a failure (e.g. the peer stopped reading, outgoing queue full) closes the connection. */
  protected final void sendText(String json) {
    Session s = session;
    if (s == null || !s.isOpen()) {
      return;
    }
    s.sendText(json, Callback.from(() -> {}, t -> {
      metrics.protocolError(protocol, "send_failed");
      log.warn("{} call {}: could not send to the client ({}); closing", protocol, callId(), t.toString());
      s.disconnect();
    }));
  }
}
