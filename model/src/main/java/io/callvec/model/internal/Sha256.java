package io.callvec.model.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256 digests as lower-case hex. */
public final class Sha256 {
  private Sha256() {}

  public static String of(byte[] bytes) {
    return hex(digest().digest(bytes));
  }

  /** Streams the file (constant memory, about 1 s per GB). */
  public static String of(Path file) throws IOException {
    MessageDigest md = digest();
    byte[] buf = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return hex(md.digest());
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }

  private static String hex(byte[] d) {
    StringBuilder sb = new StringBuilder(d.length * 2);
    for (byte b : d) {
      sb.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
    }
    return sb.toString();
  }
}
