package io.callvec.gateway;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How the gateway runs. Ports: 0 picks a free one, -1 (HTTP port only) disables the endpoint.
 *
 * @param host interface to bind, e.g. 0.0.0.0
 * @param port WebSocket port (paths {@link IngestGateway#TWILIO_PATH} and {@link IngestGateway#AUDIOHOOK_PATH})
 * @param httpPort port of /metrics, /health/live, /health/ready
 * @param topic Kafka topic of the AudioChunk records
 * @param chunkMs record length, ms of audio: 20 passes Twilio's 20 ms frames through, 100 joins five
 * @param maxConnections open WebSocket connections at most; more are refused with HTTP 503
 * @param maxMessageBytes largest WebSocket message (text or binary), bytes; larger: close 1009
 * @param idleTimeout a connection with no traffic for this long is closed
 * @param maxBufferedChunks records per connection sent but not acknowledged by Kafka, at most;
 *     then the connection stops reading its socket
 * @param shutdownTimeout how long {@link IngestGateway#close} waits for Kafka to acknowledge what is buffered
 * @param twilio Twilio authentication; null = the Twilio path is not served
 * @param audioHook AudioHook authentication; null = the AudioHook path is not served
 * @param tls TLS for the WebSocket port; null = plain ws://
 */
public record GatewaySettings(String host, int port, int httpPort, String topic, int chunkMs, int maxConnections, int maxMessageBytes,
    Duration idleTimeout, int maxBufferedChunks, Duration shutdownTimeout, TwilioAuth twilio, AudioHookAuth audioHook, Tls tls) {

  /**
   * @param authToken account auth token that keys X-Twilio-Signature; null only with {@code insecureNoSignature}
   * @param publicUrl scheme://host[:port] Twilio connects to (as in {@code <Stream url>}), the prefix of the
   *     signed URL; null = ws(s):// + the request's Host header
   * @param insecureNoSignature accept upgrades without checking the signature (tests, trusted networks)
   */
  public record TwilioAuth(String authToken, String publicUrl, boolean insecureNoSignature) {
    public TwilioAuth {
      if (authToken == null && !insecureNoSignature) {
        throw new IllegalArgumentException("Twilio needs an auth token (or the explicit insecure no-signature mode)");
      }
    }
  }

  /**
   * @param apiKey the X-API-KEY value Genesys sends; null only with {@code insecureNoAuth}
   * @param clientSecretBase64 the client secret (Base64) that keys the request signature; null = the
   *     signature is not required (the API key still is)
   * @param insecureNoAuth accept upgrades without an API key (tests, trusted networks)
   */
  public record AudioHookAuth(String apiKey, String clientSecretBase64, boolean insecureNoAuth) {
    public AudioHookAuth {
      if (apiKey == null && !insecureNoAuth) {
        throw new IllegalArgumentException("AudioHook needs an API key (or the explicit insecure no-auth mode)");
      }
    }
  }

  /** A PKCS#12 (or JKS) key store holding the server's key and certificate chain. */
  public record Tls(Path keyStore, String password) {}

  public GatewaySettings {
    if (chunkMs < 20 || chunkMs > 1000 || chunkMs % 20 != 0) {
      throw new IllegalArgumentException("chunk length must be a multiple of 20 ms in [20, 1000], was " + chunkMs);
    }
    if (maxConnections < 1 || maxMessageBytes < 1024 || maxBufferedChunks < 1) {
      throw new IllegalArgumentException("limits must be positive (max connections " + maxConnections + ", max message bytes "
          + maxMessageBytes + " >= 1024, max buffered chunks " + maxBufferedChunks + ")");
    }
    if (twilio == null && audioHook == null) {
      throw new IllegalArgumentException("neither Twilio nor AudioHook is configured: nothing to serve");
    }
    if (topic == null || topic.isBlank()) {
      throw new IllegalArgumentException("topic must not be empty");
    }
  }

  /** Defaults for tests and examples: both protocols without authentication, free ports. */
  public static GatewaySettings insecureDefaults(String topic) {
    return new GatewaySettings("127.0.0.1", 0, 0, topic, 20, 1000, 64 * 1024, Duration.ofSeconds(30), 250, Duration.ofSeconds(10),
        new TwilioAuth(null, null, true), new AudioHookAuth(null, null, true), null);
  }

  public GatewaySettings withChunkMs(int ms) {
    return new GatewaySettings(host, port, httpPort, topic, ms, maxConnections, maxMessageBytes, idleTimeout, maxBufferedChunks, shutdownTimeout, twilio,
        audioHook, tls);
  }

  public GatewaySettings withLimits(int connections, int messageBytes, Duration idle, int bufferedChunks) {
    return new GatewaySettings(host, port, httpPort, topic, chunkMs, connections, messageBytes, idle, bufferedChunks, shutdownTimeout, twilio,
        audioHook, tls);
  }

  public GatewaySettings withAuth(TwilioAuth t, AudioHookAuth a) {
    return new GatewaySettings(host, port, httpPort, topic, chunkMs, maxConnections, maxMessageBytes, idleTimeout, maxBufferedChunks, shutdownTimeout, t,
        a, tls);
  }

  public GatewaySettings withTls(Tls t) {
    return new GatewaySettings(host, port, httpPort, topic, chunkMs, maxConnections, maxMessageBytes, idleTimeout, maxBufferedChunks, shutdownTimeout,
        twilio, audioHook, t);
  }
}
