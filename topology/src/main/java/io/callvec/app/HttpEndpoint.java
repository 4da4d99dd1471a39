package io.callvec.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's HTTP endpoint, on the JDK's built-in server (no web framework):
 *
 * <ul>
 *   <li>{@code GET /metrics}: Prometheus text format (Kafka Streams metrics bridged, batcher and
 *       topology metrics);
 *   <li>{@code GET /health/live}: 200 while the process is healthy (Kafka Streams not in ERROR and
 *       every batcher worker alive: {@link HealthProbes#live}), else 503;
 *   <li>{@code GET /health/ready}: 200 while Kafka Streams is RUNNING and the batcher is ready (no
 *       model outage: {@link HealthProbes#ready}), else 503.
 * </ul>
 *
 * It serves nothing else: no audio, no embeddings, no configuration. Only the exact paths are
 * served (no prefix matches); anything else is 404, and methods other than GET and HEAD are 405.
 * The endpoint has no authentication or TLS: expose it only where scraping is meant to happen. Port -1 disables it; port 0
 * picks a free one ({@link #port()}).
 */
public final class HttpEndpoint implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HttpEndpoint.class);

  private final HttpServer server;
  private final ExecutorService executor;

  private HttpEndpoint(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts the endpoint on {@code port} (all interfaces).
   *
   * @param live true while the app is alive
   * @param ready true while the app serves traffic
   */
  public static HttpEndpoint start(int port, PrometheusMeterRegistry registry, BooleanSupplier live, BooleanSupplier ready) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 16);
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "callvec-http");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/metrics", ex -> {
      if (allowGet(ex)) {
        respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
      }
    });
    server.createContext("/health/live", ex -> {
      if (allowGet(ex)) {
        boolean ok = live.getAsBoolean();
        respond(ex, ok ? 200 : 503, "text/plain", ok ? "live\n" : "not live\n");
      }
    });
    server.createContext("/health/ready", ex -> {
      if (allowGet(ex)) {
        boolean ok = ready.getAsBoolean();
        respond(ex, ok ? 200 : 503, "text/plain", ok ? "ready\n" : "not ready\n");
      }
    });
    server.createContext("/", ex -> {
      if (allowGet(ex)) {
        respond(ex, 404, "text/plain", "not found: try /metrics, /health/live, /health/ready\n");
      }
    });
    server.start();
    HttpEndpoint endpoint = new HttpEndpoint(server, executor);
    log.info("HTTP endpoint on port {}: /metrics /health/live /health/ready", endpoint.port());
    return endpoint;
  }

  /** True for GET/HEAD of exactly the context's path; else answers 404 or 405 and returns false. */
  private static boolean allowGet(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getRawPath();
    String context = ex.getHttpContext().getPath();
    if (!context.equals("/") && !context.equals(path)) {
      // The JDK server matches contexts by prefix: /metrics/x or /health/live.json must not be served.
      respond(ex, 404, "text/plain", "not found\n");
      return false;
    }
    if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
      respond(ex, 405, "text/plain", "method not allowed\n");
      return false;
    }
    return true;
  }

  private static void respond(HttpExchange ex, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", contentType);
    boolean head = "HEAD".equals(ex.getRequestMethod());
    ex.sendResponseHeaders(status, head ? -1 : bytes.length);
    try (OutputStream os = ex.getResponseBody()) {
      if (!head) {
        os.write(bytes);
      }
    }
  }

  /** The port actually bound. */
  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
