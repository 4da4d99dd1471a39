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
 * dependency): numeric x and y axes with "nice" ticks (x optionally log2, for batch sizes), one
 * polyline per series with optional point markers, and a legend. Enough for a benchmark report, no
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
  private final boolean log2X;
  private final List<Series> series = new ArrayList<>();
  private Double yMin = null;
  private Double yMax = null;

  /** One line: points (x, y) drawn in order; markers at the points when {@code markers}. */
  record Series(String name, double[] x, double[] y, boolean markers, boolean dashed) {}

  Chart(String title, String subtitle, String xLabel, String yLabel, boolean log2X) {
    System.setProperty("java.awt.headless", "true");
    this.title = title;
    this.subtitle = subtitle;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
    this.log2X = log2X;
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
    return log2X ? Math.log(x) / Math.log(2) : x;
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
    if (log2X) {
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
      String label = fmt(t);
      g.drawString(label, LEFT_PX - 8 - fm.stringWidth(label), (float) (y + fm.getAscent() / 2.5));
    }
    for (double t : xTicks) {
      double x = px.applyAsDouble(t);
      g.setColor(new Color(0xe6e6e6));
      g.draw(new Line2D.Double(x, TOP_PX, x, TOP_PX + ph));
      g.setColor(Color.DARK_GRAY);
      String label = log2X ? fmt(Math.pow(2, t)) : fmt(t);
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
    // legend (top left inside the plot)
    int ly = TOP_PX + 18;
    int maxw = 0;
    for (Series s : series) {
      maxw = Math.max(maxw, fm.stringWidth(s.name()));
    }
    g.setColor(new Color(255, 255, 255, 230));
    g.fillRect(LEFT_PX + 10, TOP_PX + 6, maxw + 50, series.size() * 18 + 8);
    g.setColor(Color.LIGHT_GRAY);
    g.setStroke(new BasicStroke(1f));
    g.drawRect(LEFT_PX + 10, TOP_PX + 6, maxw + 50, series.size() * 18 + 8);
    for (int k = 0; k < series.size(); k++) {
      Series s = series.get(k);
      g.setColor(PALETTE[k % PALETTE.length]);
      g.setStroke(s.dashed()
          ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {6f, 4f}, 0f)
          : new BasicStroke(2.2f));
      g.draw(new Line2D.Double(LEFT_PX + 18, ly - 4, LEFT_PX + 46, ly - 4));
      g.setColor(Color.BLACK);
      g.drawString(s.name(), LEFT_PX + 52, ly);
      ly += 18;
    }
  }

  private static String fmt(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e9) {
      return String.format(Locale.ROOT, "%d", (long) v);
    }
    double a = Math.abs(v);
    return String.format(Locale.ROOT, a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f", v);
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
