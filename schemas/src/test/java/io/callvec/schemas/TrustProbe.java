package io.callvec.schemas;

import io.callvec.schemas.serde.CallvecSerdes;
import java.nio.ByteBuffer;

/**
 * Run by {@link AvroTrustTest} in a fresh JVM without {@code -Dorg.apache.avro.SERIALIZABLE_PACKAGES}:
 * encodes an AudioChunk, decodes it the way args[0] says, prints one line {@code OK <callId>} or
 * {@code FAIL <exception>} to stdout.
 */
public final class TrustProbe {

  private TrustProbe() {}

  public static void main(String[] args) throws Exception {
    AudioChunk chunk = Fixtures.audioChunk(77, true);
    ByteBuffer bytes = chunk.toByteBuffer();
    try {
      AudioChunk back;
      switch (args[0]) {
        case "generated-decoder" -> back = AudioChunk.fromByteBuffer(bytes);
        case "install-then-generated-decoder" -> {
          AvroTrust.install();
          AvroTrust.install();
          back = AudioChunk.fromByteBuffer(bytes);
        }
        case "serde" -> {
          byte[] b = new byte[bytes.remaining()];
          bytes.get(b);
          back = CallvecSerdes.audioChunk().decode(b);
        }
        default -> throw new IllegalArgumentException("unknown mode " + args[0]);
      }
      System.out.println((back.equals(chunk) ? "OK " : "MISMATCH ") + back.getCallId());
    } catch (Exception e) {
      System.out.println("FAIL " + e);
    }
  }
}
