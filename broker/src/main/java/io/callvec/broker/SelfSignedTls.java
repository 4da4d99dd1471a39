package io.callvec.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Generates TLS material for a local broker at run time with the JDK's {@code keytool}, so that no
 * key or password is ever committed: a self-signed key pair for {@code CN=localhost} (SAN {@code
 * dns:localhost, ip:127.0.0.1}, so clients keep the default hostname verification) in a PKCS12
 * keystore, and a PKCS12 truststore holding its certificate.
 *
 * <p>Passwords are random per call and reach {@code keytool} through its environment ({@code
 * -storepass:env}), not its command line. Limits: for tests and local demos only: one
 * self-signed certificate (no CA chain), an EC P-256 key, valid for {@value #VALIDITY_DAYS} days;
 * the files are written unencrypted-at-rest apart from PKCS12's password protection, in the given
 * folder, which the caller deletes.
 */
public final class SelfSignedTls {
  /** Days the certificate is valid. */
  public static final int VALIDITY_DAYS = 2;
  private static final Duration KEYTOOL_TIMEOUT = Duration.ofSeconds(60);
  private static final String ALIAS = "localhost";

  /**
   * Generated files and their passwords. {@link #toString()} hides the passwords.
   *
   * @param keystore PKCS12 keystore with the broker's key pair (key password = keystore password)
   * @param keystorePassword the keystore's (and key's) password
   * @param truststore PKCS12 truststore with the broker's certificate
   * @param truststorePassword the truststore's password
   */
  public record Material(Path keystore, String keystorePassword, Path truststore, String truststorePassword) {
    @Override
    public String toString() {
      return "SelfSignedTls.Material[keystore=" + keystore + ", truststore=" + truststore + ", passwords=[hidden]]";
    }
  }

  private SelfSignedTls() {}

  /**
   * Writes {@code broker.keystore.p12} and {@code client.truststore.p12} into {@code dir} (created
   * if missing).
   *
   * @throws IllegalStateException if {@code keytool} fails or takes longer than 60 s (with its output)
   */
  public static Material generate(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
    Path keystore = dir.resolve("broker.keystore.p12");
    Path cert = dir.resolve("broker.crt.pem");
    Path truststore = dir.resolve("client.truststore.p12");
    String ksPass = randomPassword();
    String tsPass = randomPassword();
    Map<String, String> env = Map.of("CALLVEC_KS_PASS", ksPass, "CALLVEC_TS_PASS", tsPass);
    keytool(env, "-genkeypair", "-alias", ALIAS, "-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA",
        "-validity", Integer.toString(VALIDITY_DAYS), "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
        "-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass:env", "CALLVEC_KS_PASS", "-keypass:env", "CALLVEC_KS_PASS",
        "-noprompt");
    keytool(env, "-exportcert", "-rfc", "-alias", ALIAS, "-keystore", keystore.toString(), "-storetype", "PKCS12",
        "-storepass:env", "CALLVEC_KS_PASS", "-file", cert.toString());
    keytool(env, "-importcert", "-alias", ALIAS, "-file", cert.toString(), "-keystore", truststore.toString(), "-storetype", "PKCS12",
        "-storepass:env", "CALLVEC_TS_PASS", "-noprompt");
    return new Material(keystore, ksPass, truststore, tsPass);
  }

  private static String randomPassword() {
    byte[] b = new byte[18];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static void keytool(Map<String, String> env, String... args) {
    Path exe = Path.of(System.getProperty("java.home"), "bin", "keytool");
    List<String> cmd = new ArrayList<>();
    cmd.add(exe.toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + exe + " (is this a full JDK?): " + e.getMessage(), e);
    }
    try {
      p.getOutputStream().close();
      boolean done = p.waitFor(KEYTOOL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (!done) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
      String output = new String(p.getInputStream().readNBytes(64 * 1024), StandardCharsets.UTF_8).trim();
      if (!done) {
        throw new IllegalStateException("keytool " + args[0] + " did not finish within " + KEYTOOL_TIMEOUT.toSeconds() + " s: " + output);
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("keytool " + args[0] + " exited with " + p.exitValue() + ": " + output);
      }
    } catch (IOException e) {
      p.destroyForcibly();
      throw new UncheckedIOException("cannot read keytool's output", e);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running keytool", e);
    }
  }
}
