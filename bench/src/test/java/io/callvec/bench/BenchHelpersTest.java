package io.callvec.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmark's own arithmetic and its PNG writer (not timings: those are bench/run commands). */
class BenchHelpersTest {

  @Test
  void nearestRankPercentiles() {
    double[] v = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
    assertEquals(5, Stats.percentile(v, 0.5));
    assertEquals(10, Stats.percentile(v, 0.95));
    assertEquals(9, Stats.percentile(v, 0.9));
    assertEquals(1, Stats.percentile(v, 0.0));
    assertEquals(10, Stats.percentile(v, 1.0));
    assertTrue(Double.isNaN(Stats.percentile(new double[0], 0.5)));
    assertEquals(3.5, Stats.median(new double[] {4, 1, 3, 6}));
  }

  @Test
  void slopeOfAGrowingBacklogAndOfNoise() {
    double[] x = new double[30];
    double[] grow = new double[30];
    double[] flat = new double[30];
    java.util.Random rnd = new java.util.Random(3);
    for (int i = 0; i < x.length; i++) {
      x[i] = 1_700_000_000 + i; // epoch seconds: slope must not depend on the offset
      grow[i] = 0.2 + 0.25 * i; // 25% over capacity: latency grows 0.25 s per s
      flat[i] = 0.5 + 0.1 * rnd.nextGaussian();
    }
    assertEquals(0.25, Stats.slope(x, grow), 1e-9);
    assertTrue(Math.abs(Stats.slope(x, flat)) < 0.02, "noise around a constant has a near-zero slope");
    assertEquals(0, Stats.slope(new double[] {1}, new double[] {2}));
  }

  @Test
  void steadyThroughputLeavesOutTheFirstResult() {
    // 4 batches of 2 windows of 5 s, visible at 10, 12, 14, 16 s: steady = 3 batches x 10 s / 6 s
    List<Pipeline.Seen> seen = new java.util.ArrayList<>();
    for (int b = 0; b < 4; b++) {
      for (int w = 0; w < 2; w++) {
        seen.add(new Pipeline.Seen("c-" + w, 0, b, 5.0, 0, 0, 10_000 + 2_000L * b));
      }
    }
    Pipeline.Phase p = new Pipeline.Phase(seen, 8, 16.0, 20.0, 12.0, 4, 8, 0, 0);
    assertEquals(30.0 / 6.0, p.steadyThroughput(), 1e-9);
    assertEquals(40.0 / 16.0, p.overallThroughput(), 1e-9);
    assertEquals(2.0, p.meanBatch(), 1e-9);
    assertEquals(0.75, p.busy(), 1e-9);
    assertEquals(40.0, p.audioSeconds(), 1e-9);
  }

  @Test
  void niceTicksCoverTheRange() {
    assertArrayEquals(new double[] {0, 0.2, 0.4, 0.6, 0.8, 1.0}, Chart.niceTicks(0, 1), 1e-9);
    double[] t = Chart.niceTicks(83, 228);
    assertTrue(t[0] <= 83 && t[t.length - 1] >= 228, "ticks cover [83, 228]");
    assertTrue(t.length >= 4 && t.length <= 12, "a readable number of ticks: " + t.length);
  }

  @Test
  void writesAReadablePngWithTheSeriesDrawn(@TempDir Path dir) throws Exception {
    Path png = dir.resolve("sub/chart.png");
    new Chart("t", "s", "x", "y", Chart.XAxis.LOG2)
        .add(new Chart.Series("a", new double[] {1, 2, 4, 8}, new double[] {1, 2, 3, 4}, true, false))
        .add(new Chart.Series("b", new double[] {1, 2, 4, 8}, new double[] {2, 2, 2, 2}, true, true))
        .write(png);
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(900, img.getWidth());
    assertEquals(560, img.getHeight());
    int blue = 0;
    int red = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int rgb = img.getRGB(x, y) & 0xffffff;
        blue += rgb == 0x1f77b4 ? 1 : 0;
        red += rgb == 0xd62728 ? 1 : 0;
      }
    }
    assertTrue(blue > 200, "first series drawn in its colour: " + blue + " pixels");
    assertTrue(red > 100, "second series drawn in its colour: " + red + " pixels");
  }
}
