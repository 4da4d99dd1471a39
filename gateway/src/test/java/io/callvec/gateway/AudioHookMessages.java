package io.callvec.gateway;

/**
 * Genesys AudioHook (protocol v2) client messages as the specification shows them: version, id
 * (session), type, seq (from 1), serverseq (last server seq seen), position (ISO-8601 duration of
 * audio sent so far), parameters.
 */
final class AudioHookMessages {
  final String sessionId;
  final String conversationId;
  private long seq;
  long serverSeq;
  long positionMs;

  AudioHookMessages(String sessionId, String conversationId) {
    this.sessionId = sessionId;
    this.conversationId = conversationId;
  }

  private String message(String type, String parameters) {
    return "{\"version\":\"2\",\"id\":\"" + sessionId + "\",\"type\":\"" + type + "\",\"seq\":" + (++seq) + ",\"serverseq\":" + serverSeq
        + ",\"position\":\"" + position() + "\",\"parameters\":" + parameters + "}";
  }

  String position() {
    return "PT" + (positionMs / 1000) + "." + String.format(java.util.Locale.ROOT, "%03d", positionMs % 1000) + "S";
  }

  String open(String continuedSessionsJson) {
    return message("open", "{\"organizationId\":\"d7934305-0972-4844-938e-9060eef73d05\",\"conversationId\":\"" + conversationId + "\","
        + "\"participant\":{\"id\":\"883efee8-3d6c-4537-b500-6d7ca4b92fa0\",\"ani\":\"+1-555-555-1234\",\"aniName\":\"John Doe\",\"dnis\":\"+1-800-555-6789\"},"
        + "\"media\":[{\"type\":\"audio\",\"format\":\"PCMU\",\"channels\":[\"external\",\"internal\"],\"rate\":8000},"
        + "{\"type\":\"audio\",\"format\":\"PCMU\",\"channels\":[\"external\"],\"rate\":8000},"
        + "{\"type\":\"audio\",\"format\":\"PCMU\",\"channels\":[\"internal\"],\"rate\":8000}],"
        + "\"language\":\"en-US\",\"customConfig\":{\"queue\":\"support\"}"
        + (continuedSessionsJson == null ? "" : ",\"continuedSessions\":" + continuedSessionsJson) + "}");
  }

  String ping() {
    return message("ping", "{\"rtt\":\"PT0.012S\"}");
  }

  String paused() {
    return message("paused", "{}");
  }

  String resumed(long discardedMs) {
    return message("resumed", "{\"start\":\"" + position() + "\",\"discarded\":\"PT" + discardedMs / 1000 + "." + String.format(java.util.Locale.ROOT, "%03d",
        discardedMs % 1000) + "S\"}");
  }

  String discarded(long discardedMs) {
    return message("discarded", "{\"start\":\"" + position() + "\",\"discarded\":\"PT" + discardedMs / 1000 + "." + String.format(java.util.Locale.ROOT,
        "%03d", discardedMs % 1000) + "S\"}");
  }

  String close(String reason) {
    return message("close", "{\"reason\":\"" + reason + "\"}");
  }

  String raw(String type, String parameters) {
    return message(type, parameters);
  }

  /** Stereo PCMU, external then internal sample by sample, {@code ms} of audio from sample {@code from}. */
  static byte[] interleave(byte[] external, byte[] internal, int from, int samples) {
    byte[] out = new byte[samples * 2];
    for (int i = 0; i < samples; i++) {
      int s = from + i;
      out[2 * i] = s < external.length ? external[s] : (byte) 0xFF;
      out[2 * i + 1] = s < internal.length ? internal[s] : (byte) 0xFF;
    }
    return out;
  }
}
