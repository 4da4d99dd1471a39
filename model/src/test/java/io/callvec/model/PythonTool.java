package io.callvec.model;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the Python tools of model/tools with {@code /usr/bin/python3} or {@code $CALLVEC_PYTHON}.
 * A missing Python module FAILS the test under CI (environment variable {@code CI} set, as
 * {@code .ci/run} does) unless {@code CALLVEC_ALLOW_NO_TORCH=1}; elsewhere the test is skipped.
 */
final class PythonTool {
  record Proc(int exit, String output) {}

  private PythonTool() {}

  static String python() {
    return System.getenv().getOrDefault("CALLVEC_PYTHON", "/usr/bin/python3");
  }

  /** Aborts (outside CI) or fails (under CI) unless the Python imports {@code modules}. */
  static void require(String modules, String debianPackages) throws Exception {
    Proc check = run(List.of(python(), "-c", "import " + modules), 120);
    if (check.exit() == 0) {
      return;
    }
    String why = python() + " cannot import " + modules + " (" + check.output().trim() + ")";
    if (System.getenv("CI") == null || "1".equals(System.getenv("CALLVEC_ALLOW_NO_TORCH"))) {
      Assumptions.abort("skipping outside CI: " + why);
    }
    fail(why + ". Install Debian's " + debianPackages + ", or point CALLVEC_PYTHON at such a "
        + "Python, or set CALLVEC_ALLOW_NO_TORCH=1 to skip (CI must run it).");
  }

  /** Runs {@code python tools/<script> args...} from the module folder. */
  static Proc tool(String script, List<String> args, int timeoutSeconds) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(python(), "tools/" + script));
    cmd.addAll(args);
    return run(cmd, timeoutSeconds);
  }

  static Proc run(List<String> cmd, int timeoutSeconds) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return new Proc(127, e.getMessage());
    }
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Proc(124, "timed out after " + timeoutSeconds + " s: " + cmd);
    }
    return new Proc(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }
}
