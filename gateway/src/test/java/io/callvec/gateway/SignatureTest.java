package io.callvec.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Known answers for Twilio's X-Twilio-Signature and AudioHook's HTTP message signature. */
class SignatureTest {

  @Test
  void twilioSignatureMatchesOpensslHmacSha1() {
    // printf '%s' 'wss://gw.example.com/twilio?tenant=acme' | openssl dgst -sha1 -hmac 'test-auth-token-12345' -binary | base64
    TwilioSignature s = new TwilioSignature("test-auth-token-12345");
    assertEquals("UdZLD8dO8eq8MjXfZVhWROfddh8=", s.sign("wss://gw.example.com/twilio?tenant=acme"));
    assertTrue(s.verify("wss://gw.example.com/twilio?tenant=acme", "UdZLD8dO8eq8MjXfZVhWROfddh8="));
    assertFalse(s.verify("wss://gw.example.com/twilio?tenant=acmf", "UdZLD8dO8eq8MjXfZVhWROfddh8="));
    assertFalse(s.verify("wss://gw.example.com/twilio?tenant=acme", null));
    assertFalse(new TwilioSignature("other-token").verify("wss://gw.example.com/twilio?tenant=acme", "UdZLD8dO8eq8MjXfZVhWROfddh8="));
  }

  /** The example of the AudioHook protocol documentation (headers, key, secret, signature). */
  static Map<String, String> documentationExample() {
    Map<String, String> h = new HashMap<>();
    h.put("host", "audiohook.example.com");
    h.put("audiohook-organization-id", "d7934305-0972-4844-938e-9060eef73d05");
    h.put("audiohook-session-id", "30b0e395-84d3-4570-ac13-9a62d8f514c0");
    h.put("audiohook-correlation-id", "e160e428-53e2-487c-977d-96989bf5c99d");
    h.put("x-api-key", "SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh");
    h.put("signature", "sig1=:NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=:");
    h.put("signature-input", "sig1=(\"@request-target\" \"@authority\" \"audiohook-organization-id\" \"audiohook-session-id\" "
        + "\"audiohook-correlation-id\" \"x-api-key\");keyid=\"SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh\";nonce=\"VGhpc0lzQVVuaXF1ZU5vbmNl\";"
        + "alg=\"hmac-sha256\";created=1641013200;expires=3282026430");
    return h;
  }

  static HttpMessageSignature.RequestView view(Map<String, String> h, String path) {
    return new HttpMessageSignature.RequestView() {
      public String header(String n) {
        return h.get(n);
      }

      public String method() {
        return "GET";
      }

      public String scheme() {
        return "https";
      }

      public String authority() {
        return h.get("host");
      }

      public String path() {
        return path;
      }

      public String query() {
        return null;
      }
    };
  }

  @Test
  void audioHookDocumentationExampleVerifies() {
    HttpMessageSignature v = new HttpMessageSignature("TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU=");
    String key = "SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";
    assertNull(v.verify(view(documentationExample(), "/api/v1/voicebiometrics/ws"), key, 1641013200L));

    Map<String, String> tampered = documentationExample();
    tampered.put("audiohook-session-id", "30b0e395-84d3-4570-ac13-9a62d8f514c1");
    assertEquals("signature mismatch", v.verify(view(tampered, "/api/v1/voicebiometrics/ws"), key, 1641013200L));
    assertEquals("signature mismatch", v.verify(view(documentationExample(), "/other"), key, 1641013200L));
    assertEquals("signature mismatch", new HttpMessageSignature("c2VjcmV0").verify(view(documentationExample(), "/api/v1/voicebiometrics/ws"), key,
        1641013200L));
    assertEquals("keyid does not name the API key", v.verify(view(documentationExample(), "/api/v1/voicebiometrics/ws"), "other-key", 1641013200L));
    assertEquals("created is in the future", v.verify(view(documentationExample(), "/api/v1/voicebiometrics/ws"), key, 1641013200L - 60));
    Map<String, String> unsigned = documentationExample();
    unsigned.remove("signature");
    assertNotNull(v.verify(view(unsigned, "/api/v1/voicebiometrics/ws"), key, 1641013200L));
  }

  @Test
  void signedLikeAClientVerifiesAndExpires() {
    HttpMessageSignature s = new HttpMessageSignature("TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU=");
    Map<String, String> h = documentationExample();
    List<String> comps = List.of("@request-target", "@authority", "audiohook-organization-id", "audiohook-session-id", "audiohook-correlation-id", "x-api-key");
    String[] sig = s.sign(c -> c.equals("@request-target") ? "/audiohook" : c.equals("@authority") ? h.get("host") : h.get(c), comps,
        h.get("x-api-key"), "bm9uY2U=", 2000, 2060);
    h.put("signature-input", sig[0]);
    h.put("signature", sig[1]);
    assertNull(s.verify(view(h, "/audiohook"), h.get("x-api-key"), 2010));
    assertEquals("expired", s.verify(view(h, "/audiohook"), h.get("x-api-key"), 2100));
  }
}
