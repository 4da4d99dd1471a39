package io.callvec.gateway;

import io.callvec.schemas.AudioChunk;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.Producer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.StatusCode;
import org.eclipse.jetty.websocket.server.ServerUpgradeRequest;
import org.eclipse.jetty.websocket.server.ServerUpgradeResponse;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingestion gateway: a Jetty 12 WebSocket server (core API, no servlets) serving Twilio Media
 * Streams on {@value #TWILIO_PATH} and Genesys AudioHook on {@value #AUDIOHOOK_PATH}, producing
 * {@code AudioChunk} records keyed by call id through one shared Kafka producer, plus an operator
 * HTTP port ({@link AdminEndpoint}).
 *
 * <p>An upgrade is authenticated (and counted against {@code maxConnections}) before the WebSocket
 * exists: a refused one gets HTTP 401/403 (bad credentials) or 503 (connection limit) and no audio is
 * ever read from it. Any other request on the WebSocket port gets 404 (unknown path) or 426.
 *
 * <p>{@link #close}: stops accepting, closes every connection with 1001 (Twilio streams get their
 * end-of-stream records; AudioHook sessions stay open for a reconnection), waits up to
 * {@code shutdownTimeout} for Kafka to acknowledge what is buffered and returns how many records were
 * not acknowledged (logged as an error when not 0).
 */
public final class IngestGateway implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IngestGateway.class);
  public static final String TWILIO_PATH = "/twilio";
  public static final String AUDIOHOOK_PATH = "/audiohook";
  /** Outgoing messages queued per connection before a send fails (a client that stops reading). */
  public static final int MAX_OUTGOING_FRAMES = 64;

  private final GatewaySettings settings;
  private final Producer<String, AudioChunk> producer;
  private final GatewayMetrics metrics;
  private final UpgradeAuth auth;
  private final AudioHookSessions audioHookSessions = new AudioHookSessions(100_000, 10 * 60_000L);
  private final AtomicInteger connections = new AtomicInteger();
  private final Set<MediaConnection> live = ConcurrentHashMap.newKeySet();
  private final Server server;
  private final ServerConnector connector;
  private final AdminEndpoint admin;
  private volatile boolean closing;

  private IngestGateway(GatewaySettings settings, Producer<String, AudioChunk> producer, PrometheusMeterRegistry registry) throws Exception {
    this.settings = settings;
    this.producer = producer;
    this.metrics = new GatewayMetrics(registry);
    this.auth = new UpgradeAuth(settings.twilio(), settings.audioHook());
    QueuedThreadPool pool = new QueuedThreadPool(Math.max(16, Math.min(400, settings.maxConnections() / 4 + 16)), 4);
    pool.setName("callvec-gateway");
    this.server = new Server(pool);
    if (settings.tls() != null) {
      SslContextFactory.Server ssl = new SslContextFactory.Server();
      ssl.setKeyStorePath(settings.tls().keyStore().toString());
      ssl.setKeyStorePassword(settings.tls().password());
      HttpConfiguration http = new HttpConfiguration();
      SecureRequestCustomizer secure = new SecureRequestCustomizer();
      secure.setSniHostCheck(false);
      http.addCustomizer(secure);
      this.connector = new ServerConnector(server, ssl, new HttpConnectionFactory(http));
    } else {
      this.connector = new ServerConnector(server);
    }
    connector.setHost(settings.host());
    connector.setPort(settings.port());
    connector.setIdleTimeout(settings.idleTimeout().toMillis());
    server.addConnector(connector);
    WebSocketUpgradeHandler ws = WebSocketUpgradeHandler.from(server, container -> {
      container.setMaxTextMessageSize(settings.maxMessageBytes());
      container.setMaxBinaryMessageSize(settings.maxMessageBytes());
      container.setMaxFrameSize(settings.maxMessageBytes());
      container.setIdleTimeout(settings.idleTimeout());
      container.setMaxOutgoingFrames(MAX_OUTGOING_FRAMES);
      if (settings.twilio() != null) {
        container.addMapping(TWILIO_PATH, this::twilio);
      }
      if (settings.audioHook() != null) {
        container.addMapping(AUDIOHOOK_PATH, this::audioHook);
      }
    });
    ws.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request rq, Response rs, Callback cb) {
        String path = Request.getPathInContext(rq);
        boolean wsPath = (TWILIO_PATH.equals(path) && settings.twilio() != null) || (AUDIOHOOK_PATH.equals(path) && settings.audioHook() != null);
        Response.writeError(rq, rs, cb, wsPath ? 426 : 404, wsPath ? "WebSocket upgrade required" : "not found");
        return true;
      }
    });
    server.setHandler(ws);
    server.start();
    this.admin = settings.httpPort() < 0 ? null : AdminEndpoint.start(settings.host(), settings.httpPort(), registry, () -> !closing, this::ready);
    log.info("gateway listening on {}://{}:{}{}{}, records to {} in {} ms chunks; HTTP endpoint {}", settings.tls() == null ? "ws" : "wss",
        settings.host(), port(), settings.twilio() == null ? "" : " " + TWILIO_PATH + twilioMode(), settings.audioHook() == null ? "" : " " + AUDIOHOOK_PATH
            + audioHookMode(), settings.topic(), settings.chunkMs(), admin == null ? "off" : "port " + admin.port());
  }

  /** Starts the gateway; the caller keeps ownership of {@code producer} (close it after {@link #close}). */
  public static IngestGateway start(GatewaySettings settings, Producer<String, AudioChunk> producer, PrometheusMeterRegistry registry) throws Exception {
    return new IngestGateway(settings, producer, registry);
  }

  private String twilioMode() {
    return settings.twilio().authToken() == null ? " (NO signature check)" : " (X-Twilio-Signature checked)";
  }

  private String audioHookMode() {
    GatewaySettings.AudioHookAuth a = settings.audioHook();
    return a.apiKey() == null ? " (NO authentication)" : a.clientSecretBase64() == null ? " (API key checked)" : " (API key and signature checked)";
  }

  private Object twilio(ServerUpgradeRequest rq, ServerUpgradeResponse rs, Callback cb) {
    String refused = closing ? "shutting down" : auth.checkTwilio(rq);
    if (refused != null) {
      return refuse(GatewayMetrics.Protocol.TWILIO, rq, rs, cb, closing ? 503 : 403, refused);
    }
    if (!acquire()) {
      return refuse(GatewayMetrics.Protocol.TWILIO, rq, rs, cb, 503, "connection limit " + settings.maxConnections() + " reached");
    }
    TwilioConnection[] self = new TwilioConnection[1];
    self[0] = new TwilioConnection(producer, settings.topic(), settings.chunkMs(), settings.maxBufferedChunks(), metrics, () -> released(self[0]));
    live.add(self[0]);
    return self[0];
  }

  private Object audioHook(ServerUpgradeRequest rq, ServerUpgradeResponse rs, Callback cb) {
    String refused = closing ? "shutting down" : auth.checkAudioHook(rq, System.currentTimeMillis() / 1000);
    if (refused != null) {
      return refuse(GatewayMetrics.Protocol.AUDIOHOOK, rq, rs, cb, closing ? 503 : 401, refused);
    }
    if (!acquire()) {
      return refuse(GatewayMetrics.Protocol.AUDIOHOOK, rq, rs, cb, 503, "connection limit " + settings.maxConnections() + " reached");
    }
    Map<String, String> meta = new LinkedHashMap<>();
    String org = rq.getHeaders().get("Audiohook-Organization-Id");
    String corr = rq.getHeaders().get("Audiohook-Correlation-Id");
    if (org != null) {
      meta.put("organizationId", org);
    }
    if (corr != null) {
      meta.put("correlationId", corr);
    }
    AudioHookConnection[] self = new AudioHookConnection[1];
    self[0] = new AudioHookConnection(producer, settings.topic(), settings.chunkMs(), settings.maxBufferedChunks(), metrics, audioHookSessions, meta,
        () -> released(self[0]));
    live.add(self[0]);
    return self[0];
  }

  private Object refuse(String protocol, Request rq, Response rs, Callback cb, int status, String why) {
    metrics.refused(protocol, status == 503 ? "limit" : "unauthorized");
    log.warn("{}: refused upgrade from {} with {}: {}", protocol, Request.getRemoteAddr(rq), status, why);
    if (status == 401) {
      rs.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "X-API-KEY");
    }
    Response.writeError(rq, rs, cb, status, status == 503 ? "unavailable" : "unauthorized");
    return null;
  }

  private boolean acquire() {
    while (true) {
      int n = connections.get();
      if (n >= settings.maxConnections()) {
        return false;
      }
      if (connections.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  private void released(MediaConnection c) {
    connections.decrementAndGet();
    live.remove(c);
  }

  /** True while the WebSocket server runs and the gateway is not stopping. */
  public boolean ready() {
    return !closing && server.isStarted();
  }

  /** The WebSocket port actually bound. */
  public int port() {
    return connector.getLocalPort();
  }

  /** The HTTP endpoint's port, -1 when disabled. */
  public int httpPort() {
    return admin == null ? -1 : admin.port();
  }

  public GatewayMetrics metrics() {
    return metrics;
  }

  /** Open WebSocket connections. */
  public int connections() {
    return connections.get();
  }

  /** Stops as the class comment says; returns the records Kafka had not acknowledged when it gave up. */
  public long shutdown() {
    closing = true;
    log.info("gateway stopping: closing {} connection(s)", live.size());
    for (MediaConnection c : live) {
      c.closeWith(StatusCode.SHUTDOWN, "gateway shutting down");
    }
    long deadline = System.nanoTime() + settings.shutdownTimeout().toNanos();
    while ((connections.get() > 0 || bufferedRecords() > 0) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    long left = bufferedRecords();
    if (left > 0) {
      log.error("gateway stopped with {} record(s) not acknowledged by Kafka after {}: they may be lost (see callvec_gateway_send_failures_total)",
          left, settings.shutdownTimeout());
    } else {
      log.info("gateway stopped: every record acknowledged by Kafka");
    }
    try {
      server.stop();
    } catch (Exception e) {
      log.warn("stopping the WebSocket server failed: {}", e.toString());
    }
    if (admin != null) {
      admin.close();
    }
    return left;
  }

  private long bufferedRecords() {
    Double v = metrics.registry().find("callvec.gateway.buffered.chunks").gauge() == null ? null
        : metrics.registry().find("callvec.gateway.buffered.chunks").gauge().value();
    return v == null ? 0 : v.longValue();
  }

  @Override
  public void close() {
    if (!closing || server.isStarted()) {
      shutdown();
    }
  }
}
