package io.callvec.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.Channel;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.producer.Producer;
import org.eclipse.jetty.websocket.api.StatusCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Twilio Media Streams connection (also SignalWire / Fonoster, which speak the same messages).
 *
 * <p>Messages: {@code connected} (ignored), {@code start} (call id = {@code start.callSid}; tracks;
 * {@code mediaFormat} must be audio/x-mulaw, 8000 Hz, 1 channel; {@code customParameters} and the
 * stream/account sids become the first record's metadata), {@code media} (track inbound = channel 0
 * "inbound", outbound = channel 1 "outbound"; sequence number = {@code media.chunk}, timestamp =
 * {@code media.timestamp}, payload = Base64 μ-law), {@code dtmf} and {@code mark} (ignored),
 * {@code stop} (every started track gets its end-of-stream record).
 *
 * <p>Answers to bad input (all logged and counted in {@code callvec.gateway.protocol.errors}):
 *
 * <table>
 *   <caption>Close codes</caption>
 *   <tr><td>not JSON, no {@code event}</td><td>1007 / 1008</td><td>malformed_json / no_event</td></tr>
 *   <tr><td>{@code media} before {@code start}, or after {@code stop}</td><td>1008</td><td>media_before_start / media_after_stop</td></tr>
 *   <tr><td>second {@code start}, no callSid, unknown track</td><td>1008</td><td>bad_start / unknown_track</td></tr>
 *   <tr><td>media format other than 8 kHz mono μ-law</td><td>1003</td><td>unsupported_format</td></tr>
 *   <tr><td>payload not Base64, chunk/timestamp not numbers</td><td>1007</td><td>bad_base64 / bad_media</td></tr>
 *   <tr><td>unknown event</td><td>none: ignored</td><td>unknown_event</td></tr>
 * </table>
 *
 * A connection that closes without {@code stop} (Twilio never resumes a stream) still ends its
 * streams, and says so in the log.
 */
public final class TwilioConnection extends MediaConnection {
  private static final Logger log = LoggerFactory.getLogger(TwilioConnection.class);
  private static final int SAMPLE_RATE_HZ = 8000;

  private final int chunkMs;
  private final Map<String, ChunkStream> tracks = new LinkedHashMap<>();
  private boolean started;
  private boolean stopped;

  TwilioConnection(Producer<String, AudioChunk> producer, String topic, int chunkMs, int maxBufferedChunks, GatewayMetrics metrics,
      Runnable onClosed) {
    super(GatewayMetrics.Protocol.TWILIO, producer, topic, maxBufferedChunks, metrics, onClosed);
    this.chunkMs = chunkMs;
  }

  @Override
  protected void binary(ByteBuffer message) {
    fail(StatusCode.BAD_DATA, "binary_message", "Twilio Media Streams sends text frames only, got " + message.remaining() + " binary bytes");
  }

  @Override
  protected void text(String message) {
    JsonNode m = readObject(message, "event", "message without an \"event\" string");
    if (m == null) {
      return;
    }
    String event = m.get("event").asText();
    switch (event) {
      case "connected", "dtmf", "mark" -> log.debug("twilio call {}: {}", callId(), event);
      case "start" -> start(m.path("start"));
      case "media" -> media(m.path("media"));
      case "stop" -> stop();
      default -> {
        metrics.protocolError(protocol, "unknown_event");
        log.info("twilio call {}: ignoring unknown event {}", callId(), abbreviate(event));
      }
    }
  }

  private void start(JsonNode s) {
    if (started) {
      fail(StatusCode.POLICY_VIOLATION, "bad_start", "a second start message");
      return;
    }
    String sid = s.path("callSid").asText("");
    if (sid.isEmpty()) {
      fail(StatusCode.POLICY_VIOLATION, "bad_start", "start without callSid");
      return;
    }
    JsonNode f = s.path("mediaFormat");
    String enc = f.path("encoding").asText("audio/x-mulaw");
    int rate = f.path("sampleRate").asInt(SAMPLE_RATE_HZ);
    int channels = f.path("channels").asInt(1);
    if (!enc.equalsIgnoreCase("audio/x-mulaw") || rate != SAMPLE_RATE_HZ || channels != 1) {
      fail(StatusCode.BAD_DATA, "unsupported_format",
          "media format " + abbreviate(enc) + " " + rate + " Hz " + channels + " channel(s); only audio/x-mulaw 8000 Hz mono");
      return;
    }
    List<String> names = new ArrayList<>();
    for (JsonNode t : s.path("tracks")) {
      names.add(t.asText());
    }
    if (names.isEmpty()) {
      names.add("inbound");
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("source", "twilio");
    putIfText(meta, "streamSid", s.path("streamSid"));
    putIfText(meta, "accountSid", s.path("accountSid"));
    meta.put("tracks", String.join(",", names));
    for (Iterator<Map.Entry<String, JsonNode>> it = s.path("customParameters").fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> e = it.next();
      meta.put("param." + e.getKey(), e.getValue().asText());
    }
    for (String name : names) {
      Channel ch = channelOf(name);
      if (ch == null) {
        fail(StatusCode.POLICY_VIOLATION, "unknown_track", "unknown track " + abbreviate(name) + " (inbound or outbound)");
        return;
      }
      tracks.put(name, new ChunkStream(sid, ch, AudioEncoding.MULAW, SAMPLE_RATE_HZ, chunkMs, 0, 0, Map.copyOf(meta)));
    }
    callIdKnown(sid);
    started = true;
    log.info("twilio call {}: stream {} started, tracks {}", sid, meta.get("streamSid"), names);
  }

  private void media(JsonNode md) {
    if (!started) {
      fail(StatusCode.POLICY_VIOLATION, "media_before_start", "media before start");
      return;
    }
    if (stopped) {
      fail(StatusCode.POLICY_VIOLATION, "media_after_stop", "media after stop");
      return;
    }
    String track = md.path("track").asText("inbound");
    ChunkStream stream = tracks.get(track);
    if (stream == null) {
      fail(StatusCode.POLICY_VIOLATION, "unknown_track", "media of track " + abbreviate(track) + ", not among the started tracks " + tracks.keySet());
      return;
    }
    long chunk;
    long timestamp;
    try {
      chunk = Long.parseLong(md.path("chunk").asText());
      timestamp = Long.parseLong(md.path("timestamp").asText());
    } catch (NumberFormatException e) {
      fail(StatusCode.BAD_PAYLOAD, "bad_media", "media chunk/timestamp is not a number");
      return;
    }
    if (timestamp < 0 || chunk < 0) {
      fail(StatusCode.BAD_PAYLOAD, "bad_media", "negative media chunk/timestamp");
      return;
    }
    byte[] payload;
    try {
      payload = Base64.getDecoder().decode(md.path("payload").asText(""));
    } catch (IllegalArgumentException e) {
      fail(StatusCode.BAD_PAYLOAD, "bad_base64", "media payload is not Base64: " + e.getMessage());
      return;
    }
    if (payload.length == 0) {
      metrics.protocolError(protocol, "empty_media");
      return;
    }
    send(stream.frame(chunk, timestamp, payload));
  }

  private void stop() {
    if (!started || stopped) {
      metrics.protocolError(protocol, "stray_stop");
      log.info("twilio call {}: stop {}", callId(), started ? "again" : "before start");
      return;
    }
    stopped = true;
    for (ChunkStream s : tracks.values()) {
      send(s.end());
    }
    log.info("twilio call {}: stopped, {} stream(s) ended", callId(), tracks.size());
  }

  @Override
  protected void socketClosed(int statusCode, String reason) {
    if (started && !stopped && !outbox.failedOnce()) {
      stopped = true;
      log.warn("twilio call {}: connection closed ({}) without stop: ending its streams", callId(), statusCode);
      for (ChunkStream s : tracks.values()) {
        send(s.end());
      }
    }
  }

  /** Channel of a Twilio track: inbound 0, outbound 1; null for another name. */
  static Channel channelOf(String track) {
    return switch (track.toLowerCase(Locale.ROOT)) {
      case "inbound", "inbound_track" -> new Channel(0, "inbound");
      case "outbound", "outbound_track" -> new Channel(1, "outbound");
      default -> null;
    };
  }

  private static void putIfText(Map<String, String> m, String key, JsonNode v) {
    if (v.isTextual() && !v.asText().isEmpty()) {
      m.put(key, v.asText());
    }
  }

  static String abbreviate(String s) {
    String t = s.length() > 40 ? s.substring(0, 40) + "..." : s;
    return "'" + t.replaceAll("[^\\x20-\\x7e]", "?") + "'";
  }
}
