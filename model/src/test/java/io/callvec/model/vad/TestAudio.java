package io.callvec.model.vad;

import static org.junit.jupiter.api.Assertions.fail;

import io.callvec.model.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * Real recordings from Debian packages (installed by .ci/run), G.711 μ-law coding and the Silero
 * model for the VAD tests. A missing package or model fails under CI ({@code CI} set) and skips
 * elsewhere, naming the install command. Public for the topology's speech-gate tests (model's
 * test-jar).
 */
public final class TestAudio {
  /** asterisk-core-sounds-en-wav: human-recorded prompts, 8 kHz PCM16 (CC-BY-SA-3.0). */
  public static final List<Path> ASTERISK_DIRS = List.of(
      Path.of("/usr/share/asterisk/sounds/en_US_f_Allison"), Path.of("/usr/share/asterisk/sounds/en"));
  /** pocketsphinx-testdata: read speech at 16 kHz (LibriVox, CMU). */
  static final Path POCKETSPHINX = Path.of("/usr/share/pocketsphinx/test/data");

  private TestAudio() {}

  public static void missing(String what) {
    if (System.getenv("CI") != null) {
      fail(what);
    }
    Assumptions.abort(what);
  }

  public static SileroVad vad() {
    try {
      return SileroVad.load();
    } catch (ModelLoadException e) {
      missing(e.getMessage());
      return null;
    }
  }

  /** Sorted *.wav files of the first existing directory, or a failure/skip. */
  public static List<Path> asteriskPrompts() throws IOException {
    for (Path dir : ASTERISK_DIRS) {
      if (Files.isDirectory(dir)) {
        try (Stream<Path> s = Files.list(dir)) {
          List<Path> wavs = s.filter(p -> p.toString().endsWith(".wav")).sorted()
              .collect(Collectors.toList());
          if (!wavs.isEmpty()) {
            return wavs;
          }
        }
      }
    }
    missing("Asterisk prompts not found in " + ASTERISK_DIRS
        + ": apt-get install asterisk-core-sounds-en-wav (.ci/run does)");
    return List.of();
  }

  static List<Path> pocketsphinxSpeech() throws IOException {
    Path dir = POCKETSPHINX.resolve("librivox");
    if (!Files.isDirectory(dir)) {
      missing("pocketsphinx read speech not found in " + dir
          + ": apt-get install pocketsphinx-testdata (.ci/run does)");
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".wav")).sorted().collect(Collectors.toList());
    }
  }

  /** A mono PCM16 WAV file: samples in [−1, 1) and the rate. */
  record Pcm(float[] samples, int sampleRateHz) {}

  static Pcm readWav(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    if (b.getInt(0) != 0x46464952 || b.getInt(8) != 0x45564157) {
      throw new IOException(file + ": not a RIFF/WAVE file");
    }
    int pos = 12;
    int rate = -1;
    while (pos + 8 <= b.limit()) {
      int id = b.getInt(pos);
      int size = b.getInt(pos + 4);
      if (id == 0x20746d66) { // "fmt "
        int format = b.getShort(pos + 8);
        int channels = b.getShort(pos + 10);
        rate = b.getInt(pos + 12);
        int bits = b.getShort(pos + 22);
        if (format != 1 || channels != 1 || bits != 16) {
          throw new IOException(file + ": expected mono PCM16, got format " + format + ", "
              + channels + " channels, " + bits + " bits");
        }
      } else if (id == 0x61746164) { // "data"
        int n = Math.min(size, b.limit() - pos - 8) / 2;
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
          out[i] = b.getShort(pos + 8 + 2 * i) / 32768f;
        }
        return new Pcm(out, rate);
      }
      pos += 8 + size + (size & 1);
    }
    throw new IOException(file + ": no data chunk");
  }

  /** G.711 μ-law encoding of a linear sample in [−1, 1) (ITU-T G.711, bias 0x84, clip 32635). */
  static byte muLawEncode(float x) {
    int pcm = Math.max(-32768, Math.min(32767, Math.round(x * 32768f)));
    int sign = (pcm >> 8) & 0x80;
    if (sign != 0) {
      pcm = -pcm;
    }
    pcm = Math.min(pcm, 32635) + 0x84;
    int exponent = 7;
    for (int mask = 0x4000; (pcm & mask) == 0 && exponent > 0; mask >>= 1) {
      exponent--;
    }
    int mantissa = (pcm >> (exponent + 3)) & 0x0F;
    return (byte) ~(sign | (exponent << 4) | mantissa);
  }

  static float muLawDecode(byte code) {
    int u = ~code & 0xFF;
    int t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
    int pcm = (u & 0x80) != 0 ? 0x84 - t : t - 0x84;
    return pcm / 32768f;
  }

  /** Encodes and decodes every sample, as a G.711 μ-law telephone channel does. */
  static float[] muLaw(float[] x) {
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = muLawDecode(muLawEncode(x[i]));
    }
    return out;
  }
}
