package io.callvec.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.callvec.schemas.AudioChunk;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client callvec did not write: Node.js's {@code ws} package (Debian's node-ws, which .ci/run
 * installs) drives src/test/node/media-client.cjs, which reads real prompts with its own WAV reader,
 * encodes them with its own μ-law encoder and plays them over both protocols. The records in Kafka
 * must hold exactly the bytes it sent. Without node + ws the test fails under CI and is skipped
 * elsewhere.
 */
class NodeWsClientTest {
  static final String TOPIC = "node-audio";
  static final Path SCRIPT = Path.of("src/test/node/media-client.cjs");
  @RegisterExtension static final TestBroker BROKER = new TestBroker(TOPIC, 2);

  @Test
  void twilioFromNodeWs(@TempDir Path dir) throws Exception {
    try (GatewayFixture f = new GatewayFixture(BROKER.kafka(), TOPIC, GatewaySettings.insecureDefaults(TOPIC))) {
      String callSid = "CAnodews0000000000000000000000000";
      play(dir, "twilio", f.uri(IngestGateway.TWILIO_PATH).toString(), callSid);
      List<ConsumerRecord<String, AudioChunk>> recs = f.readCall(callSid, 2);
      TwilioGatewayTest.checkTrack(recs, 0, "inbound", Files.readAllBytes(dir.resolve("sent.0.ulaw")), 20);
      TwilioGatewayTest.checkTrack(recs, 1, "outbound", Files.readAllBytes(dir.resolve("sent.1.ulaw")), 20);
    }
  }

  @Test
  void audioHookFromNodeWs(@TempDir Path dir) throws Exception {
    try (GatewayFixture f = new GatewayFixture(BROKER.kafka(), TOPIC, GatewaySettings.insecureDefaults(TOPIC))) {
      String conv = "0d0e0f10-1112-4314-9516-171819202122";
      String out = play(dir, "audiohook", f.uri(IngestGateway.AUDIOHOOK_PATH).toString(), conv);
      assertTrue(out.contains("\"type\":\"opened\"") && out.contains("\"type\":\"pong\"") && out.contains("\"type\":\"closed\""), out);
      List<ConsumerRecord<String, AudioChunk>> recs = f.readCall(conv, 2);
      AudioHookGatewayTest.check(recs, 0, "external", Files.readAllBytes(dir.resolve("sent.0.ulaw")), Integer.MAX_VALUE, 0);
      AudioHookGatewayTest.check(recs, 1, "internal", Files.readAllBytes(dir.resolve("sent.1.ulaw")), Integer.MAX_VALUE, 0);
    }
  }

  /** Runs the script, which must exit 0 after a normal close (1000); returns its stdout (one JSON line). */
  static String play(Path dir, String mode, String url, String callId) throws Exception {
    Path wav0 = promptFile("hello-world");
    Path wav1 = promptFile("agent-loggedoff");
    List<String> cmd = new ArrayList<>(List.of(node().toString(), SCRIPT.toString(), mode, url, callId, wav0.toString(), wav1.toString(),
        dir.resolve("sent").toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(dir.resolve("stderr.txt").toFile());
    pb.environment().put("NODE_PATH", nodePath());
    Process p = pb.start();
    p.getOutputStream().close();
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("node did not finish in 60 s");
    }
    assertEquals(0, p.exitValue(), "node exited with " + p.exitValue() + ": " + Files.readString(dir.resolve("stderr.txt")));
    assertTrue(stdout.contains("\"closeCode\":1000"), stdout);
    return stdout;
  }

  static Path promptFile(String name) throws Exception {
    GatewayFixture.prompt(name); // fails under CI / skips when the package is missing
    for (Path d : GatewayFixture.SOUND_DIRS) {
      if (Files.isRegularFile(d.resolve(name + ".wav"))) {
        return d.resolve(name + ".wav");
      }
    }
    throw new IllegalStateException(name);
  }

  /** Debian's node modules folder, before any NODE_PATH already set. */
  static String nodePath() {
    String own = System.getenv("NODE_PATH");
    return "/usr/share/nodejs" + (own == null || own.isBlank() ? "" : File.pathSeparator + own);
  }

  static Path node() throws Exception {
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(d, "node");
      if (!d.isEmpty() && Files.isExecutable(p)) {
        ProcessBuilder pb = new ProcessBuilder(p.toString(), "-e", "require('ws')").redirectErrorStream(true);
        pb.environment().put("NODE_PATH", nodePath());
        Process check = pb.start();
        if (check.waitFor(20, TimeUnit.SECONDS) && check.exitValue() == 0) {
          return p;
        }
        missing(p + " cannot load the ws package: " + new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
      }
    }
    missing("node is not on the PATH");
    return null;
  }

  private static void missing(String what) {
    String msg = what + "; install it with: apt-get install node-ws (as .ci/run does)";
    if (System.getenv("CI") != null) {
      fail(msg);
    }
    Assumptions.abort(msg);
  }
}
