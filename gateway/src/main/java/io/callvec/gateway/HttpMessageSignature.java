package io.callvec.gateway;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HTTP Message Signatures (RFC 9421) with {@code hmac-sha256}, as Genesys AudioHook signs its
 * WebSocket upgrade: {@code Signature-Input: sig1=("@request-target" "@authority"
 * "audiohook-organization-id" ... "x-api-key");keyid="<api key>";nonce="...";alg="hmac-sha256";created=...;expires=...}
 * and {@code Signature: sig1=:<base64 HMAC>:}, keyed with the Base64-decoded client secret.
 *
 * <p>Limits: only the first signature label is checked; covered components may be header names and
 * the derived components {@code @method @authority @scheme @target-uri @request-target @path @query}
 * (no component parameters); {@code alg}, when present, must be {@code hmac-sha256}; {@code keyid}
 * must equal the API key; {@code created} may be at most {@value #MAX_SKEW_S} s in the future and the
 * signature is refused after {@code expires} (or {@code created} + {@value #MAX_AGE_S} s).
 */
public final class HttpMessageSignature {
  /** Clock skew allowed on {@code created} and {@code expires}, seconds. */
  public static final long MAX_SKEW_S = 3;
  /** Oldest accepted signature without {@code expires}, seconds after {@code created}. */
  public static final long MAX_AGE_S = 300;

  private static final Pattern INPUT = Pattern.compile("^\\s*([a-zA-Z0-9_*.-]+)=(\\(([^)]*)\\)(.*))$");
  private static final Pattern COMPONENT = Pattern.compile("\"([^\"]+)\"");
  private static final Pattern PARAM = Pattern.compile(";\\s*([a-z]+)=(\"[^\"]*\"|-?[0-9]+)");

  private final byte[] secret;

  /** @param secretBase64 the client secret, Base64 as Genesys shows it */
  public HttpMessageSignature(String secretBase64) {
    this.secret = Base64.getDecoder().decode(secretBase64.trim());
    if (secret.length == 0) {
      throw new IllegalArgumentException("AudioHook client secret is empty");
    }
  }

  /** What the request offers for the signature base. */
  public interface RequestView {
    /** Canonical header value (values of a repeated header joined with ", "), null if absent. */
    String header(String lowerCaseName);

    String method();

    String scheme();

    /** Host[:port] as in the request. */
    String authority();

    /** Raw path, e.g. {@code /audiohook}. */
    String path();

    /** Raw query without '?', null if none. */
    String query();
  }

  /** Why a verification failed, or null when it passed. */
  public String verify(RequestView request, String apiKey, long nowEpochS) {
    String input = request.header("signature-input");
    String signature = request.header("signature");
    if (input == null || signature == null) {
      return "unsigned: no Signature-Input / Signature header";
    }
    Matcher m = INPUT.matcher(input.split(",(?=\\s*[a-zA-Z0-9_*.-]+=\\()")[0]);
    if (!m.find()) {
      return "malformed Signature-Input";
    }
    String label = m.group(1);
    String paramsValue = m.group(2);
    Map<String, String> params = new HashMap<>();
    Matcher pm = PARAM.matcher(m.group(4));
    while (pm.find()) {
      params.put(pm.group(1), pm.group(2).replace("\"", ""));
    }
    String alg = params.get("alg");
    if (alg != null && !alg.equals("hmac-sha256")) {
      return "unsupported alg " + alg;
    }
    if (!apiKey.equals(params.get("keyid"))) {
      return "keyid does not name the API key";
    }
    try {
      Long created = params.containsKey("created") ? Long.parseLong(params.get("created")) : null;
      Long expires = params.containsKey("expires") ? Long.parseLong(params.get("expires")) : null;
      if (created != null && created > nowEpochS + MAX_SKEW_S) {
        return "created is in the future";
      }
      if (expires != null && expires + MAX_SKEW_S < nowEpochS) {
        return "expired";
      }
      if (expires == null && created != null && created + MAX_AGE_S + MAX_SKEW_S < nowEpochS) {
        return "expired (older than " + MAX_AGE_S + " s)";
      }
    } catch (NumberFormatException e) {
      return "malformed created/expires";
    }
    StringBuilder base = new StringBuilder();
    Matcher cm = COMPONENT.matcher(m.group(3));
    List<String> seen = new ArrayList<>();
    while (cm.find()) {
      String name = cm.group(1);
      if (seen.contains(name)) {
        return "duplicate component " + name;
      }
      seen.add(name);
      String value = component(request, name.toLowerCase(Locale.ROOT));
      if (value == null) {
        return "covered component " + name + " is absent";
      }
      base.append('"').append(name).append("\": ").append(value).append('\n');
    }
    if (!seen.contains("x-api-key")) {
      return "signature does not cover x-api-key";
    }
    base.append("\"@signature-params\": ").append(paramsValue.trim());
    byte[] expected = hmac(base.toString());
    byte[] given = signatureBytes(signature, label);
    if (given == null) {
      return "no signature for label " + label;
    }
    return MessageDigest.isEqual(expected, given) ? null : "signature mismatch";
  }

  /** Signs like a Genesys client would (for tests and examples): returns {Signature-Input, Signature}. */
  public String[] sign(Function<String, String> componentValues, List<String> components, String apiKey, String nonce, long created, long expires) {
    StringBuilder list = new StringBuilder("(");
    StringBuilder base = new StringBuilder();
    for (int i = 0; i < components.size(); i++) {
      String c = components.get(i);
      list.append(i == 0 ? "" : " ").append('"').append(c).append('"');
      base.append('"').append(c).append("\": ").append(componentValues.apply(c)).append('\n');
    }
    list.append(");keyid=\"").append(apiKey).append("\";nonce=\"").append(nonce).append("\";alg=\"hmac-sha256\";created=")
        .append(created).append(";expires=").append(expires);
    base.append("\"@signature-params\": ").append(list);
    return new String[] {"sig1=" + list, "sig1=:" + Base64.getEncoder().encodeToString(hmac(base.toString())) + ":"};
  }

  private static String component(RequestView r, String name) {
    switch (name) {
      case "@method":
        return r.method();
      case "@authority":
        return r.authority() == null ? null : r.authority().toLowerCase(Locale.ROOT);
      case "@scheme":
        return r.scheme();
      case "@path":
        return r.path();
      case "@query":
        return "?" + (r.query() == null ? "" : r.query());
      case "@request-target":
        return r.path() + (r.query() == null ? "" : "?" + r.query());
      case "@target-uri":
        return r.scheme() + "://" + r.authority() + r.path() + (r.query() == null ? "" : "?" + r.query());
      default:
        if (name.startsWith("@")) {
          return null;
        }
        return r.header(name);
    }
  }

  private static byte[] signatureBytes(String header, String label) {
    for (String member : header.split(",")) {
      String t = member.trim();
      if (t.startsWith(label + "=:") && t.endsWith(":") && t.length() > label.length() + 3) {
        try {
          return Base64.getDecoder().decode(t.substring(label.length() + 2, t.length() - 1));
        } catch (IllegalArgumentException e) {
          return null;
        }
      }
    }
    return null;
  }

  private byte[] hmac(String base) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return mac.doFinal(base.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 unavailable", e);
    }
  }
}
