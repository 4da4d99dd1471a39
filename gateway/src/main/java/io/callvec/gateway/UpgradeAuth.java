package io.callvec.gateway;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;

/**
 * Checks a WebSocket upgrade request before the connection exists: Twilio's
 * {@code X-Twilio-Signature} over the requested URL, AudioHook's {@code X-API-KEY} and, where a
 * client secret is configured, its HTTP message signature. Returns why a request is refused, or null
 * to accept it. Header values are never logged (they are secrets or derived from them).
 */
final class UpgradeAuth {
  private final GatewaySettings.TwilioAuth twilio;
  private final TwilioSignature twilioSignature;
  private final GatewaySettings.AudioHookAuth audioHook;
  private final HttpMessageSignature audioHookSignature;

  UpgradeAuth(GatewaySettings.TwilioAuth twilio, GatewaySettings.AudioHookAuth audioHook) {
    this.twilio = twilio;
    this.twilioSignature = twilio == null || twilio.authToken() == null ? null : new TwilioSignature(twilio.authToken());
    this.audioHook = audioHook;
    this.audioHookSignature = audioHook == null || audioHook.clientSecretBase64() == null ? null
        : new HttpMessageSignature(audioHook.clientSecretBase64());
  }

  /** The URL Twilio signed for this request: the public URL prefix (or ws(s)://Host) + path + query. */
  String twilioUrl(Request rq) {
    String prefix = twilio.publicUrl();
    if (prefix == null) {
      prefix = (rq.isSecure() ? "wss://" : "ws://") + rq.getHeaders().get(HttpHeader.HOST);
    }
    while (prefix.endsWith("/")) {
      prefix = prefix.substring(0, prefix.length() - 1);
    }
    String query = rq.getHttpURI().getQuery();
    return prefix + rq.getHttpURI().getPath() + (query == null ? "" : "?" + query);
  }

  String checkTwilio(Request rq) {
    if (twilioSignature == null) {
      return null; // insecure mode, chosen explicitly
    }
    String sig = rq.getHeaders().get(TwilioSignature.HEADER);
    if (sig == null) {
      return "no " + TwilioSignature.HEADER + " header";
    }
    return twilioSignature.verify(twilioUrl(rq), sig) ? null : TwilioSignature.HEADER + " does not match the URL " + twilioUrl(rq);
  }

  String checkAudioHook(Request rq, long nowEpochS) {
    if (audioHook.apiKey() == null) {
      return null; // insecure mode, chosen explicitly
    }
    String key = rq.getHeaders().get("X-API-KEY");
    if (key == null) {
      return "no X-API-KEY header";
    }
    if (!MessageDigest.isEqual(key.getBytes(StandardCharsets.UTF_8), audioHook.apiKey().getBytes(StandardCharsets.UTF_8))) {
      return "X-API-KEY is not the configured key";
    }
    if (audioHookSignature == null) {
      return null;
    }
    return audioHookSignature.verify(view(rq), audioHook.apiKey(), nowEpochS);
  }

  static HttpMessageSignature.RequestView view(Request rq) {
    return new HttpMessageSignature.RequestView() {
      @Override
      public String header(String name) {
        List<String> values = rq.getHeaders().getFields(name).stream().map(HttpField::getValue).map(String::trim).toList();
        return values.isEmpty() ? null : String.join(", ", values);
      }

      @Override
      public String method() {
        return rq.getMethod().toUpperCase(Locale.ROOT);
      }

      @Override
      public String scheme() {
        return rq.isSecure() ? "https" : "http";
      }

      @Override
      public String authority() {
        return rq.getHeaders().get(HttpHeader.HOST);
      }

      @Override
      public String path() {
        return rq.getHttpURI().getPath();
      }

      @Override
      public String query() {
        return rq.getHttpURI().getQuery();
      }
    };
  }
}
