package io.callvec.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Avro 1.12.2 refuses generated classes unless trusted. The build's surefire configuration trusts
 * them with a system property, so these checks run in a child JVM started without it.
 */
class AvroTrustTest {

  private static String runProbe(String mode) throws IOException, InterruptedException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb = new ProcessBuilder(List.of(
        java.toString(), "-Xmx128m", "-cp", System.getProperty("java.class.path"), TrustProbe.class.getName(), mode));
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe did not finish");
    assertEquals(0, p.exitValue(), "probe exit code, output: " + out);
    return out;
  }

  @Test
  void withoutTrustAvroRefusesTheGeneratedClass() throws Exception {
    String out = runProbe("generated-decoder");
    assertTrue(out.startsWith("FAIL java.lang.SecurityException"), out);
    assertTrue(out.contains("io.callvec.schemas"), out);
  }

  @Test
  void installTrustsTheGeneratedClassesAtRunTime() throws Exception {
    String expectedCallId = Fixtures.audioChunk(77, true).getCallId();
    assertEquals("OK " + expectedCallId, runProbe("install-then-generated-decoder"));
  }

  @Test
  void serdesInstallTrustThemselves() throws Exception {
    String expectedCallId = Fixtures.audioChunk(77, true).getCallId();
    assertEquals("OK " + expectedCallId, runProbe("serde"));
  }

  @Test
  void trustsOnlyGeneratedClassesOfThePackage() {
    assertTrue(AvroTrust.isCallvecGenerated(AudioChunk.class));
    assertTrue(AvroTrust.isCallvecGenerated(AudioEncoding.class));
    assertTrue(AvroTrust.isCallvecGenerated(ModelProvenance.class));
    assertFalse(AvroTrust.isCallvecGenerated(Fixtures.class), "not @AvroGenerated");
    assertFalse(AvroTrust.isCallvecGenerated(org.apache.avro.specific.SpecificRecordBase.class), "other package");
  }
}
