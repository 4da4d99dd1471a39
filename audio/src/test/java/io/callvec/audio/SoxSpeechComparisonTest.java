package io.callvec.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real 8 kHz speech (Debian's asterisk-core-sounds-en-wav), encoded to mu-law by sox, then decoded and
 * resampled to 16 kHz by us in 20 ms chunks, against sox's {@code rate -v} of the same mu-law file:
 * SNR >= 40 dB at the best integer lag, which must be 0 (both compensate the filter delay).
 */
class SoxSpeechComparisonTest {

  private static final Logger LOG = LoggerFactory.getLogger(SoxSpeechComparisonTest.class);
  static final List<Path> SOUND_DIRS = List.of(
      Path.of("/usr/share/asterisk/sounds/en_US_f_Allison"), Path.of("/usr/share/asterisk/sounds/en"));
  private static final int FILES = 10;
  private static final int MAX_LAG = 40;

  /** Ten prompts spread evenly over the sorted list of the package's WAV files. */
  static List<Path> promptFiles() throws IOException {
    for (Path dir : SOUND_DIRS) {
      if (Files.isDirectory(dir)) {
        List<Path> all;
        try (Stream<Path> s = Files.list(dir)) {
          all = s.filter(p -> p.getFileName().toString().endsWith(".wav")).sorted().toList();
        }
        if (all.size() >= FILES) {
          List<Path> picked = new ArrayList<>();
          for (int i = 0; i < FILES; i++) {
            picked.add(all.get(i * all.size() / FILES));
          }
          return picked;
        }
      }
    }
    Sox.unavailable("no 8 kHz speech prompts in " + SOUND_DIRS
        + ": install asterisk-core-sounds-en-wav (apt-get install asterisk-core-sounds-en-wav)");
    return List.of();
  }

  @Test
  void muLawSpeechResampledLikeSoxRateV(@TempDir Path dir) throws IOException {
    Sox.require();
    List<Path> files = promptFiles();
    double min = Double.POSITIVE_INFINITY;
    double sum = 0;
    StringBuilder table = new StringBuilder();
    for (Path wav : files) {
      Path ul = dir.resolve("in.ul");
      Path ref = dir.resolve("ref.f32");
      Sox.run(wav.toString(), "-t", "ul", "-r", "8000", "-c", "1", ul.toString());
      Sox.run("-t", "ul", "-r", "8000", "-c", "1", ul.toString(),
          "-t", "f32", "-r", "16000", ref.toString(), "rate", "-v");
      float[] expected = Sox.readFloat32Raw(ref);
      byte[] mulaw = Files.readAllBytes(ul);

      Resampler r = new Resampler(8000);
      Resampler.Collector got = new Resampler.Collector();
      float[] chunk = new float[160];
      for (int off = 0; off < mulaw.length; off += 160) {
        int n = AudioDecoder.decode(Encoding.MULAW, mulaw, off, Math.min(160, mulaw.length - off), chunk, 0, 160);
        r.process(chunk, 0, n, got);
      }
      r.flush(got);
      float[] actual = got.toArray();
      assertEquals(2L * mulaw.length, actual.length);

      int bestLag = 0;
      double best = Double.NEGATIVE_INFINITY;
      for (int lag = -MAX_LAG; lag <= MAX_LAG; lag++) {
        double snr = snrDb(expected, actual, lag);
        if (snr > best) {
          best = snr;
          bestLag = lag;
        }
      }
      table.append(String.format("%n  %-40s %6.2f s  SNR %6.2f dB  lag %d", wav.getFileName(),
          mulaw.length / 8000.0, best, bestLag));
      assertEquals(0, bestLag, wav + ": best lag");
      min = Math.min(min, best);
      sum += best;
    }
    LOG.info("8 kHz mu-law speech -> 16 kHz, ours vs sox rate -v ({} prompts): min SNR {} dB, mean {} dB{}",
        files.size(), String.format("%.2f", min), String.format("%.2f", sum / files.size()), table);
    assertTrue(min >= 40, "min SNR " + min + " dB < 40 dB");
  }

  /** SNR of actual against expected when actual[i + lag] is aligned with expected[i]. */
  static double snrDb(float[] expected, float[] actual, int lag) {
    double sig = 0;
    double err = 0;
    for (int i = 0; i < expected.length; i++) {
      int j = i + lag;
      double a = j >= 0 && j < actual.length ? actual[j] : 0;
      double d = expected[i] - a;
      sig += (double) expected[i] * expected[i];
      err += d * d;
    }
    return 10 * Math.log10(sig / err);
  }
}
