package io.callvec.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** The committed fixtures of model/tools/fixture.py, read from the test class path. */
final class Fixtures {
  static final String NO_MASK = "wav2vec2-tiny.onnx";
  static final String MASK = "wav2vec2-tiny-mask.onnx";

  /** One golden window: raw input plus PyTorch references. */
  record Window(String name, int samples, int frames, Path dir) {
    float[] input() {
      return read("input");
    }

    float[] read(String kind) {
      return Fixtures.readF32(dir.resolve("golden").resolve(name + "." + kind + ".f32"));
    }
  }

  private Fixtures() {}

  static Path dir() {
    try {
      return Path.of(Fixtures.class.getResource("/fixtures/manifest.properties").toURI())
          .getParent();
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("test resource /fixtures/manifest.properties not found", e);
    }
  }

  static Path model(String file) {
    return dir().resolve(file);
  }

  static Path bad(String file) {
    return dir().resolve("bad").resolve(file);
  }

  static Properties manifest() {
    return readProperties(dir().resolve("manifest.properties"));
  }

  static Properties readProperties(Path file) {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p;
  }

  static List<Window> windows() {
    Properties p = manifest();
    int n = Integer.parseInt(p.getProperty("windows"));
    List<Window> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(
          new Window(
              p.getProperty("window." + i + ".name"),
              Integer.parseInt(p.getProperty("window." + i + ".samples")),
              Integer.parseInt(p.getProperty("window." + i + ".frames")),
              dir()));
    }
    return out;
  }

  /**
   * Asserts that {@code m}'s {@code hidden_states_1} frames of {@code w} match PyTorch's within
   * {@code maxRelativeError} (max abs difference / max abs of PyTorch's) and that its mean-pooled
   * vector has a cosine of at least {@code minCosine} with PyTorch's. Returns {relative error,
   * cosine}.
   */
  static double[] assertLayer1MatchesTorch(
      EmbeddingModel m, Window w, double maxRelativeError, double minCosine)
      throws InferenceException {
    float[] want = w.read("hidden_states_1");
    float[] got = flatten(m.frameFeatures(List.of(w.input()))[0]);
    double rel = maxAbsDiff(got, want) / maxAbs(want);
    assertTrue(rel <= maxRelativeError, w.name() + ": relative error " + rel);
    double cos = Similarity.cosine(m.embed(w.input()), w.read("hidden_states_1.pooled_mean"));
    assertTrue(cos >= minCosine, w.name() + ": cosine " + cos);
    return new double[] {rel, cos};
  }

  static float[] readF32(Path file) {
    try {
      ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
      float[] out = new float[b.remaining() / 4];
      b.asFloatBuffer().get(out);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static double maxAbs(float[] a) {
    double m = 0;
    for (float v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  static double maxAbsDiff(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("lengths " + a.length + " vs " + b.length);
    }
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs((double) a[i] - b[i]));
    }
    return m;
  }

  static float[] flatten(float[][] frames) {
    int h = frames.length == 0 ? 0 : frames[0].length;
    float[] out = new float[frames.length * h];
    for (int i = 0; i < frames.length; i++) {
      System.arraycopy(frames[i], 0, out, i * h, h);
    }
    return out;
  }

  /** Deterministic speech-like test signal: harmonics with vibrato plus noise. */
  static float[] signal(long seed, int samples) {
    java.util.Random r = new java.util.Random(seed);
    double f0 = 90 + r.nextDouble() * 160;
    double amp = 0.05 + r.nextDouble() * 0.5;
    float[] w = new float[samples];
    double phase = 0;
    for (int i = 0; i < samples; i++) {
      double t = i / 16000.0;
      phase += 2 * Math.PI * f0 * (1 + 0.03 * Math.sin(2 * Math.PI * 5 * t)) / 16000.0;
      double v = 0;
      for (int h = 1; h <= 8; h++) {
        v += Math.sin(h * phase) / h;
      }
      w[i] = (float) (amp * (0.5 * v + 0.05 * r.nextGaussian()));
    }
    return w;
  }

  static byte[] readResource(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("resource not found: " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
