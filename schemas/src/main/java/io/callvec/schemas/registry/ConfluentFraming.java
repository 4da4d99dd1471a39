package io.callvec.schemas.registry;

import java.util.HexFormat;

/**
 * The Confluent Schema Registry wire format: byte 0 = magic {@code 0x00}, bytes 1–4 = the schema id
 * (signed 32-bit, big-endian), then the Avro binary body (no schema, no length prefix).
 */
public final class ConfluentFraming {

  /** The first byte of every framed value. */
  public static final byte MAGIC = 0;
  /** Bytes before the Avro body: magic + 4-byte id. */
  public static final int HEADER_BYTES = 5;

  private ConfluentFraming() {}

  /** {@code body} framed with {@code schemaId}. */
  public static byte[] frame(int schemaId, byte[] body, int bodyLength) {
    byte[] out = new byte[HEADER_BYTES + bodyLength];
    out[0] = MAGIC;
    out[1] = (byte) (schemaId >>> 24);
    out[2] = (byte) (schemaId >>> 16);
    out[3] = (byte) (schemaId >>> 8);
    out[4] = (byte) schemaId;
    System.arraycopy(body, 0, out, HEADER_BYTES, bodyLength);
    return out;
  }

  /**
   * The schema id of a framed value.
   *
   * @param what names the value in the error (e.g. "AudioChunk on topic t")
   * @throws WrongMagicByteException if {@code data} is shorter than {@value #HEADER_BYTES} bytes or
   *     does not start with {@code 0x00}
   */
  public static int schemaId(byte[] data, String what) {
    if (data.length < HEADER_BYTES) {
      throw new WrongMagicByteException("truncated " + what + ": " + data.length
          + " bytes, a Confluent-framed value has at least " + HEADER_BYTES + " (magic 00 + 4-byte schema id)");
    }
    if (data[0] != MAGIC) {
      String hint = (data[0] & 0xFF) == 0xC3 && data[1] == 0x01
          ? " (C3 01 is Avro single-object encoding: set callvec.serde=single-object to read it)"
          : "";
      throw new WrongMagicByteException("wrong magic byte in " + what + ": found "
          + HexFormat.of().withUpperCase().formatHex(data, 0, 1) + ", expected 00 (Confluent wire format)" + hint);
    }
    return ((data[1] & 0xFF) << 24) | ((data[2] & 0xFF) << 16) | ((data[3] & 0xFF) << 8) | (data[4] & 0xFF);
  }
}
