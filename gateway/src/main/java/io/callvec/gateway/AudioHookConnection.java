package io.callvec.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.Channel;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.Producer;
import org.eclipse.jetty.websocket.api.StatusCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Genesys Cloud AudioHook (protocol version 2) session.
 *
 * <p>Client messages: {@code open} (call id = {@code parameters.conversationId}; media offered, of
 * which the first PCMU 8000 Hz, else L16 8000 Hz, offer is accepted in {@code opened}; channel
 * {@code external} = index 0, {@code internal} = index 1; organization, participant, language,
 * session id and {@code customConfig} become the first record's metadata), binary frames (audio,
 * channels interleaved in the order of the accepted {@code channels}; cut into records of
 * {@code chunkMs}; sequence numbers count records from 0, timestamps are the stream position),
 * {@code ping} (answered {@code pong}), {@code paused}/{@code resumed} (the {@code discarded} duration
 * of {@code resumed} moves the timeline on), {@code discarded} (the same), {@code update},
 * {@code error} (logged), {@code close} (streams ended, unless the reason is {@code reconnect};
 * {@code closed} is answered once Kafka has acknowledged every record of the session).
 *
 * <p>Reconnection: a connection that drops without {@code close}, or closes with reason
 * {@code reconnect}, leaves its streams open (no end-of-stream) and is remembered in
 * {@link AudioHookSessions}; an {@code open} whose {@code continuedSessions} names it continues them.
 * A stream never continued is ended by callvec's idle timeout.
 *
 * <p>Answers to bad input (logged, counted in {@code callvec.gateway.protocol.errors}): a
 * {@code disconnect} message with reason {@code error} and then a close: malformed JSON (1007),
 * missing type/version (1008), audio before {@code open} (1008), no acceptable media offer (1003), a
 * frame that is not whole samples of every channel (1007), a second {@code open} (1008); unknown
 * message types are ignored (counted).
 */
public final class AudioHookConnection extends MediaConnection {
  private static final Logger log = LoggerFactory.getLogger(AudioHookConnection.class);
  private static final int SAMPLE_RATE_HZ = 8000;

  private enum State { AWAITING_OPEN, ACTIVE, PAUSED, CLOSING }

  private final int chunkMs;
  private final AudioHookSessions sessions;
  private final Map<String, String> upgradeMetadata;
  private final List<ChunkStream> streams = new ArrayList<>();
  private State state = State.AWAITING_OPEN;
  private volatile String sessionId;
  private volatile String conversationId;
  private long serverSeq;
  private long clientSeq;
  private int bytesPerSample;

  /** @param upgradeMetadata metadata taken from the upgrade request (e.g. the organization header) */
  AudioHookConnection(Producer<String, AudioChunk> producer, String topic, int chunkMs, int maxBufferedChunks, GatewayMetrics metrics,
      AudioHookSessions sessions, Map<String, String> upgradeMetadata, Runnable onClosed) {
    super(GatewayMetrics.Protocol.AUDIOHOOK, producer, topic, maxBufferedChunks, metrics, onClosed);
    this.chunkMs = chunkMs;
    this.sessions = sessions;
    this.upgradeMetadata = upgradeMetadata;
  }

  @Override
  protected void text(String message) {
    JsonNode m = readObject(message, "type", "message without a \"type\" string");
    if (m == null) {
      return;
    }
    if (!"2".equals(m.path("version").asText())) {
      protocolError(StatusCode.POLICY_VIOLATION, "bad_version", "version " + m.path("version") + ", expected \"2\"");
      return;
    }
    long seq = m.path("seq").asLong(-1);
    if (seq != clientSeq + 1) {
      metrics.protocolError(protocol, "bad_seq");
      log.warn("audiohook call {}: client seq {} after {}", callId(), seq, clientSeq);
    }
    clientSeq = Math.max(clientSeq, seq);
    String type = m.get("type").asText();
    JsonNode p = m.path("parameters");
    switch (type) {
      case "open" -> open(m, p);
      case "ping" -> {
        metrics.audiohookEvent("ping");
        reply("pong", JSON.createObjectNode());
      }
      case "paused" -> {
        metrics.audiohookEvent("paused");
        if (state == State.ACTIVE) {
          state = State.PAUSED;
        }
        log.info("audiohook call {}: paused at {}", callId(), m.path("position").asText());
      }
      case "resumed" -> {
        metrics.audiohookEvent("resumed");
        if (state == State.PAUSED) {
          state = State.ACTIVE;
        }
        skip("resumed", p.path("discarded"));
      }
      case "discarded" -> {
        metrics.audiohookEvent("discarded");
        skip("discarded", p.path("discarded"));
      }
      case "update" -> {
        metrics.audiohookEvent("update");
        log.info("audiohook call {}: update {}", callId(), p);
        reply("updated", JSON.createObjectNode());
      }
      case "error" -> {
        metrics.audiohookEvent("error");
        log.warn("audiohook call {}: client error {} {}", callId(), p.path("code").asText(), p.path("message").asText());
      }
      case "close" -> close(p.path("reason").asText("end"));
      default -> {
        metrics.protocolError(protocol, "unknown_event");
        log.info("audiohook call {}: ignoring unknown message type {}", callId(), TwilioConnection.abbreviate(type));
      }
    }
  }

  private void open(JsonNode m, JsonNode p) {
    if (state != State.AWAITING_OPEN) {
      protocolError(StatusCode.POLICY_VIOLATION, "bad_open", "a second open");
      return;
    }
    String conv = p.path("conversationId").asText("");
    String id = m.path("id").asText("");
    if (conv.isEmpty() || id.isEmpty()) {
      protocolError(StatusCode.POLICY_VIOLATION, "bad_open", "open without id or parameters.conversationId");
      return;
    }
    JsonNode accepted = null;
    for (String format : new String[] {"PCMU", "L16"}) {
      for (JsonNode offer : p.path("media")) {
        if (accepted == null && "audio".equals(offer.path("type").asText("audio")) && format.equals(offer.path("format").asText())
            && offer.path("rate").asInt() == SAMPLE_RATE_HZ && validChannels(offer.path("channels"))) {
          accepted = offer;
        }
      }
    }
    if (accepted == null) {
      protocolError(StatusCode.BAD_DATA, "unsupported_format", "no acceptable media offer (PCMU or L16, 8000 Hz, channels external/internal): " + p.path("media"));
      return;
    }
    sessionId = id;
    conversationId = conv;
    callIdKnown(conv);
    AudioEncoding encoding = "PCMU".equals(accepted.path("format").asText()) ? AudioEncoding.MULAW : AudioEncoding.PCM_S16LE;
    bytesPerSample = encoding == AudioEncoding.MULAW ? 1 : 2;

    Map<String, String> meta = new LinkedHashMap<>(upgradeMetadata);
    meta.put("source", "audiohook");
    meta.put("sessionId", id);
    putText(meta, "organizationId", p.path("organizationId"));
    putText(meta, "language", p.path("language"));
    JsonNode part = p.path("participant");
    putText(meta, "participant.id", part.path("id"));
    putText(meta, "participant.ani", part.path("ani"));
    putText(meta, "participant.aniName", part.path("aniName"));
    putText(meta, "participant.dnis", part.path("dnis"));
    for (Iterator<Map.Entry<String, JsonNode>> it = p.path("customConfig").fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> e = it.next();
      meta.put("config." + e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
    }

    Map<Integer, AudioHookSessions.ChannelPosition> continued = continuedPositions(p.path("continuedSessions"), conv);
    List<String> names = new ArrayList<>();
    for (JsonNode c : accepted.path("channels")) {
      names.add(c.asText());
    }
    for (String name : names) {
      Channel ch = new Channel("external".equals(name) ? 0 : 1, name);
      AudioHookSessions.ChannelPosition at = continued.get(ch.getIndex());
      streams.add(new ChunkStream(conv, ch, encoding, SAMPLE_RATE_HZ, chunkMs, at == null ? 0 : at.nextSequence(),
          at == null ? 0 : at.positionSamples(), at == null ? Map.copyOf(meta) : null));
    }
    state = State.ACTIVE;
    ObjectNode opened = JSON.createObjectNode();
    ArrayNode media = opened.putArray("media");
    media.add(accepted);
    opened.put("startPaused", false);
    reply("opened", opened);
    log.info("audiohook call {}: session {} opened, {} {} Hz channels {}{}", conv, id, accepted.path("format").asText(), SAMPLE_RATE_HZ, names,
        continued.isEmpty() ? "" : ", continuing an earlier session");
  }

  /** Positions of the latest known earlier session of this conversation, or none. */
  private Map<Integer, AudioHookSessions.ChannelPosition> continuedPositions(JsonNode list, String conv) {
    if (!list.isArray() || list.isEmpty()) {
      return Map.of();
    }
    long now = System.nanoTime();
    for (int i = list.size() - 1; i >= 0; i--) {
      String id = list.get(i).path("id").asText("");
      AudioHookSessions.Ended e = sessions.take(id, now);
      if (e != null && e.conversationId().equals(conv)) {
        metrics.audiohookEvent("continued");
        long gapSamples = (now - e.endedNanos()) / 1_000_000L * SAMPLE_RATE_HZ / 1000;
        Map<Integer, AudioHookSessions.ChannelPosition> out = new HashMap<>();
        e.channels().forEach((k, v) -> out.put(k, new AudioHookSessions.ChannelPosition(v.nextSequence(), v.positionSamples() + gapSamples)));
        return out;
      }
    }
    metrics.audiohookEvent("continued_unknown");
    log.warn("audiohook call {}: continuedSessions {} unknown to this gateway (another replica, or expired): starting fresh streams;"
        + " records of the new session may repeat sequence numbers of the old one", conv, list);
    return Map.of();
  }

  private static boolean validChannels(JsonNode channels) {
    if (!channels.isArray() || channels.isEmpty() || channels.size() > 2) {
      return false;
    }
    String first = null;
    for (JsonNode c : channels) {
      String n = c.asText();
      if (!n.equals("external") && !n.equals("internal") || n.equals(first)) {
        return false;
      }
      first = n;
    }
    return true;
  }

  @Override
  protected void binary(ByteBuffer message) {
    if (state == State.AWAITING_OPEN) {
      protocolError(StatusCode.POLICY_VIOLATION, "media_before_start", "audio before open");
      return;
    }
    if (state == State.CLOSING) {
      metrics.protocolError(protocol, "media_after_stop");
      log.warn("audiohook call {}: {} bytes of audio after close, not sent", callId(), message.remaining());
      return;
    }
    int channels = streams.size();
    int frameBytes = channels * bytesPerSample;
    int n = message.remaining();
    if (n == 0 || n % frameBytes != 0) {
      protocolError(StatusCode.BAD_PAYLOAD, "bad_frame", n + " bytes is not a whole number of " + channels + "-channel samples");
      return;
    }
    int samples = n / frameBytes;
    for (int c = 0; c < channels; c++) {
      byte[] mono = new byte[samples * bytesPerSample];
      for (int i = 0, src = message.position() + c * bytesPerSample; i < samples; i++, src += frameBytes) {
        for (int b = 0; b < bytesPerSample; b++) {
          mono[i * bytesPerSample + b] = message.get(src + b);
        }
      }
      if (!send(streams.get(c).samples(mono, 0, mono.length))) {
        return;
      }
    }
  }

  private void skip(String what, JsonNode durationNode) {
    if (!durationNode.isTextual()) {
      return;
    }
    Duration d;
    try {
      d = Duration.parse(durationNode.asText());
    } catch (DateTimeParseException e) {
      metrics.protocolError(protocol, "bad_duration");
      log.warn("audiohook call {}: {} duration {} is not ISO-8601", callId(), what, TwilioConnection.abbreviate(durationNode.asText()));
      return;
    }
    long samples = d.toMillis() * SAMPLE_RATE_HZ / 1000;
    if (samples <= 0) {
      return;
    }
    log.info("audiohook call {}: {} {} ms of audio not sent; the timeline moves on", callId(), what, d.toMillis());
    for (ChunkStream s : streams) {
      send(s.skip(samples));
    }
  }

  private void close(String reason) {
    metrics.audiohookEvent("close");
    if (state == State.CLOSING) {
      return;
    }
    boolean reconnect = "reconnect".equals(reason);
    state = State.CLOSING;
    for (ChunkStream s : streams) {
      send(reconnect ? s.flushHeld() : s.end());
    }
    if (reconnect) {
      remember();
    }
    log.info("audiohook call {}: close ({}), {} stream(s) {}", callId(), reason, streams.size(), reconnect ? "left open for the reconnection" : "ended");
    outbox.drained().thenRun(() -> {
      if (!outbox.failedOnce()) {
        reply("closed", JSON.createObjectNode());
      }
    });
  }

  @Override
  protected void socketClosed(int statusCode, String reason) {
    if (state == State.ACTIVE || state == State.PAUSED) {
      state = State.CLOSING;
      for (ChunkStream s : streams) {
        send(s.flushHeld());
      }
      remember();
      log.warn("audiohook call {}: connection dropped ({}) without close: streams left open for a reconnection (continuedSessions)",
          callId(), statusCode);
    }
  }

  private void remember() {
    Map<Integer, AudioHookSessions.ChannelPosition> at = new HashMap<>();
    for (ChunkStream s : streams) {
      at.put(s.channel().getIndex(), new AudioHookSessions.ChannelPosition(s.nextSequence(), s.positionSamples()));
    }
    sessions.put(sessionId, new AudioHookSessions.Ended(conversationId, at, System.nanoTime()));
  }

  /** disconnect(reason=error) then close. */
  @Override
  protected void protocolError(int statusCode, String metricReason, String info) {
    ObjectNode p = JSON.createObjectNode();
    p.put("reason", "error");
    p.put("info", info.length() > 120 ? info.substring(0, 120) : info);
    reply("disconnect", p);
    fail(statusCode, metricReason, info);
  }

  private synchronized void reply(String type, ObjectNode parameters) {
    ObjectNode m = JSON.createObjectNode();
    m.put("version", "2");
    m.put("type", type);
    m.put("seq", ++serverSeq);
    m.put("clientseq", clientSeq);
    m.put("id", sessionId == null ? "00000000-0000-0000-0000-000000000000" : sessionId);
    m.set("parameters", parameters);
    sendText(m.toString());
  }

  private static void putText(Map<String, String> m, String key, JsonNode v) {
    if (v.isTextual() && !v.asText().isEmpty()) {
      m.put(key, v.asText());
    }
  }
}
