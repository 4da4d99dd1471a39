package io.callvec.topology.chunks;

import io.callvec.audio.AudioFormatException;
import io.callvec.audio.Encoding;
import io.callvec.schemas.AudioEncoding;
import java.nio.ByteBuffer;

/**
 * The one mapping between the wire record ({@link io.callvec.schemas.AudioChunk}, Avro) and the
 * front end's chunk ({@link io.callvec.audio.AudioChunk}): the front end knows no Avro, the schemas
 * know no front end.
 */
public final class ChunkMapping {
  private ChunkMapping() {}

  /**
   * The front end's encoding of a wire encoding.
   *
   * @throws AudioFormatException with reason {@code UNKNOWN_ENCODING} for {@code null},
   *     {@code UNKNOWN} or any encoding the front end does not decode
   */
  public static Encoding frontEndEncoding(AudioEncoding e) throws AudioFormatException {
    return switch (e == null ? AudioEncoding.UNKNOWN : e) {
      case MULAW -> Encoding.MULAW;
      case ALAW -> Encoding.ALAW;
      case PCM_S16LE -> Encoding.PCM_S16LE;
      default -> throw new AudioFormatException(AudioFormatException.Reason.UNKNOWN_ENCODING,
          "encoding " + e + " is not supported: expected MULAW, ALAW or PCM_S16LE");
    };
  }

  /** The wire encoding of a front-end encoding. */
  public static AudioEncoding wireEncoding(Encoding e) {
    return switch (e) {
      case MULAW -> AudioEncoding.MULAW;
      case ALAW -> AudioEncoding.ALAW;
      case PCM_S16LE -> AudioEncoding.PCM_S16LE;
    };
  }

  /**
   * The front end's view of a wire chunk: sequence number, media timestamp, encoding, rate and a copy
   * of the payload's remaining bytes (the record's buffer is not consumed).
   *
   * @throws AudioFormatException with reason {@code UNKNOWN_ENCODING} as {@link #frontEndEncoding}
   */
  public static io.callvec.audio.AudioChunk toFrontEnd(io.callvec.schemas.AudioChunk c) throws AudioFormatException {
    return new io.callvec.audio.AudioChunk(c.getSequenceNumber(), c.getMediaTimestampMs(),
        frontEndEncoding(c.getEncoding()), c.getSampleRateHz(), payloadBytes(c));
  }

  /** A copy of the chunk's payload bytes (from the buffer's position to its limit); empty for no payload. */
  public static byte[] payloadBytes(io.callvec.schemas.AudioChunk c) {
    ByteBuffer p = c.getPayload();
    if (p == null) {
      return new byte[0];
    }
    byte[] b = new byte[p.remaining()];
    p.duplicate().get(b);
    return b;
  }
}
