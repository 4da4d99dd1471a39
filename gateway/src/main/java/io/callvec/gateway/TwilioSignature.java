package io.callvec.gateway;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Twilio's request signature ({@code X-Twilio-Signature}): Base64 of HMAC-SHA1 over the full URL
 * Twilio requested, keyed with the account's auth token. A Media Streams WebSocket upgrade is a GET
 * with no body parameters, so the signed string is the URL alone, exactly as written in the TwiML
 * {@code <Stream url="...">} (scheme, host, path and query).
 */
public final class TwilioSignature {
  /** Request header that carries the signature. */
  public static final String HEADER = "X-Twilio-Signature";

  private final byte[] authToken;

  /** @param authToken the Twilio account's auth token (not empty) */
  public TwilioSignature(String authToken) {
    if (authToken == null || authToken.isBlank()) {
      throw new IllegalArgumentException("Twilio auth token must not be empty");
    }
    this.authToken = authToken.getBytes(StandardCharsets.UTF_8);
  }

  /** The signature Twilio sends for {@code url}. */
  public String sign(String url) {
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(authToken, "HmacSHA1"));
      return Base64.getEncoder().encodeToString(mac.doFinal(url.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HMAC-SHA1 unavailable", e);
    }
  }

  /** True if {@code signature} (null = absent) is the signature of {@code url}; constant-time compare. */
  public boolean verify(String url, String signature) {
    if (signature == null || signature.isEmpty()) {
      return false;
    }
    return MessageDigest.isEqual(sign(url).getBytes(StandardCharsets.US_ASCII), signature.trim().getBytes(StandardCharsets.US_ASCII));
  }
}
