package io.callvec.schemas.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConfluentFramingTest {

  @Test
  void framesWithMagicAndBigEndianId() {
    byte[] framed = ConfluentFraming.frame(0x01020304, new byte[] {9, 8, 7}, 2);
    assertArrayEquals(new byte[] {0, 1, 2, 3, 4, 9, 8}, framed);
    assertEquals(0x01020304, ConfluentFraming.schemaId(framed, "x"));
    assertEquals(-2, ConfluentFraming.schemaId(ConfluentFraming.frame(-2, new byte[0], 0), "x"), "ids are signed 32-bit");
  }

  @Test
  void wrongMagicAndTruncatedHeadersAreNamed() {
    WrongMagicByteException so = assertThrows(WrongMagicByteException.class,
        () -> ConfluentFraming.schemaId(new byte[] {(byte) 0xC3, 0x01, 0, 0, 0, 0}, "AudioChunk on topic t"));
    assertTrue(so.getMessage().contains("found C3") && so.getMessage().contains("single-object")
        && so.getMessage().contains("AudioChunk on topic t"), so.getMessage());
    WrongMagicByteException other = assertThrows(WrongMagicByteException.class,
        () -> ConfluentFraming.schemaId(new byte[] {7, 0, 0, 0, 1}, "v"));
    assertTrue(other.getMessage().contains("found 07"), other.getMessage());
    WrongMagicByteException shortOne = assertThrows(WrongMagicByteException.class,
        () -> ConfluentFraming.schemaId(new byte[] {0, 0, 0, 1}, "v"));
    assertTrue(shortOne.getMessage().contains("4 bytes"), shortOne.getMessage());
  }
}
