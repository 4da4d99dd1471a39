package io.callvec.gateway;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Twilio Media Streams messages as Twilio's documentation shows them: connected, start, media
 * (20 ms of 8 kHz μ-law per message, chunk from 1 per track, timestamp in ms), stop; each with the
 * stream-wide sequenceNumber and streamSid.
 */
final class TwilioMessages {
  static final int FRAME_BYTES = 160;

  final String callSid;
  final String streamSid;
  private long sequence;

  TwilioMessages(String callSid, String streamSid) {
    this.callSid = callSid;
    this.streamSid = streamSid;
  }

  String connected() {
    return "{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}";
  }

  String start(String... tracks) {
    String t = String.join("\",\"", tracks);
    return "{\"event\":\"start\",\"sequenceNumber\":\"" + (++sequence) + "\",\"start\":{\"accountSid\":\"AC0123456789abcdef0123456789abcdef\","
        + "\"streamSid\":\"" + streamSid + "\",\"callSid\":\"" + callSid + "\",\"tracks\":[\"" + t + "\"],"
        + "\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\",\"sampleRate\":8000,\"channels\":1},"
        + "\"customParameters\":{\"campaign\":\"spring\"}},\"streamSid\":\"" + streamSid + "\"}";
  }

  String media(String track, long chunk, long timestampMs, byte[] payload) {
    return "{\"event\":\"media\",\"sequenceNumber\":\"" + (++sequence) + "\",\"media\":{\"track\":\"" + track + "\",\"chunk\":\"" + chunk
        + "\",\"timestamp\":\"" + timestampMs + "\",\"payload\":\"" + Base64.getEncoder().encodeToString(payload) + "\"},\"streamSid\":\""
        + streamSid + "\"}";
  }

  String mark(String name) {
    return "{\"event\":\"mark\",\"sequenceNumber\":\"" + (++sequence) + "\",\"streamSid\":\"" + streamSid + "\",\"mark\":{\"name\":\"" + name + "\"}}";
  }

  String dtmf(String digit) {
    return "{\"event\":\"dtmf\",\"streamSid\":\"" + streamSid + "\",\"sequenceNumber\":\"" + (++sequence)
        + "\",\"dtmf\":{\"track\":\"inbound_track\",\"digit\":\"" + digit + "\"}}";
  }

  String stop() {
    return "{\"event\":\"stop\",\"sequenceNumber\":\"" + (++sequence) + "\",\"streamSid\":\"" + streamSid
        + "\",\"stop\":{\"accountSid\":\"AC0123456789abcdef0123456789abcdef\",\"callSid\":\"" + callSid + "\"}}";
  }

  /** The 20 ms frames of {@code audio} (the last may be short). */
  static List<byte[]> frames(byte[] audio) {
    List<byte[]> out = new ArrayList<>();
    for (int at = 0; at < audio.length; at += FRAME_BYTES) {
      out.add(Arrays.copyOfRange(audio, at, Math.min(audio.length, at + FRAME_BYTES)));
    }
    return out;
  }

  /** The whole call: two tracks interleaved frame by frame, as Twilio sends them. */
  List<String> call(byte[] inbound, byte[] outbound) {
    List<String> out = new ArrayList<>();
    out.add(connected());
    out.add(start("inbound", "outbound"));
    List<byte[]> in = frames(inbound);
    List<byte[]> outb = frames(outbound);
    for (int i = 0; i < Math.max(in.size(), outb.size()); i++) {
      if (i < in.size()) {
        out.add(media("inbound", i + 1, i * 20L, in.get(i)));
      }
      if (i < outb.size()) {
        out.add(media("outbound", i + 1, i * 20L, outb.get(i)));
      }
      if (i == 10) {
        out.add(dtmf("5"));
        out.add(mark("greeting"));
      }
    }
    out.add(stop());
    return out;
  }
}
