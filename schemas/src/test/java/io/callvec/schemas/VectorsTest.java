package io.callvec.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class VectorsTest {

  @Test
  void roundTripKeepsEveryBitIncludingSpecialValues() {
    float[] v = Fixtures.vector(7, 1024);
    v[0] = Float.NaN;
    v[1] = Float.NEGATIVE_INFINITY;
    v[2] = -0.0f;
    v[3] = Float.MIN_VALUE;
    ByteBuffer b = Vectors.toBytes(v);
    assertEquals(4096, b.remaining());
    float[] back = Vectors.fromBytes(b, 1024);
    for (int i = 0; i < v.length; i++) {
      assertEquals(Float.floatToRawIntBits(v[i]), Float.floatToRawIntBits(back[i]), "value " + i);
    }
    assertEquals(0, b.position(), "fromBytes must not move the buffer");
  }

  @Test
  void layoutIsFloat32LittleEndian() {
    ByteBuffer b = Vectors.toBytes(new float[] {1.0f, -2.5f});
    byte[] bytes = new byte[b.remaining()];
    b.duplicate().get(bytes);
    // 1.0f = 0x3F800000, -2.5f = 0xC0200000, least significant byte first.
    assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3F, 0, 0, 0x20, (byte) 0xC0}, bytes);
  }

  @Test
  void readsFromTheBufferPositionWhateverItsByteOrder() {
    ByteBuffer big = ByteBuffer.allocate(3 + 8).order(ByteOrder.BIG_ENDIAN);
    big.position(3);
    big.put(Vectors.toBytes(new float[] {0.25f, 4f}));
    big.position(3);
    assertArrayEquals(new float[] {0.25f, 4f}, Vectors.fromBytes(big, 2));
    assertEquals(ByteOrder.BIG_ENDIAN, big.order(), "caller's buffer order must be left alone");
    assertEquals(2, Vectors.dimensionOf(big));
  }

  @Test
  void rejectsWrongLengthAndDimension() {
    ByteBuffer b = Vectors.toBytes(new float[3]);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Vectors.fromBytes(b, 4));
    assertTrue(e.getMessage().contains("12 bytes, expected 16"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Vectors.fromBytes(b, 0));
    assertThrows(IllegalArgumentException.class, () -> Vectors.fromBytes(ByteBuffer.allocate(13), 3));
    assertThrows(IllegalArgumentException.class, () -> Vectors.dimensionOf(ByteBuffer.allocate(13)));
    assertThrows(IllegalArgumentException.class, () -> Vectors.dimensionOf(ByteBuffer.allocate(0)));
    assertThrows(IllegalArgumentException.class, () -> Vectors.toBytes(new float[0]));
  }
}
