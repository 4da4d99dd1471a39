package io.callvec.gateway;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's operator HTTP port, on the app's conventions: {@code GET /metrics} (Prometheus text),
 * {@code /health/live} (200 while the process serves, else 503), {@code /health/ready} (200 while it
 * accepts connections, else 503). Exact paths only; others 404, methods other than GET/HEAD 405. No
 * authentication or TLS: expose it only where scraping happens. A Jetty server of its own (a small
 * thread pool), so that media traffic cannot starve health checks.
 */
final class AdminEndpoint implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminEndpoint.class);
  private final Server server;
  private final ServerConnector connector;

  private AdminEndpoint(Server server, ServerConnector connector) {
    this.server = server;
    this.connector = connector;
  }

  static AdminEndpoint start(String host, int port, PrometheusMeterRegistry registry, BooleanSupplier live, BooleanSupplier ready) throws Exception {
    QueuedThreadPool pool = new QueuedThreadPool(8, 2);
    pool.setName("callvec-gateway-http");
    Server server = new Server(pool);
    ServerConnector c = new ServerConnector(server, 1, 1);
    c.setHost(host);
    c.setPort(port);
    server.addConnector(c);
    server.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request rq, Response rs, Callback cb) {
        String method = rq.getMethod();
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
          return respond(rq, rs, cb, 405, "text/plain", "method not allowed\n");
        }
        return switch (Request.getPathInContext(rq)) {
          case "/metrics" -> respond(rq, rs, cb, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
          case "/health/live" -> live.getAsBoolean() ? respond(rq, rs, cb, 200, "text/plain", "live\n")
              : respond(rq, rs, cb, 503, "text/plain", "not live\n");
          case "/health/ready" -> ready.getAsBoolean() ? respond(rq, rs, cb, 200, "text/plain", "ready\n")
              : respond(rq, rs, cb, 503, "text/plain", "not ready\n");
          default -> respond(rq, rs, cb, 404, "text/plain", "not found: try /metrics, /health/live, /health/ready\n");
        };
      }
    });
    server.start();
    AdminEndpoint e = new AdminEndpoint(server, c);
    log.info("gateway HTTP endpoint on port {}: /metrics /health/live /health/ready", e.port());
    return e;
  }

  private static boolean respond(Request rq, Response rs, Callback cb, int status, String type, String body) {
    rs.setStatus(status);
    rs.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    rs.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
    rs.write(true, "HEAD".equals(rq.getMethod()) ? ByteBuffer.allocate(0) : ByteBuffer.wrap(bytes), cb);
    return true;
  }

  int port() {
    return connector.getLocalPort();
  }

  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      log.warn("stopping the HTTP endpoint failed: {}", e.toString());
    }
  }
}
