package io.callvec.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.audio.AudioFormatException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.UnsupportedAudioFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** WAV reading (formats, channels, malformed files) and writing (checked with javax.sound). */
class WavFileTest {

  /** A WAV file built by hand: fmt (tag, channels, rate, bits), optional extra chunk, data. */
  static byte[] wav(int tag, int channels, int rate, int bits, byte[] data, boolean oddListChunk, boolean extensible) {
    ByteBuffer b = ByteBuffer.allocate(200 + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes()).putInt(0).put("WAVE".getBytes());
    int blockAlign = channels * bits / 8;
    b.put("fmt ".getBytes()).putInt(extensible ? 40 : 16)
        .putShort((short) (extensible ? 0xFFFE : tag)).putShort((short) channels).putInt(rate)
        .putInt(rate * blockAlign).putShort((short) blockAlign).putShort((short) bits);
    if (extensible) {
      b.putShort((short) 22).putShort((short) bits).putInt(4).putShort((short) tag)
          .put(new byte[] {0, 0, 0, 0, 0x10, 0, (byte) 0x80, 0, 0, (byte) 0xAA, 0, 0x38, (byte) 0x9B, 0x71});
    }
    if (oddListChunk) {
      b.put("LIST".getBytes()).putInt(3).put(new byte[] {1, 2, 3, 0}); // odd size + pad byte
    }
    b.put("data".getBytes()).putInt(data.length).put(data);
    b.putInt(4, b.position() - 8);
    byte[] out = new byte[b.position()];
    b.rewind();
    b.get(out);
    return out;
  }

  @Test
  void readsPcmMulawAlawMonoAndStereo() {
    byte[] pcm = {1, 0, (byte) 0xFF, (byte) 0xFF, 0, (byte) 0x80, 0, 0x40};
    WavFile w = WavFile.parse(wav(1, 1, 16000, 16, pcm, true, false), "pcm.wav");
    assertEquals(Encoding.PCM_S16LE, w.encoding());
    assertEquals(16000, w.sampleRateHz());
    assertEquals(4, w.frames());
    assertArrayEquals(new float[] {1 / 32768f, -1 / 32768f, -1f, 0.5f}, w.decodeChannel(0));

    WavFile st = WavFile.parse(wav(1, 2, 8000, 16, pcm, false, false), "stereo.wav");
    assertEquals(2, st.channels());
    assertEquals(2, st.frames());
    assertArrayEquals(new byte[] {(byte) 0xFF, (byte) 0xFF, 0, 0x40}, st.channelData(1));
    assertThrows(IllegalArgumentException.class, () -> st.channelData(2));

    byte[] codes = {0, (byte) 0x80, (byte) 0xFF};
    WavFile mu = WavFile.parse(wav(7, 1, 8000, 8, codes, false, false), "mu.wav");
    assertEquals(Encoding.MULAW, mu.encoding());
    assertArrayEquals(new float[] {-32124 / 32768f, 32124 / 32768f, 0f}, mu.decodeChannel(0));
    WavFile al = WavFile.parse(wav(6, 1, 8000, 8, codes, false, true), "alaw-extensible.wav");
    assertEquals(Encoding.ALAW, al.encoding());
    assertEquals(3, al.frames());
  }

  @Test
  void aCutDataChunkIsReadUpToTheLastWholeFrame() {
    byte[] full = wav(1, 1, 8000, 16, new byte[100], false, false);
    WavFile w = WavFile.parse(java.util.Arrays.copyOf(full, full.length - 11), "cut.wav");
    assertEquals(44, w.frames()); // 89 bytes left -> 44 whole samples
  }

  @Test
  void unsupportedAndMalformedFilesAreRejectedClearly() {
    assertReason(Reason.UNSUPPORTED_WAV_FORMAT, wav(3, 1, 16000, 32, new byte[8], false, false), "IEEE float");
    assertReason(Reason.UNSUPPORTED_WAV_FORMAT, wav(1, 1, 16000, 24, new byte[6], false, false), "24-bit");
    assertReason(Reason.UNSUPPORTED_WAV_FORMAT, wav(1, 1, 16000, 8, new byte[6], false, false), "8-bit");
    assertReason(Reason.BAD_WAV, "hello, this is not a wav file".getBytes(), "not a RIFF/WAVE");
    assertReason(Reason.BAD_WAV, new byte[3], "too short");
    byte[] noData = wav(1, 1, 16000, 16, new byte[0], false, false);
    noData[36] = 'x'; // rename the data chunk
    assertReason(Reason.BAD_WAV, noData, "no 'data' chunk");
    byte[] badAlign = wav(1, 2, 16000, 16, new byte[8], false, false);
    badAlign[32] = 2; // block align 2 for 2 channels of 16 bits
    assertReason(Reason.BAD_WAV, badAlign, "block align");
    byte[] rifx = wav(1, 1, 16000, 16, new byte[8], false, false);
    rifx[3] = 'X';
    assertReason(Reason.UNSUPPORTED_WAV_FORMAT, rifx, "RIFX");
  }

  private static void assertReason(Reason reason, byte[] file, String part) {
    AudioFormatException e = assertThrows(AudioFormatException.class, () -> WavFile.parse(file, "f.wav"));
    assertEquals(reason, e.reason());
    assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' lacks '" + part + "'");
  }

  @Test
  void writtenFilesReadBackExactlyAndJavaSoundAgreesOnTheHeader(@TempDir Path dir)
      throws IOException, UnsupportedAudioFileException {
    float[] x = Signals.noiseAndTones(16000, 10_001, 4);
    for (int i = 0; i < x.length; i++) {
      x[i] = Math.round(x[i] * 32768) / 32768f; // exactly representable in 16 bits
    }
    x[0] = 1.5f; // clipped
    x[1] = -1f;
    Path p = dir.resolve("pcm.wav");
    WavWriter.write(p, 16000, WavWriter.SampleFormat.PCM16, x);
    WavFile back = WavFile.read(p);
    float[] y = back.decodeChannel(0);
    assertEquals(32767 / 32768f, y[0]);
    for (int i = 1; i < x.length; i++) {
      assertEquals(x[i], y[i]);
    }
    AudioFileFormat aff = AudioSystem.getAudioFileFormat(p.toFile());
    assertEquals(AudioFileFormat.Type.WAVE, aff.getType());
    assertEquals(AudioFormat.Encoding.PCM_SIGNED, aff.getFormat().getEncoding());
    assertEquals(16000f, aff.getFormat().getSampleRate());
    assertEquals(16, aff.getFormat().getSampleSizeInBits());
    assertEquals(1, aff.getFormat().getChannels());
    assertEquals(x.length, aff.getFrameLength());

    Path f = dir.resolve("float.wav");
    WavWriter.write(f, 16000, WavWriter.SampleFormat.FLOAT32, x);
    AudioFileFormat ff = AudioSystem.getAudioFileFormat(f.toFile());
    assertEquals(AudioFormat.Encoding.PCM_FLOAT, ff.getFormat().getEncoding());
    assertEquals(32, ff.getFormat().getSampleSizeInBits());
    assertArrayEquals(x, floatData(Files.readAllBytes(f)));
  }

  /** The samples of a float WAV written by WavWriter (data chunk located by scanning). */
  static float[] floatData(byte[] file) {
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    int pos = 12;
    while (!new String(file, pos, 4, java.nio.charset.StandardCharsets.US_ASCII).equals("data")) {
      pos += 8 + b.getInt(pos + 4);
    }
    int n = b.getInt(pos + 4) / 4;
    float[] out = new float[n];
    b.position(pos + 8);
    b.asFloatBuffer().get(out);
    return out;
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      o.writeBytes(p);
    }
    return o.toByteArray();
  }
}
