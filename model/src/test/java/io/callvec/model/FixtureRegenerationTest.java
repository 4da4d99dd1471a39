package io.callvec.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Regenerates the fixtures with model/tools/fixture.py into a temporary folder and checks that
 * they match the committed ones: the same files, float32 goldens within 1e-6, ONNX models
 * byte-identical (or, should a different PyTorch build serialise differently, the same graph and
 * weights within 1e-6 by fixture.py --compare-onnx).
 *
 * <p>Needs a Python with torch, torchaudio and onnx: {@code /usr/bin/python3} (Debian's
 * python3-torch, python3-torchaudio, python3-onnx) or {@code $CALLVEC_PYTHON}. Without one this
 * test FAILS under CI (environment variable {@code CI} set, as {@code .ci/run} does) unless {@code
 * CALLVEC_ALLOW_NO_TORCH=1}; elsewhere it is skipped, so that {@code mvn verify} works on a machine
 * with only Java and Maven.
 */
class FixtureRegenerationTest {
  private static final Logger LOG = LoggerFactory.getLogger(FixtureRegenerationTest.class);
  private static final double F32_TOLERANCE = 1e-6;

  @TempDir Path tmp;

  @Test
  void committedFixturesAreReproducible() throws Exception {
    Path module = Path.of("").toAbsolutePath(); // surefire runs in the module folder
    Path script = module.resolve("tools/fixture.py");
    Path committed = module.resolve("src/test/resources/fixtures");
    Path bundle = module.resolve("src/main/resources/io/callvec/model/fixture");
    assertTrue(Files.isRegularFile(script), "missing " + script);
    String python = System.getenv().getOrDefault("CALLVEC_PYTHON", "/usr/bin/python3");

    PythonTool.Proc check = PythonTool.run(List.of(python, "-c", "import torch, torchaudio, onnx"), 120);
    if (check.exit() != 0) {
      String why = python + " cannot import torch, torchaudio and onnx (" + check.output().trim()
          + ")";
      if (System.getenv("CI") == null || "1".equals(System.getenv("CALLVEC_ALLOW_NO_TORCH"))) {
        Assumptions.abort("skipping fixture regeneration outside CI: " + why);
      }
      fail("cannot regenerate the model fixtures: " + why + ". Install Debian's python3-torch "
          + "python3-torchaudio python3-onnx, or point CALLVEC_PYTHON at such a Python, or set "
          + "CALLVEC_ALLOW_NO_TORCH=1 to skip this check (CI must run it).");
    }

    Path out = tmp.resolve("fixtures");
    Path outBundle = tmp.resolve("bundle");
    PythonTool.Proc gen = PythonTool.run(List.of(python, script.toString(), "--out", out.toString(), "--bundle",
        outBundle.toString()), 300);
    assertEquals(0, gen.exit(), "fixture.py failed:\n" + gen.output());

    assertEquals(relativeFiles(committed), relativeFiles(out), "fixture file lists differ");
    List<String> byteDifferentModels = new ArrayList<>();
    for (String rel : relativeFiles(committed)) {
      compare(python, script, committed.resolve(rel), out.resolve(rel), byteDifferentModels);
    }
    assertEquals(List.of("wav2vec2-standin-1024.onnx", "wav2vec2-tiny.onnx"),
        relativeFiles(bundle));
    for (String rel : relativeFiles(bundle)) {
      compare(python, script, bundle.resolve(rel), outBundle.resolve(rel), byteDifferentModels);
    }
    LOG.info("regenerated {} fixture files; ONNX files not byte-identical (structurally equal): {}",
        relativeFiles(committed).size(), byteDifferentModels);
  }

  private void compare(String python, Path script, Path want, Path got, List<String> notBytes)
      throws Exception {
    String name = want.getFileName().toString();
    byte[] a = Files.readAllBytes(want);
    byte[] b = Files.readAllBytes(got);
    if (name.endsWith(".f32")) {
      float[] x = Fixtures.readF32(want);
      float[] y = Fixtures.readF32(got);
      assertEquals(x.length, y.length, name + ": length");
      double err = Fixtures.maxAbsDiff(x, y);
      assertTrue(err <= F32_TOLERANCE * Math.max(1.0, Fixtures.maxAbs(x)),
          name + ": regenerated values differ by " + err);
    } else if (name.endsWith(".onnx")) {
      if (!Arrays.equals(a, b)) {
        PythonTool.Proc cmp = PythonTool.run(List.of(python, script.toString(), "--compare-onnx", want.toString(),
            got.toString()), 120);
        assertEquals(0, cmp.exit(), name + " differs from its regeneration:\n" + cmp.output());
        notBytes.add(name);
      }
    } else {
      assertArrayEquals(a, b, name + " differs from its regeneration");
    }
  }

  private static List<String> relativeFiles(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile)
          .map(p -> root.relativize(p).toString().replace('\\', '/'))
          .sorted()
          .collect(Collectors.toList());
    }
  }
}
