package io.callvec.model.vad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Silero VAD v5 on real recordings laid out with known speech boundaries: Debian's Asterisk
 * prompts (8 kHz, μ-law coded, as on a telephone channel) and pocketsphinx-testdata's read
 * speech (16 kHz), separated by digital silence and by line noise at −50…−40 dBFS. Frame-level
 * agreement with the layout must be at least 95 %. Also: chunked feeding, state serialisation and
 * batching across streams give the same probabilities as one uninterrupted stream.
 */
class SileroVadTest {
  private static final Logger LOG = LoggerFactory.getLogger(SileroVadTest.class);
  private static final double MIN_AGREEMENT = 0.95;
  private static final int CHUNK_MS = 20;

  @RegisterExtension static final SharedVad VAD = new SharedVad();

  /** Labels of every frame of {@code x}, fed in 20 ms chunks as the stream would. */
  private static boolean[] labels(float[] x, int rate, VadOptions o, float[][] probsOut)
      throws Exception {
    VadState s = VadState.initial(rate);
    SpeechHysteresis h = new SpeechHysteresis(o);
    int chunk = rate * CHUNK_MS / 1000;
    boolean[] out = new boolean[x.length / s.frameSamples()];
    float[] probs = new float[out.length];
    int decided = 0;
    int seen = 0;
    for (int i = 0; i + chunk <= x.length; i += chunk) {
      for (float p : VAD.get().process(s, x, i, chunk)) {
        probs[seen++] = p;
        decided = apply(out, decided, h.accept(p));
      }
    }
    decided = apply(out, decided, h.flush());
    assertEquals(seen, decided, "every frame labelled once");
    if (probsOut != null) {
      probsOut[0] = java.util.Arrays.copyOf(probs, seen);
    }
    return java.util.Arrays.copyOf(out, decided);
  }

  private static int apply(boolean[] out, int at, int decision) {
    int n = Math.abs(decision);
    for (int k = 0; k < n; k++) {
      out[at + k] = decision > 0;
    }
    return at + n;
  }

  private record Agreement(double all, double speechRecall, double silenceRecall, int frames) {}

  private static Agreement agreement(boolean[] truth, boolean[] got) {
    int n = Math.min(truth.length, got.length);
    int same = 0;
    int speech = 0;
    int speechHit = 0;
    int sil = 0;
    int silHit = 0;
    for (int f = 0; f < n; f++) {
      same += truth[f] == got[f] ? 1 : 0;
      if (truth[f]) {
        speech++;
        speechHit += got[f] ? 1 : 0;
      } else {
        sil++;
        silHit += got[f] ? 0 : 1;
      }
    }
    return new Agreement((double) same / n, (double) speechHit / speech, (double) silHit / sil, n);
  }

  /** Asterisk prompts (every 12th file, 8 kHz) with 0.6–2.0 s gaps. */
  private static SpeechLayout asteriskLayout(boolean noise, double noiseDbfs, long seed)
      throws Exception {
    List<Path> prompts = TestAudio.asteriskPrompts();
    Random r = new Random(seed);
    SpeechLayout layout = new SpeechLayout(8_000).silence(1000);
    for (int i = (int) (seed % 12); i < prompts.size(); i += 12) {
      TestAudio.Pcm pcm = TestAudio.readWav(prompts.get(i));
      assertEquals(8_000, pcm.sampleRateHz(), prompts.get(i).toString());
      layout.speech(pcm.samples()).silence(600 + r.nextInt(1400));
    }
    if (noise) {
      layout.lineNoise(0, layout.length(), noiseDbfs, seed);
    }
    return layout;
  }

  @Test
  void agreesWithKnownLayoutOfAsteriskPromptsOnATelephoneChannel() throws Exception {
    VadOptions o = VadOptions.defaults();
    double worst = 1;
    StringBuilder table = new StringBuilder();
    Object[][] conditions = {{"digital silence", false, 0.0}, {"line noise -50 dBFS", true, -50.0},
        {"line noise -45 dBFS", true, -45.0}, {"line noise -40 dBFS", true, -40.0}};
    long seed = 3;
    for (Object[] c : conditions) {
      SpeechLayout layout = asteriskLayout((Boolean) c[1], (Double) c[2], seed++);
      float[] channel = TestAudio.muLaw(layout.samples());
      boolean[] got = labels(channel, 8_000, o, null);
      Agreement a = agreement(layout.truth(256), got);
      table.append(String.format(Locale.ROOT,
          "%n  8 kHz mu-law, %-20s %5d frames (%4.0f s, %d prompts): agreement %.3f, speech "
              + "recall %.3f, silence recall %.3f", c[0], a.frames(), a.frames() * 0.032,
          layout.speech().size(), a.all(), a.speechRecall(), a.silenceRecall()));
      worst = Math.min(worst, a.all());
    }
    LOG.info("Silero VAD v5 vs known layout, {}:{}", o, table);
    assertTrue(worst >= MIN_AGREEMENT, "worst frame agreement " + worst + ":" + table);
  }

  @Test
  void agreesWithKnownLayoutOfReadSpeechAt16kHz() throws Exception {
    VadOptions o = VadOptions.defaults();
    StringBuilder table = new StringBuilder();
    double worst = 1;
    for (double noise : new double[] {Double.NaN, -45.0}) {
      Random r = new Random(7);
      SpeechLayout layout = new SpeechLayout(16_000).silence(1000);
      for (Path p : TestAudio.pocketsphinxSpeech()) {
        TestAudio.Pcm pcm = TestAudio.readWav(p);
        assertEquals(16_000, pcm.sampleRateHz(), p.toString());
        layout.speech(pcm.samples()).silence(800 + r.nextInt(1200));
      }
      if (!Double.isNaN(noise)) {
        layout.lineNoise(0, layout.length(), noise, 11);
      }
      boolean[] got = labels(layout.samples(), 16_000, o, null);
      Agreement a = agreement(layout.truth(512), got);
      String what = Double.isNaN(noise) ? "digital silence" : "line noise " + noise + " dBFS";
      table.append(String.format(Locale.ROOT,
          "%n  16 kHz, %-22s %5d frames (%4.0f s): agreement %.3f, speech recall %.3f, silence "
              + "recall %.3f", what, a.frames(), a.frames() * 0.032, a.all(), a.speechRecall(),
          a.silenceRecall()));
      worst = Math.min(worst, a.all());
    }
    LOG.info("Silero VAD v5 vs known layout (pocketsphinx read speech), {}:{}", o, table);
    assertTrue(worst >= MIN_AGREEMENT, "worst frame agreement " + worst + ":" + table);
  }

  @Test
  void chunkingSerialisationAndBatchingDoNotChangeProbabilities() throws Exception {
    SpeechLayout layout = asteriskLayout(true, -45, 1);
    float[] x = TestAudio.muLaw(layout.samples());
    int frames = Math.min(400, x.length / 256);
    float[] whole = VAD.get().process(VadState.initial(8_000), x, 0, frames * 256);
    assertEquals(frames, whole.length);

    // 20 ms chunks (160 samples, not a multiple of 256) through a serialised state every chunk
    byte[] state = VadState.initial(8_000).toBytes();
    List<Float> chunked = new ArrayList<>();
    for (int i = 0; i + 160 <= frames * 256; i += 160) {
      VadState s = VadState.fromBytes(state);
      for (float p : VAD.get().process(s, x, i, 160)) {
        chunked.add(p);
      }
      state = s.toBytes();
      assertTrue(state.length <= 1 + 4 + 8 + 4 + 4 * (256 + 32 + 255), "state " + state.length);
    }
    float[] c = new float[chunked.size()];
    for (int i = 0; i < c.length; i++) {
      c[i] = chunked.get(i);
    }
    assertArrayEquals(java.util.Arrays.copyOf(whole, c.length), c, "chunked + restored");

    // three streams in one batch: stream b starts at frame offset 37 * b
    List<VadState> states = List.of(VadState.initial(8_000), VadState.initial(8_000),
        VadState.initial(8_000));
    float[][] alone = new float[3][];
    for (int b = 0; b < 3; b++) {
      alone[b] = VAD.get().process(VadState.initial(8_000), x, 37 * 256 * b, 100 * 256);
    }
    for (int f = 0; f < 100; f++) {
      List<float[]> batch = new ArrayList<>();
      for (int b = 0; b < 3; b++) {
        int from = (37 * b + f) * 256;
        batch.add(java.util.Arrays.copyOfRange(x, from, from + 256));
      }
      float[] p = VAD.get().step(states, batch);
      for (int b = 0; b < 3; b++) {
        assertEquals(alone[b][f], p[b], 1e-5, "stream " + b + " frame " + f);
      }
    }
    assertThrows(IllegalArgumentException.class,
        () -> VAD.get().step(List.of(VadState.initial(16_000)), List.of(new float[256])));
    assertThrows(IllegalArgumentException.class, () -> VadState.initial(44_100));
  }

  @Test
  void hysteresisHoldsShortBurstsAndPauses() {
    VadOptions o = new VadOptions(0.5, 0.35, 96, 64); // 3 frames to enter, 2 to leave
    SpeechHysteresis h = new SpeechHysteresis(o);
    assertEquals(-1, h.accept(0.1f));
    assertEquals(0, h.accept(0.9f));
    assertEquals(0, h.accept(0.9f));
    assertEquals(-3, h.accept(0.2f), "a 2-frame burst is silence");
    assertEquals(0, h.accept(0.6f));
    assertEquals(0, h.accept(0.6f));
    assertEquals(3, h.accept(0.6f), "3 frames at onset: speech, all three");
    assertEquals(1, h.accept(0.4f), "between thresholds: stays speech");
    assertEquals(0, h.accept(0.1f));
    int encoded = h.encode();
    SpeechHysteresis restored = new SpeechHysteresis(o);
    restored.decode(encoded);
    assertEquals(2, restored.accept(0.5f), "a 1-frame pause stays speech");
    assertEquals(0, restored.accept(0.1f));
    assertEquals(-2, restored.accept(0.1f), "2 frames below offset: silence");
    assertEquals(0, restored.accept(0.9f));
    assertEquals(-1, restored.flush(), "a held onset at the end is silence");
    assertThrows(IllegalArgumentException.class, () -> new VadOptions(0.5, 0.6, 0, 0));
  }
}
