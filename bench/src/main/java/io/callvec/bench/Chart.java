package io.callvec.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A small line chart written as PNG with {@link BufferedImage} and {@link ImageIO} (headless, no
 * dependency): numeric x and y axes with "nice" ticks (x linear, log2 for batch sizes or log10 for
 * latencies), one polyline per series with optional point markers, and a legend in the emptiest
 * corner. Enough for a benchmark report, no
 * more.
 */
final class Chart {
  private static final int WIDTH_PX = 900;
  private static final int HEIGHT_PX = 560;
  private static final int LEFT_PX = 90;
  private static final int RIGHT_PX = 30;
  private static final int TOP_PX = 60;
  private static final int BOTTOM_PX = 70;
  private static final Color[] PALETTE = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
    new Color(0x9467bd), new Color(0x8c564b), new Color(0x17becf), new Color(0x7f7f7f)
  };

  private final String title;
  private final String subtitle;
  private final String xLabel;
  private final String yLabel;
  private final XAxis xAxis;

  /** How x values map to the horizontal axis. */
  enum XAxis {
    LINEAR,
    /** log2, ticks at powers of two (batch sizes) */
    LOG2,
    /** log10, ticks at 1, 2 and 5 times powers of ten (latencies) */
    LOG10
  }
  private final List<Series> series = new ArrayList<>();
  private Double yMin = null;
  private Double yMax = null;

  /** One line: points (x, y) drawn in order; markers at the points when {@code markers}. */
  record Series(String name, double[] x, double[] y, boolean markers, boolean dashed) {}

  Chart(String title, String subtitle, String xLabel, String yLabel, XAxis xAxis) {
    System.setProperty("java.awt.headless", "true");
    this.title = title;
    this.subtitle = subtitle;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
    this.xAxis = xAxis;
  }

  Chart add(Series s) {
    if (s.x().length != s.y().length) {
      throw new IllegalArgumentException("series " + s.name() + ": " + s.x().length + " x values but " + s.y().length + " y values");
    }
    series.add(s);
    return this;
  }

  /** Starts the y axis at this value (default: 0 if all values are positive, else the minimum). */
  Chart yFrom(double min) {
    this.yMin = min;
    return this;
  }

  /** Ends the y axis at this value (default: the maximum, rounded up to a tick). */
  Chart yTo(double max) {
    this.yMax = max;
    return this;
  }

  /** Draws the chart and writes it as PNG (parent folders are created). */
  void write(Path file) throws IOException {
    BufferedImage img = new BufferedImage(WIDTH_PX, HEIGHT_PX, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      draw(g);
    } finally {
      g.dispose();
    }
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    if (!ImageIO.write(img, "png", file.toFile())) {
      throw new IOException("no PNG writer available to write " + file);
    }
  }

  private double tx(double x) {
    return switch (xAxis) {
      case LINEAR -> x;
      case LOG2 -> Math.log(x) / Math.log(2);
      case LOG10 -> Math.log10(x);
    };
  }

  private void draw(Graphics2D g) {
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, WIDTH_PX, HEIGHT_PX);

    double x0 = Double.POSITIVE_INFINITY;
    double x1 = Double.NEGATIVE_INFINITY;
    double y0 = Double.POSITIVE_INFINITY;
    double y1 = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
          x0 = Math.min(x0, tx(s.x()[i]));
          x1 = Math.max(x1, tx(s.x()[i]));
          y0 = Math.min(y0, s.y()[i]);
          y1 = Math.max(y1, s.y()[i]);
        }
      }
    }
    if (!Double.isFinite(x0)) {
      x0 = 0;
      x1 = 1;
      y0 = 0;
      y1 = 1;
    }
    if (x1 == x0) {
      x0 -= 1;
      x1 += 1;
    }
    y0 = yMin != null ? yMin : Math.min(0, y0);
    double[] yTicks = niceTicks(y0, yMax != null ? yMax : y1 == y0 ? y0 + 1 : y1 * 1.05);
    y1 = yTicks[yTicks.length - 1];
    y0 = Math.min(y0, yTicks[0]);
    double[] xTicks;
    if (xAxis == XAxis.LOG10) {
      int a = (int) Math.floor(x0);
      int b = (int) Math.ceil(x1);
      List<Double> t = new ArrayList<>();
      for (int e = a; e <= b; e++) {
        for (int m : new int[] {1, 2, 5}) {
          double v = Math.log10(m * Math.pow(10, e));
          if (v >= x0 - 1e-9 && v <= x1 + Math.log10(2)) {
            t.add(v);
          }
        }
      }
      xTicks = t.stream().mapToDouble(Double::doubleValue).toArray();
      x0 = Math.min(x0, xTicks[0]);
      x1 = Math.max(x1, xTicks[xTicks.length - 1]);
    } else if (xAxis == XAxis.LOG2) {
      int a = (int) Math.floor(x0);
      int b = (int) Math.ceil(x1);
      xTicks = new double[b - a + 1];
      for (int i = 0; i < xTicks.length; i++) {
        xTicks[i] = a + i;
      }
      x0 = a - 0.25;
      x1 = b + 0.25;
    } else {
      xTicks = niceTicks(x0, x1);
      x0 = xTicks[0];
      x1 = xTicks[xTicks.length - 1];
    }
    int pw = WIDTH_PX - LEFT_PX - RIGHT_PX;
    int ph = HEIGHT_PX - TOP_PX - BOTTOM_PX;
    final double fx0 = x0;
    final double fx1 = x1;
    final double fy0 = y0;
    final double fy1 = y1;
    java.util.function.DoubleUnaryOperator px = v -> LEFT_PX + (v - fx0) / (fx1 - fx0) * pw;
    java.util.function.DoubleUnaryOperator py = v -> TOP_PX + ph - (v - fy0) / (fy1 - fy0) * ph;

    Font small = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    Font bold = new Font(Font.SANS_SERIF, Font.BOLD, 17);
    g.setFont(small);
    FontMetrics fm = g.getFontMetrics();
    // grid and ticks
    g.setStroke(new BasicStroke(1f));
    for (double t : yTicks) {
      double y = py.applyAsDouble(t);
      g.setColor(new Color(0xe6e6e6));
      g.draw(new Line2D.Double(LEFT_PX, y, LEFT_PX + pw, y));
      g.setColor(Color.DARK_GRAY);
      String label = fmt(t, yTicks[1] - yTicks[0]);
      g.drawString(label, LEFT_PX - 8 - fm.stringWidth(label), (float) (y + fm.getAscent() / 2.5));
    }
    for (double t : xTicks) {
      double x = px.applyAsDouble(t);
      g.setColor(new Color(0xe6e6e6));
      g.draw(new Line2D.Double(x, TOP_PX, x, TOP_PX + ph));
      g.setColor(Color.DARK_GRAY);
      String label = switch (xAxis) {
        case LINEAR -> fmt(t, xTicks[1] - xTicks[0]);
        case LOG2 -> fmt(Math.pow(2, t), 1);
        case LOG10 -> {
          double v = Math.pow(10, t);
          double mag = Math.pow(10, Math.floor(t + 1e-9));
          yield fmt(Math.round(v / mag) * mag, mag);
        }
      };
      g.drawString(label, (float) (x - fm.stringWidth(label) / 2.0), TOP_PX + ph + 18);
    }
    g.setColor(Color.BLACK);
    g.drawRect(LEFT_PX, TOP_PX, pw, ph);
    // labels
    g.drawString(xLabel, LEFT_PX + pw / 2f - fm.stringWidth(xLabel) / 2f, HEIGHT_PX - 28);
    Graphics2D gy = (Graphics2D) g.create();
    gy.rotate(-Math.PI / 2);
    gy.drawString(yLabel, -(TOP_PX + ph / 2f) - fm.stringWidth(yLabel) / 2f, 22);
    gy.dispose();
    g.setFont(bold);
    g.drawString(title, LEFT_PX, 26);
    g.setFont(small);
    g.setColor(Color.DARK_GRAY);
    if (subtitle != null) {
      g.drawString(subtitle, LEFT_PX, 46);
    }
    // series
    for (int k = 0; k < series.size(); k++) {
      Series s = series.get(k);
      Color c = PALETTE[k % PALETTE.length];
      g.setColor(c);
      g.setStroke(s.dashed()
          ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {8f, 6f}, 0f)
          : new BasicStroke(2.2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
      Path2D.Double path = new Path2D.Double();
      boolean started = false;
      for (int i = 0; i < s.x().length; i++) {
        if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) {
          continue;
        }
        double x = px.applyAsDouble(tx(s.x()[i]));
        double y = py.applyAsDouble(s.y()[i]);
        if (!started) {
          path.moveTo(x, y);
          started = true;
        } else {
          path.lineTo(x, y);
        }
      }
      g.draw(path);
      if (s.markers()) {
        for (int i = 0; i < s.x().length; i++) {
          if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
            double x = px.applyAsDouble(tx(s.x()[i]));
            double y = py.applyAsDouble(s.y()[i]);
            g.fillOval((int) Math.round(x - 4), (int) Math.round(y - 4), 9, 9);
          }
        }
      }
    }
    // legend: in the corner of the plot that covers the fewest points of the lines
    int maxw = 0;
    for (Series s : series) {
      maxw = Math.max(maxw, fm.stringWidth(s.name()));
    }
    int lw = maxw + 50;
    int lh = series.size() * 18 + 8;
    int[][] corners = {
      {LEFT_PX + 10, TOP_PX + 6}, {LEFT_PX + pw - 10 - lw, TOP_PX + 6},
      {LEFT_PX + pw - 10 - lw, TOP_PX + ph - 6 - lh}, {LEFT_PX + 10, TOP_PX + ph - 6 - lh}
    };
    int bestCorner = 0;
    long bestCount = Long.MAX_VALUE;
    for (int c = 0; c < corners.length; c++) {
      long count = 0;
      for (Series s : series) {
        for (int i = 0; i + 1 < s.x().length; i++) {
          if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i]) || !Double.isFinite(s.x()[i + 1])
              || !Double.isFinite(s.y()[i + 1])) {
            continue;
          }
          double ax = px.applyAsDouble(tx(s.x()[i]));
          double ay = py.applyAsDouble(s.y()[i]);
          double bx = px.applyAsDouble(tx(s.x()[i + 1]));
          double by = py.applyAsDouble(s.y()[i + 1]);
          int steps = (int) Math.min(200, Math.max(1, Math.hypot(bx - ax, by - ay) / 4));
          for (int k = 0; k <= steps; k++) {
            double qx = ax + (bx - ax) * k / steps;
            double qy = ay + (by - ay) * k / steps;
            if (qx >= corners[c][0] && qx <= corners[c][0] + lw && qy >= corners[c][1] && qy <= corners[c][1] + lh) {
              count++;
            }
          }
        }
      }
      if (count < bestCount) {
        bestCount = count;
        bestCorner = c;
      }
    }
    int lx0 = corners[bestCorner][0];
    int ly0 = corners[bestCorner][1];
    int ly = ly0 + 12 + 6;
    g.setColor(new Color(255, 255, 255, 230));
    g.fillRect(lx0, ly0, lw, lh);
    g.setColor(Color.LIGHT_GRAY);
    g.setStroke(new BasicStroke(1f));
    g.drawRect(lx0, ly0, lw, lh);
    for (int k = 0; k < series.size(); k++) {
      Series s = series.get(k);
      g.setColor(PALETTE[k % PALETTE.length]);
      g.setStroke(s.dashed()
          ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {6f, 4f}, 0f)
          : new BasicStroke(2.2f));
      g.draw(new Line2D.Double(lx0 + 8, ly - 4, lx0 + 36, ly - 4));
      g.setColor(Color.BLACK);
      g.drawString(s.name(), lx0 + 42, ly);
      ly += 18;
    }
  }

  /** A tick label with as many decimals as the tick step needs (0.2 → one, 0.05 → two). */
  private static String fmt(double v, double step) {
    int decimals = step >= 1 || !(step > 0) ? 0 : (int) Math.ceil(-Math.log10(step) - 1e-9);
    if (decimals == 0 && v != Math.rint(v)) {
      decimals = 2; // log2 axes: powers of two below 1
    }
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  /** About 5 to 10 ticks at 1, 2 or 5 times a power of ten, covering [lo, hi]. */
  static double[] niceTicks(double lo, double hi) {
    double span = hi - lo;
    if (!(span > 0)) {
      return new double[] {lo, lo + 1};
    }
    double raw = span / 6;
    double mag = Math.pow(10, Math.floor(Math.log10(raw)));
    double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
    double start = Math.floor(lo / step) * step;
    double end = Math.ceil(hi / step - 1e-9) * step;
    int n = (int) Math.round((end - start) / step) + 1;
    double[] t = new double[n];
    for (int i = 0; i < n; i++) {
      t[i] = start + i * step;
    }
    return t;
  }
}
