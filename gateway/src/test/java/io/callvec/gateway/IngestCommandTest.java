package io.callvec.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class IngestCommandTest {
  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new IngestCommand());
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void helpShowsBothIntegrations() {
    Run r = run("--help");
    assertEquals(0, r.exit());
    assertTrue(r.out().contains("<Stream url=\"wss://gw.example.com/twilio\""), r.out());
    assertTrue(r.out().contains("Connection URI: wss://gw.example.com/audiohook"), r.out());
    assertTrue(r.out().contains("--chunk-ms"), r.out());
    assertTrue(r.out().contains("--max-buffered-chunks"), r.out());
  }

  @Test
  void usageErrorsNameTheBadInput(@TempDir Path dir) throws Exception {
    Run none = run("--bootstrap-servers", "localhost:1");
    assertEquals(2, none.exit());
    assertTrue(none.err().contains("neither Twilio nor AudioHook is configured"), none.err());
    Run chunk = run("--bootstrap-servers", "localhost:1", "--twilio-insecure-no-signature", "--chunk-ms", "30");
    assertEquals(2, chunk.exit());
    assertTrue(chunk.err().contains("multiple of 20 ms"), chunk.err());
    Path empty = Files.writeString(dir.resolve("token"), " \n");
    Run token = run("--bootstrap-servers", "localhost:1", "--twilio-auth-token-file", empty.toString());
    assertEquals(2, token.exit());
    assertTrue(token.err().contains("--twilio-auth-token-file " + empty + " is empty"), token.err());
    Path secret = Files.writeString(dir.resolve("secret"), "c2VjcmV0");
    Run noKey = run("--bootstrap-servers", "localhost:1", "--audiohook-client-secret-file", secret.toString());
    assertEquals(2, noKey.exit());
    assertTrue(noKey.err().contains("needs the API key"), noKey.err());
  }
}
