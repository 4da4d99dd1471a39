package io.callvec.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * External validators (promtool, Node.js with ops/validate's packages), installed by {@code
 * ops/validate/install.sh} (which .ci/run calls). Where one is missing, a test fails under CI
 * ({@code CI} set) and is skipped elsewhere, with the command that installs it.
 */
final class ExternalTools {
  private ExternalTools() {}

  static final String INSTALL = "ops/validate/install.sh";

  /** Result of one command. */
  record Result(int exit, String output) {}

  /** The executable {@code name} from {@code $envVar} or the PATH. */
  static Path require(String name, String envVar) {
    String override = System.getenv(envVar);
    if (override != null && !override.isBlank()) {
      Path p = Path.of(override);
      assertTrue(Files.isExecutable(p), envVar + "=" + override + " is not an executable");
      return p;
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dir, name);
      if (!dir.isEmpty() && Files.isExecutable(p)) {
        return p;
      }
    }
    missing(name + " is not on the PATH (nor in $" + envVar + ")");
    return null; // unreachable
  }

  /** ops/validate/node_modules, installed by npm ci. */
  static Path requireNodeModules() {
    Path nm = RepoFiles.root().resolve("ops/validate/node_modules");
    if (!Files.isDirectory(nm.resolve("kubernetes-models")) || !Files.isDirectory(nm.resolve("typescript"))) {
      missing("ops/validate/node_modules is not installed");
    }
    return nm;
  }

  private static void missing(String what) {
    String msg = what + "; install the validators with: " + INSTALL;
    if (System.getenv("CI") != null) {
      fail(msg);
    }
    Assumptions.abort(msg);
  }

  static Result run(Path cwd, long timeoutS, List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("timed out after " + timeoutS + " s: " + String.join(" ", cmd));
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }
}
