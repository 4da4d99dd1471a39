package io.callvec.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JFR summary finds the CPU samples of the threads it is asked about (by their name). */
class JfrProfileTest {
  /** CPU time the busy thread burns: about 50 samples at JFR's 10 ms period. */
  private static final long BUSY_CPU_NS = 500_000_000L;

  @Test
  void countsTheSamplesOfTheSelectedThreadAndNamesItsHotMethod(@TempDir Path dir) throws Exception {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long[] sink = new long[1];
    Thread busy = new Thread(() -> {
      long x = 1;
      while (mx.getCurrentThreadCpuTime() < BUSY_CPU_NS) {
        x = spin(x);
      }
      sink[0] = x;
    }, "test-StreamThread-1");
    PrintStream out = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    long samples;
    try (JfrProfile profile = JfrProfile.start()) {
      busy.start();
      busy.join();
      System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
      try {
        samples = profile.stopAndPrint(dir.resolve("t.jfr"), "the test thread", n -> n.contains("StreamThread"), 5);
      } finally {
        System.setOut(out);
      }
    }
    String table = printed.toString(StandardCharsets.UTF_8);
    assertTrue(samples >= 5, samples + " CPU samples of a thread that ran " + BUSY_CPU_NS / 1_000_000 + " ms: " + table);
    assertTrue(table.contains("JfrProfileTest.spin"), "the hot method is not in the summary: " + table);
  }

  private static long spin(long x) {
    for (int i = 0; i < 10_000; i++) {
      x = x * 6364136223846793005L + 1442695040888963407L;
    }
    return x;
  }
}
