package io.callvec.cli;

import static io.callvec.model.Similarity.cosine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.audio.AudioWindow;
import io.callvec.audio.ChannelFrontEnd;
import io.callvec.audio.Encoding;
import io.callvec.audio.FrontEndConfig;
import io.callvec.audio.G711;
import io.callvec.audio.SyntheticSpeech;
import io.callvec.audio.WindowPlanner;
import io.callvec.model.EmbeddingModel;
import io.callvec.model.ModelInfo;
import io.callvec.model.ModelOptions;
import io.callvec.model.Pooling;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code callvec embed} end to end, in-process through the picocli command line, with the bundled fixture model. */
class EmbedCommandTest {

  static CommandRun run(String... args) {
    return CommandRun.callvec(args);
  }

  /** Writes a WAV file: {@code formatTag} 1 (PCM, 16 bits), 6 (A-law, 8 bits) or 7 (mu-law, 8 bits); {@code data} interleaved. */
  static void writeWav(Path file, int rateHz, int formatTag, int channels, byte[] data) throws IOException {
    int bits = formatTag == 1 ? 16 : 8;
    int blockAlign = channels * bits / 8;
    ByteBuffer b = ByteBuffer.allocate(44 + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + data.length).put("WAVE".getBytes(StandardCharsets.US_ASCII));
    b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) formatTag).putShort((short) channels)
        .putInt(rateHz).putInt(rateHz * blockAlign).putShort((short) blockAlign).putShort((short) bits);
    b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(data.length).put(data);
    Files.write(file, b.array());
  }

  /** Interleaves equal-length mono payloads of {@code bytesPerSample}-byte samples. */
  static byte[] interleave(int bytesPerSample, byte[]... channels) {
    int n = channels[0].length / bytesPerSample;
    byte[] out = new byte[channels[0].length * channels.length];
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < channels.length; c++) {
        System.arraycopy(channels[c], i * bytesPerSample, out, (i * channels.length + c) * bytesPerSample, bytesPerSample);
      }
    }
    return out;
  }

  static List<Map<String, Object>> readLines(Path jsonl) throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    for (String line : Files.readAllLines(jsonl, StandardCharsets.UTF_8)) {
      out.add(Json.object(line));
    }
    return out;
  }

  static long num(Map<String, Object> line, String key) {
    return ((Json.Num) line.get(key)).asLong();
  }

  static float[] vector(Map<String, Object> line) {
    List<?> v = (List<?>) line.get("vector");
    float[] f = new float[v.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = ((Json.Num) v.get(i)).asFloat();
    }
    return f;
  }


  /** The windows the front end cuts from a whole mono payload fed as one chunk. */
  static List<AudioWindow> frontEndWindows(Encoding enc, int rateHz, FrontEndConfig cfg, byte[] payload) {
    ChannelFrontEnd fe = ChannelFrontEnd.create(enc, rateHz, cfg.withMaxPayloadBytes(Math.max(cfg.maxPayloadBytes(), payload.length)));
    List<AudioWindow> w = new ArrayList<>(fe.accept(0, 0, payload));
    w.addAll(fe.finish());
    return w;
  }

  static ModelOptions cpu(Pooling pooling, boolean l2) {
    return ModelOptions.builder().provider("cpu").intraOpThreads(1).pooling(pooling).l2Normalize(l2).build();
  }

  @Test
  void monoWavGivesOneLinePerWindowEqualToTheModelOnTheFrontEndsWindows(@TempDir Path dir) throws Exception {
    float[] speech = SyntheticSpeech.generate(11, 8000, 7300); // 7.3 s
    byte[] pcm = G711.encode(Encoding.PCM_S16LE, speech);
    Path wav = dir.resolve("call.wav");
    writeWav(wav, 8000, 1, 1, pcm);
    Path out = dir.resolve("call.jsonl");

    CommandRun r = run("embed", "--model", "fixture", "--in", wav.toString(), "--window-s", "2", "--hop-s", "1.5",
        "--min-final-s", "0.5", "--provider", "cpu", "--threads", "1", "--batch", "1", "--out", out.toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().startsWith("wrote 5 windows (1 partial)"), r.out());
    assertFalse(Files.exists(dir.resolve("call.jsonl.partial")));

    // 7.3 s = 116,800 samples at 16 kHz; 2 s windows every 1.5 s: [0, 32000), [24000, 56000), ...,
    // [72000, 104000), then the rest from the next start, [96000, 116800), as a partial window.
    long[][] expected = {{0, 32000}, {24000, 56000}, {48000, 80000}, {72000, 104000}, {96000, 116800}};
    List<Map<String, Object>> lines = readLines(out);
    assertEquals(expected.length, lines.size());
    FrontEndConfig cfg = FrontEndConfig.DEFAULTS.withWindow(2000, 1500).withMinFinalWindowMs(500);
    List<AudioWindow> windows = frontEndWindows(Encoding.PCM_S16LE, 8000, cfg, pcm);
    assertEquals(expected.length, windows.size());
    try (EmbeddingModel model = EmbeddingModel.loadBundledFixture(cpu(Pooling.MEAN, false))) {
      ModelInfo info = model.info();
      for (int i = 0; i < lines.size(); i++) {
        Map<String, Object> line = lines.get(i);
        assertFalse(line.containsKey("channel"), "mono input has no channel field");
        assertEquals(i, num(line, "index"));
        assertEquals(expected[i][0], num(line, "start_sample"));
        assertEquals(expected[i][1], num(line, "end_sample"));
        assertEquals(expected[i][0] / 16, num(line, "start_ms"));
        assertEquals(expected[i][1] / 16, num(line, "end_ms"));
        assertEquals(i == expected.length - 1, line.get("partial"));
        assertEquals(info.dimension(), num(line, "dimension"));
        assertEquals("mean", line.get("pooling"));
        assertEquals(Map.of("id", info.modelId(), "revision", info.revision(), "sha256", info.contentSha256()), line.get("model"));

        AudioWindow w = windows.get(i);
        assertEquals(expected[i][0], w.startSample());
        assertEquals(expected[i][1], w.endSample());
        float[] got = vector(line);
        float[] direct = model.embed(w.samples());
        assertEquals(info.dimension(), got.length);
        assertTrue(cosine(got, direct) >= 0.99999, "window " + i + ": cosine " + cosine(got, direct));
        // batch of one, one thread, same input: the same floats, and Float.toString read back exactly
        assertArrayEquals(direct, got, "window " + i);
      }
      // the comparison can fail: different windows have clearly different vectors
      assertTrue(cosine(vector(lines.get(0)), model.embed(windows.get(1).samples())) < 0.9999);
    }
  }

  @Test
  void stereoWavEmbedsEveryChannelWithAChannelFieldOrTheOneAsked(@TempDir Path dir) throws Exception {
    float[] agent = SyntheticSpeech.generate(21, 8000, 6500);
    float[] customer = SyntheticSpeech.generate(22, 8000, 6500);
    byte[] ul0 = G711.encode(Encoding.MULAW, agent);
    byte[] ul1 = G711.encode(Encoding.MULAW, customer);
    Path wav = dir.resolve("stereo.wav");
    writeWav(wav, 8000, 7, 2, interleave(1, ul0, ul1));
    Path all = dir.resolve("all.jsonl");
    // default 5 s windows, 1 s minimum final: 6.5 s gives [0, 80000) and the partial [80000, 104000)
    CommandRun r = run("embed", "--model", "fixture", "--in", wav.toString(), "--provider", "cpu", "--pooling", "mean_std", "--l2",
        "--batch", "3", "--out", all.toString());
    assertEquals(0, r.exit(), r.err());
    List<Map<String, Object>> lines = readLines(all);
    assertEquals(4, lines.size());
    int[] channelOf = {0, 0, 1, 1};
    long[][] span = {{0, 80000}, {80000, 104000}, {0, 80000}, {80000, 104000}};
    FrontEndConfig cfg = FrontEndConfig.DEFAULTS;
    List<List<AudioWindow>> windows = List.of(
        frontEndWindows(Encoding.MULAW, 8000, cfg, ul0), frontEndWindows(Encoding.MULAW, 8000, cfg, ul1));
    try (EmbeddingModel model = EmbeddingModel.loadBundledFixture(cpu(Pooling.MEAN_STD, true))) {
      for (int i = 0; i < 4; i++) {
        Map<String, Object> line = lines.get(i);
        assertEquals(channelOf[i], num(line, "channel"));
        assertEquals(i % 2, num(line, "index"));
        assertEquals(span[i][0], num(line, "start_sample"));
        assertEquals(span[i][1], num(line, "end_sample"));
        assertEquals(i % 2 == 1, line.get("partial"));
        assertEquals("mean_std", line.get("pooling"));
        float[] v = vector(line);
        assertEquals(2 * model.info().hiddenSize(), v.length);
        assertEquals(v.length, num(line, "dimension"));
        double norm = 0;
        for (float x : v) {
          norm += (double) x * x;
        }
        assertEquals(1.0, Math.sqrt(norm), 1e-5);
        float[] direct = model.embed(windows.get(channelOf[i]).get(i % 2).samples());
        assertTrue(cosine(v, direct) >= 0.99999, "line " + i + ": cosine " + cosine(v, direct));
      }
      assertTrue(cosine(vector(lines.get(0)), vector(lines.get(2))) < 0.9999, "the two channels differ");

      Path one = dir.resolve("one.jsonl");
      r = run("embed", "--model", "fixture", "--in", wav.toString(), "--channel", "1", "--provider", "cpu", "--pooling", "mean_std",
          "--l2", "--out", one.toString());
      assertEquals(0, r.exit(), r.err());
      List<Map<String, Object>> only = readLines(one);
      assertEquals(2, only.size());
      for (int i = 0; i < 2; i++) {
        assertEquals(1L, num(only.get(i), "channel"));
        assertTrue(cosine(vector(only.get(i)), vector(lines.get(2 + i))) >= 0.99999);
      }
    }
  }

  @Test
  void rawMuLawWithChunkSizeThatDoesNotDivideTheFileGivesTheSameWindows(@TempDir Path dir) throws Exception {
    float[] speech = SyntheticSpeech.generate(31, 8000, 3333);
    byte[] ul = G711.encode(Encoding.MULAW, speech);
    Path raw = dir.resolve("call.raw");
    Files.write(raw, ul);
    Path a = dir.resolve("a.jsonl");
    Path b = dir.resolve("b.jsonl");
    // .raw says nothing about the encoding: --format is needed
    CommandRun noFormat = run("embed", "--model", "fixture", "--in", raw.toString(), "--out", a.toString());
    assertEquals(2, noFormat.exit());
    assertTrue(noFormat.err().contains("give --format"), noFormat.err());

    assertEquals(0, run("embed", "--model", "fixture", "--in", raw.toString(), "--format", "mulaw", "--rate", "8000",
        "--window-s", "1", "--provider", "cpu", "--out", a.toString()).exit());
    assertEquals(0, run("embed", "--model", "fixture", "--in", raw.toString(), "--format", "mulaw", "--window-s", "1",
        "--chunk-ms", "7", "--batch", "2", "--provider", "cpu", "--out", b.toString()).exit());
    List<Map<String, Object>> la = readLines(a);
    List<Map<String, Object>> lb = readLines(b);
    // 3.333 s = 53,328 samples at 16 kHz: three 1 s windows and a 0.333 s tail, shorter than the 1 s minimum
    assertEquals(3, la.size());
    assertEquals(3, lb.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(i * 16000L, num(la.get(i), "start_sample"));
      assertEquals(num(la.get(i), "start_sample"), num(lb.get(i), "start_sample"));
      assertEquals(num(la.get(i), "end_sample"), num(lb.get(i), "end_sample"));
      assertEquals(false, la.get(i).get("partial"));
      assertTrue(cosine(vector(la.get(i)), vector(lb.get(i))) >= 0.99999);
    }
    // '-' writes the same lines to stdout, and nothing else
    CommandRun toStdout = run("embed", "--model", "fixture", "--in", raw.toString(), "--format", "mulaw", "--rate", "8000",
        "--window-s", "1", "--provider", "cpu", "--out", "-");
    assertEquals(0, toStdout.exit(), toStdout.err());
    assertEquals(Files.readString(a), toStdout.out());
  }

  @Test
  void expectedWindowsMatchesThePlanner() {
    FrontEndConfig[] configs = {
      FrontEndConfig.DEFAULTS,
      FrontEndConfig.DEFAULTS.withWindow(2000, 1500).withMinFinalWindowMs(500),
      FrontEndConfig.DEFAULTS.withWindow(1000, 250).withMinFinalWindowMs(1000),
      FrontEndConfig.DEFAULTS.withWindow(2000, 2000).withMinFinalWindowMs(1900),
    };
    long[] lengths = {0, 1, 7_999, 8_000, 15_999, 16_000, 30_399, 31_999, 32_000, 32_001, 39_999, 40_000, 63_999, 64_000,
        79_999, 80_000, 95_999, 96_000, 116_800, 1_000_003};
    for (FrontEndConfig c : configs) {
      for (long n : lengths) {
        WindowPlanner p = new WindowPlanner(c.windowSamples(), c.hopSamples(), c.minFinalWindowSamples());
        long[] windows = {0};
        WindowPlanner.Listener count = new WindowPlanner.Listener() {
          @Override
          public void block(long startSample, float[] samples, int offset, int length) {}

          @Override
          public void window(long index, long startSample, int lengthSamples, boolean partial) {
            windows[0]++;
          }
        };
        p.startRun(0, count);
        p.append(new float[(int) n], 0, (int) n, count);
        p.endRun(count);
        assertEquals(windows[0], EmbedCommand.expectedWindows(n, c), c + ", " + n + " samples");
      }
    }
    assertEquals(5, EmbedCommand.expectedWindows(116_800, configs[1]));
  }

  @Test
  void usageErrorsExitWith2AndSayWhatIsWrong(@TempDir Path dir) throws Exception {
    Path wav = dir.resolve("x.wav");
    writeWav(wav, 8000, 7, 2, interleave(1, G711.encode(Encoding.MULAW, SyntheticSpeech.generate(1, 8000, 1500)),
        G711.encode(Encoding.MULAW, SyntheticSpeech.generate(2, 8000, 1500))));
    Path out = dir.resolve("o.jsonl");
    String[][] cases = {
      {"--in", dir.resolve("missing.wav").toString(), "no such file"},
      {"--in", wav.toString(), "--format", "flac", "unknown format 'flac'"},
      {"--in", wav.toString(), "--channel", "2", "--channel 2 does not exist"},
      {"--in", wav.toString(), "--rate", "16000", "does not match the WAV header's 8000 Hz"},
      {"--in", wav.toString(), "--provider", "gpu", "unknown execution provider 'gpu'"},
      {"--in", wav.toString(), "--pooling", "max", "expected mean or mean_std"},
      {"--in", wav.toString(), "--window-s", "1", "--hop-s", "2", "must not exceed the window"},
      {"--in", wav.toString(), "--window-s", "0.0005", "whole number of milliseconds"},
      {"--in", wav.toString(), "--min-final-s", "0.01", "receptive field"},
      {"--in", wav.toString(), "--batch", "0", "--batch must be >= 1"},
    };
    for (String[] c : cases) {
      List<String> args = new ArrayList<>(List.of("embed", "--model", "fixture", "--out", out.toString()));
      args.addAll(List.of(c).subList(0, c.length - 1));
      CommandRun r = run(args.toArray(String[]::new));
      assertEquals(2, r.exit(), String.join(" ", args) + "\n" + r.err());
      assertTrue(r.err().contains(c[c.length - 1]), "expected '" + c[c.length - 1] + "' in: " + r.err());
      assertFalse(Files.exists(out));
    }
  }

  @Test
  void badAudioAndBadModelsFailWith1AndLeaveNoOutput(@TempDir Path dir) throws Exception {
    Path good = dir.resolve("good.wav");
    writeWav(good, 8000, 1, 1, G711.encode(Encoding.PCM_S16LE, SyntheticSpeech.generate(3, 8000, 1500)));
    Path junkWav = dir.resolve("junk.wav");
    Files.write(junkWav, "this is not a wave file at all".getBytes(StandardCharsets.US_ASCII));
    Path odd = dir.resolve("odd.s16");
    Files.write(odd, new byte[] {1, 2, 3});
    Path junkModel = dir.resolve("junk.onnx");
    Files.write(junkModel, new byte[] {0x08, 0x07, 0x12, 0x03, 0x61, 0x62});
    Path out = dir.resolve("o.jsonl");

    CommandRun r = run("embed", "--model", "fixture", "--in", junkWav.toString(), "--out", out.toString());
    assertEquals(1, r.exit(), r.err());
    assertTrue(r.err().contains("BAD_WAV"), r.err());

    r = run("embed", "--model", "fixture", "--in", odd.toString(), "--out", out.toString());
    assertEquals(1, r.exit(), r.err());
    assertTrue(r.err().contains("not a whole number of 2-byte"), r.err());

    r = run("embed", "--model", dir.resolve("none.onnx").toString(), "--in", good.toString(), "--out", out.toString());
    assertEquals(1, r.exit(), r.err());
    assertTrue(r.err().contains("cannot load model") && r.err().contains("model file not found"), r.err());

    r = run("embed", "--model", junkModel.toString(), "--provider", "cpu", "--in", good.toString(), "--out", out.toString());
    assertEquals(1, r.exit(), r.err());
    assertTrue(r.err().contains("cannot load model " + junkModel), r.err());
    assertFalse(Files.exists(out));
    assertFalse(Files.exists(dir.resolve("o.jsonl.partial")));
  }

  @Test
  void audioShorterThanTheMinimumGivesAnEmptyFile(@TempDir Path dir) throws Exception {
    Path wav = dir.resolve("short.wav");
    writeWav(wav, 16000, 1, 1, G711.encode(Encoding.PCM_S16LE, SyntheticSpeech.generate(4, 16000, 900)));
    Path out = dir.resolve("short.jsonl");
    CommandRun r = run("embed", "--model", "fixture", "--in", wav.toString(), "--provider", "cpu", "--out", out.toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().startsWith("wrote 0 windows"), r.out());
    assertEquals(0, Files.size(out));
  }
}
