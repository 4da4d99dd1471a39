package io.callvec.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.cli.CommandRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.UnsupportedAudioFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code callvec convert} end to end, in-process through the picocli command line. */
class ConvertCommandTest {

  static CommandRun run(String... args) {
    return CommandRun.callvec(args);
  }

  @Test
  void rawMuLawBecomesTheResampledStreamAsPcm16Wav(@TempDir Path dir)
      throws IOException, UnsupportedAudioFileException {
    float[] signal = ChannelFrontEndTest.speechLike(8000, 58_400, 7); // 7.3 s
    byte[] ul = ChannelFrontEndTest.mulaw(signal);
    Path in = dir.resolve("call.ul");
    Path out = dir.resolve("call16k.wav");
    Files.write(in, ul);
    CommandRun r = run("convert", "--in", in.toString(), "--format", "mulaw", "--out", out.toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("116800 samples (7.300 s)"), r.out());
    assertTrue(r.out().contains("365 chunks of 20 ms"), r.out());
    assertTrue(r.out().contains("2 windows (1 partial)"), r.out());

    AudioFileFormat aff = AudioSystem.getAudioFileFormat(out.toFile());
    assertEquals(16000f, aff.getFormat().getSampleRate());
    assertEquals(16, aff.getFormat().getSampleSizeInBits());
    assertEquals(1, aff.getFormat().getChannels());
    assertEquals(116_800, aff.getFrameLength());

    float[] expected = Signals.resampleWhole(8000, AudioDecoder.decode(Encoding.MULAW, ul, 1 << 20));
    float[] got = WavFile.read(out).decodeChannel(0);
    assertEquals(expected.length, got.length);
    for (int i = 0; i < got.length; i++) {
      assertEquals(WavWriter.toPcm16(expected[i]) / 32768f, got[i], "sample " + i);
    }
    // the content really is the signal: 16-bit output vs the float original, upsampled
    double[] fit = Signals.fitSine(
        Signals.resampleWhole(8000, Signals.sine(1000, 0.5, 0, 8000, 8000)), 1600, 14400, 1000, 16000);
    assertEquals(0.5, fit[0], 1e-3);
  }

  @Test
  void floatOutputIsBitExactAndChunkSizeDoesNotMatter(@TempDir Path dir) throws IOException {
    float[] signal = ChannelFrontEndTest.speechLike(8000, 24_000, 8);
    byte[] al = new byte[signal.length];
    for (int i = 0; i < al.length; i++) {
      al[i] = (byte) G711.pcm16ToAlaw(Math.round(signal[i] * 32767));
    }
    Path in = dir.resolve("call.al");
    Files.write(in, al);
    float[] expected = Signals.resampleWhole(8000, AudioDecoder.decode(Encoding.ALAW, al));
    for (String chunkMs : new String[] {"20", "7", "1000"}) {
      Path out = dir.resolve("out" + chunkMs + ".wav");
      CommandRun r = run("convert", "--in", in.toString(), "--format", "alaw", "--rate", "8000",
          "--chunk-ms", chunkMs, "--out", out.toString(), "--float");
      assertEquals(0, r.exit(), r.err());
      assertArrayEquals(expected, WavFileTest.floatData(Files.readAllBytes(out)), "chunk " + chunkMs + " ms");
    }
  }

  @Test
  void sixteenKilohertzWavPassesThroughAndStereoNeedsAChannel(@TempDir Path dir) throws IOException {
    float[] signal = ChannelFrontEndTest.speechLike(16000, 16000 * 6 + 8000, 9); // 6.5 s
    Path mono = dir.resolve("mono16k.wav");
    WavWriter.write(mono, 16000, WavWriter.SampleFormat.PCM16, signal);
    Path out = dir.resolve("out.wav");
    CommandRun r = run("convert", "--in", mono.toString(), "--format", "wav", "--out", out.toString());
    assertEquals(0, r.exit(), r.err());
    assertArrayEquals(WavFile.read(mono).decodeChannel(0), WavFile.read(out).decodeChannel(0));

    // stereo 8 kHz PCM: left = signal, right = silence
    float[] left = ChannelFrontEndTest.speechLike(8000, 16000, 10);
    byte[] data = new byte[left.length * 4];
    for (int i = 0; i < left.length; i++) {
      short v = WavWriter.toPcm16(left[i]);
      data[4 * i] = (byte) v;
      data[4 * i + 1] = (byte) (v >> 8);
    }
    Path stereo = dir.resolve("stereo.wav");
    Files.write(stereo, WavFileTest.wav(1, 2, 8000, 16, data, false, false));
    r = run("convert", "--in", stereo.toString(), "--format", "wav", "--out", out.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("has 2 channels: choose one with --channel 0..1"), r.err());
    r = run("convert", "--in", stereo.toString(), "--format", "wav", "--channel", "1", "--out", out.toString());
    assertEquals(0, r.exit(), r.err());
    float[] right = WavFile.read(out).decodeChannel(0);
    assertEquals(32000, right.length);
    for (float v : right) {
      assertEquals(0f, v);
    }
    r = run("convert", "--in", stereo.toString(), "--format", "wav", "--channel", "0", "--out", out.toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(Signals.rms(WavFile.read(out).decodeChannel(0), 0, 32000) > 0.01);
  }

  @Test
  void clearErrorsForBadInput(@TempDir Path dir) throws IOException {
    Path odd = dir.resolve("odd.raw");
    Files.write(odd, new byte[3]);
    Path out = dir.resolve("o.wav");
    CommandRun r = run("convert", "--in", odd.toString(), "--format", "pcm16le", "--out", out.toString());
    assertEquals(1, r.exit());
    assertTrue(r.err().contains("PARTIAL_SAMPLE"), r.err());
    r = run("convert", "--in", odd.toString(), "--format", "opus", "--out", out.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("expected mulaw, alaw, pcm16le or wav"), r.err());
    Path fl = dir.resolve("float.wav");
    WavWriter.write(fl, 16000, WavWriter.SampleFormat.FLOAT32, new float[10]);
    r = run("convert", "--in", fl.toString(), "--format", "wav", "--out", out.toString());
    assertEquals(1, r.exit());
    assertTrue(r.err().contains("IEEE float (format 3) 32-bit audio is not supported"), r.err());
    r = run("convert", "--in", odd.toString(), "--format", "mulaw", "--rate", "2000", "--out", out.toString());
    assertEquals(1, r.exit());
    assertTrue(r.err().contains("UNSUPPORTED_SAMPLE_RATE"), r.err());
    r = run("convert", "--in", dir.resolve("missing").toString(), "--format", "mulaw", "--out", out.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("no such file"), r.err());
  }

  @Test
  void a44kHzWavComesOutAtTheRoundedLength(@TempDir Path dir) throws IOException {
    float[] signal = ChannelFrontEndTest.speechLike(44100, 44100 * 2 + 999, 11);
    Path in = dir.resolve("cd.wav");
    WavWriter.write(in, 44100, WavWriter.SampleFormat.PCM16, signal);
    Path out = dir.resolve("out.wav");
    CommandRun r = run("convert", "--in", in.toString(), "--format", "wav", "--out", out.toString());
    assertEquals(0, r.exit(), r.err());
    assertEquals(Resampler.outputLength(signal.length, 44100), WavFile.read(out).frames());
  }
}
