package io.callvec.audio;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the sox command line for reference results. When sox is missing the calling test FAILS under
 * CI (environment variable CI set) unless CALLVEC_ALLOW_NO_SOX=1, with a message saying to install
 * it; elsewhere it is skipped.
 */
final class Sox {

  static final String ALLOW_ENV = "CALLVEC_ALLOW_NO_SOX";

  private Sox() {}

  /** Fails (or skips, with CALLVEC_ALLOW_NO_SOX=1) unless sox runs. */
  static void require() {
    String why = null;
    try {
      Process p = new ProcessBuilder("sox", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        why = "sox --version did not succeed";
      }
    } catch (IOException e) {
      why = "sox is not on the PATH (" + e.getMessage() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      why = "interrupted";
    }
    if (why != null) {
      unavailable(why + ": install sox (Debian/Ubuntu: apt-get install sox libsox-fmt-all)");
    }
  }

  /**
   * Fails under CI (environment variable {@code CI} set, as {@code .ci/run} does) unless {@code
   * CALLVEC_ALLOW_NO_SOX=1}; elsewhere skips with the message, so that {@code mvn verify} works on a
   * machine with only Java and Maven.
   */
  static void unavailable(String message) {
    if (System.getenv("CI") != null && !"1".equals(System.getenv(ALLOW_ENV))) {
      fail(message + " (CI must run this reference test)");
    }
    Assumptions.abort(message + " [reference test skipped outside CI]");
  }

  /** Runs sox with the given arguments; fails the test with sox's output on error. */
  static void run(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add("sox");
    cmd.add("-V1");
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        fail("sox failed: " + String.join(" ", cmd) + "\n" + out);
      }
    } catch (IOException e) {
      fail("cannot run " + String.join(" ", cmd) + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail("interrupted");
    }
  }

  static float[] readFloat32Raw(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }

  static short[] readS16Raw(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    short[] out = new short[b.remaining() / 2];
    b.asShortBuffer().get(out);
    return out;
  }
}
