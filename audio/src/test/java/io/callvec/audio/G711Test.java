package io.callvec.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.audio.AudioFormatException.Reason;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** All 256 G.711 codes against sox's decoder and the JDK's, PCM16 decoding, payload validation. */
class G711Test {

  private static byte[] allCodes() {
    byte[] b = new byte[256];
    for (int i = 0; i < 256; i++) {
      b[i] = (byte) i;
    }
    return b;
  }

  private static short[] ours(Encoding e) {
    short[] s = new short[256];
    for (int i = 0; i < 256; i++) {
      s[i] = e == Encoding.MULAW ? G711.mulawToPcm16(i) : G711.alawToPcm16(i);
    }
    return s;
  }

  @Test
  void all256CodesMatchSox(@TempDir Path dir) throws IOException {
    Sox.require();
    for (Encoding e : new Encoding[] {Encoding.MULAW, Encoding.ALAW}) {
      Path in = dir.resolve("codes." + (e == Encoding.MULAW ? "ul" : "al"));
      Path out = dir.resolve("codes.s16");
      Files.write(in, allCodes());
      Sox.run("-t", e == Encoding.MULAW ? "ul" : "al", "-r", "8000", "-c", "1", in.toString(),
          "-t", "s16", out.toString());
      short[] sox = Sox.readS16Raw(out);
      assertEquals(256, sox.length);
      assertArrayEquals(sox, ours(e), e + " vs sox");
    }
  }

  @Test
  void all256CodesMatchTheJdk() throws IOException {
    for (Encoding e : new Encoding[] {Encoding.MULAW, Encoding.ALAW}) {
      AudioFormat g711 = new AudioFormat(
          e == Encoding.MULAW ? AudioFormat.Encoding.ULAW : AudioFormat.Encoding.ALAW, 8000f, 8, 1, 1, 8000f, false);
      AudioFormat pcm = new AudioFormat(AudioFormat.Encoding.PCM_SIGNED, 8000f, 16, 1, 2, 8000f, false);
      byte[] decoded;
      try (AudioInputStream src = new AudioInputStream(new ByteArrayInputStream(allCodes()), g711, 256);
          AudioInputStream conv = AudioSystem.getAudioInputStream(pcm, src)) {
        decoded = conv.readAllBytes();
      }
      assertEquals(512, decoded.length);
      short[] jdk = new short[256];
      for (int i = 0; i < 256; i++) {
        jdk[i] = (short) ((decoded[2 * i] & 0xFF) | decoded[2 * i + 1] << 8);
      }
      assertArrayEquals(jdk, ours(e), e + " vs javax.sound.sampled");
    }
  }

  @Test
  void knownItuValuesAndFloatScaling() {
    assertEquals(-32124, G711.mulawToPcm16(0x00));
    assertEquals(32124, G711.mulawToPcm16(0x80));
    assertEquals(0, G711.mulawToPcm16(0xFF));
    assertEquals(0, G711.mulawToPcm16(0x7F));
    assertEquals(-8, G711.alawToPcm16(0x55));
    assertEquals(8, G711.alawToPcm16(0xD5));
    assertEquals(-32256, G711.alawToPcm16(0x2A));
    assertEquals(32256, G711.alawToPcm16(0xAA));
    float[] f = AudioDecoder.decode(Encoding.MULAW, allCodes());
    float[] a = AudioDecoder.decode(Encoding.ALAW, allCodes());
    for (int i = 0; i < 256; i++) {
      assertEquals(G711.mulawToPcm16(i) / 32768f, f[i]);
      assertEquals(G711.alawToPcm16(i) / 32768f, a[i]);
      assertTrue(f[i] >= -1f && f[i] < 1f);
    }
  }

  @Test
  void encodersInvertTheDecoders() {
    for (int code = 0; code < 256; code++) {
      if (code != 0x7F) { // mu-law has two zeros; 0 encodes as 0xFF
        assertEquals(code, G711.pcm16ToMulaw(G711.mulawToPcm16(code)), "mu-law code " + code);
      }
      assertEquals(code, G711.pcm16ToAlaw(G711.alawToPcm16(code)), "A-law code " + code);
    }
    assertEquals(0x80, G711.pcm16ToMulaw(40000)); // clamps to the maximum
    assertEquals(0xAA, G711.pcm16ToAlaw(40000));
  }

  @Test
  void pcm16LittleEndianDecodesToValueOver32768() {
    byte[] p = {0x00, (byte) 0x80, (byte) 0xFF, 0x7F, 0x01, 0x00, (byte) 0xFF, (byte) 0xFF, 0, 0};
    float[] f = AudioDecoder.decode(Encoding.PCM_S16LE, p);
    assertArrayEquals(new float[] {-1f, 32767 / 32768f, 1 / 32768f, -1 / 32768f, 0f}, f);
  }

  @Test
  void malformedPayloadsAreRejectedWithTypedReasons() {
    assertReason(Reason.PARTIAL_SAMPLE, () -> AudioDecoder.decode(Encoding.PCM_S16LE, new byte[3]), "3 bytes");
    assertReason(Reason.EMPTY_PAYLOAD, () -> AudioDecoder.decode(Encoding.MULAW, new byte[0]), "empty");
    assertReason(Reason.EMPTY_PAYLOAD, () -> AudioDecoder.decode(Encoding.MULAW, null), "null");
    assertReason(Reason.PAYLOAD_TOO_LARGE, () -> AudioDecoder.decode(Encoding.ALAW, new byte[161], 160),
        "161 bytes exceeds the maximum of 160");
    assertReason(Reason.PAYLOAD_TOO_LARGE,
        () -> AudioDecoder.decode(Encoding.MULAW, new byte[AudioDecoder.DEFAULT_MAX_PAYLOAD_BYTES + 1]), "exceeds");
    assertReason(Reason.UNKNOWN_ENCODING, () -> AudioDecoder.decode(null, new byte[2]), "encoding");
    assertReason(Reason.UNKNOWN_ENCODING, () -> Encoding.parse("opus"), "'opus'");
    assertReason(Reason.UNKNOWN_ENCODING, () -> Encoding.parse("l16"), "'l16'");
    assertEquals(Encoding.MULAW, Encoding.parse("PCMU"));
    assertEquals(Encoding.ALAW, Encoding.parse("a-law"));
    assertEquals(Encoding.PCM_S16LE, Encoding.parse("pcm_s16le"));
    // nothing is written when the payload is rejected
    float[] dst = {7f, 7f};
    assertThrows(AudioFormatException.class,
        () -> AudioDecoder.decode(Encoding.PCM_S16LE, new byte[3], 0, 3, dst, 0, 100));
    assertArrayEquals(new float[] {7f, 7f}, dst);
  }

  private static void assertReason(Reason reason, Runnable r, String messagePart) {
    AudioFormatException e = assertThrows(AudioFormatException.class, r::run);
    assertEquals(reason, e.reason());
    assertTrue(e.getMessage().contains(messagePart), "'" + e.getMessage() + "' lacks '" + messagePart + "'");
  }
}
