package io.callvec.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small client of the Confluent Schema Registry REST API (also served by Apicurio Registry under
 * {@code /apis/ccompat/v7} and by Karapace), on the JDK's {@link HttpClient}: the six calls a serde
 * and a compatibility check need, nothing else.
 *
 * <p><b>Caching.</b> Schemas by id and ids by (subject, schema) are cached for the life of the
 * client (ids are immutable in a registry), so a warm client makes no request per record and keeps
 * working while the registry is down.
 *
 * <p><b>Failover and retries.</b> Each request tries the configured URLs in order; a connection
 * failure, a timeout or an HTTP 5xx moves on to the next URL. When every URL failed, the client
 * waits ({@link RegistryConfig#retryBackoff()}, doubling up to {@link
 * RegistryConfig#retryBackoffMax()}) and tries again, until {@link RegistryConfig#retryMax()} has
 * passed; then it throws {@link RegistryUnavailableException}. HTTP 4xx answers are not retried:
 * they throw {@link RegistryRequestException} (or {@link UnknownSchemaIdException} for an unknown
 * id).
 *
 * <p>Thread-safe. Limits: Avro schemas only (no {@code schemaType}, no references), no contexts.
 */
public final class RegistryClient {
  private static final Logger log = LoggerFactory.getLogger(RegistryClient.class);
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final RegistryConfig config;
  private final HttpClient http;
  private final Optional<String> authorization;
  private final ConcurrentMap<Integer, Schema> schemasById = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Integer> idsBySubjectAndSchema = new ConcurrentHashMap<>();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong failedAttempts = new AtomicLong();
  private final AtomicLong unavailable = new AtomicLong();

  /** The answer of a compatibility check: whether the registry accepts the schema, and its reasons. */
  public record Compatibility(boolean compatible, List<String> messages) {}

  public RegistryClient(RegistryConfig config) {
    this.config = config;
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(config.requestTimeout()).followRedirects(HttpClient.Redirect.NORMAL);
    config.sslContext().ifPresent(b::sslContext);
    this.http = b.build();
    this.authorization = config.userInfo()
        .map(u -> "Basic " + Base64.getEncoder().encodeToString(u.getBytes(StandardCharsets.UTF_8)));
  }

  /** A client of the registry named in a client configuration map ({@link RegistryConfig#from}). */
  public static RegistryClient fromConfig(Map<String, ?> config) {
    return new RegistryClient(RegistryConfig.from(config));
  }

  public RegistryConfig config() {
    return config;
  }

  /**
   * Registers {@code schema} under {@code subject} (a no-op returning the existing id when it is
   * already registered there). Cached.
   *
   * @return the schema id
   * @throws RegistryRequestException e.g. 409 when the subject's compatibility level refuses it
   */
  public int register(String subject, Schema schema) {
    String key = subject + '\u0000' + schema.toString();
    Integer cached = idsBySubjectAndSchema.get(key);
    if (cached != null) {
      return cached;
    }
    JsonNode answer = send("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema));
    int id = requireInt(answer, "id", "register under " + subject);
    idsBySubjectAndSchema.put(key, id);
    schemasById.putIfAbsent(id, schema);
    return id;
  }

  /**
   * The id of {@code schema} if it is registered under {@code subject} (the registry compares
   * canonical forms), without registering it. Cached when found.
   */
  public OptionalInt lookup(String subject, Schema schema) {
    String key = subject + '\u0000' + schema.toString();
    Integer cached = idsBySubjectAndSchema.get(key);
    if (cached != null) {
      return OptionalInt.of(cached);
    }
    try {
      JsonNode answer = send("POST", "/subjects/" + encode(subject), schemaBody(schema));
      int id = requireInt(answer, "id", "look up in " + subject);
      idsBySubjectAndSchema.put(key, id);
      schemasById.putIfAbsent(id, schema);
      return OptionalInt.of(id);
    } catch (RegistryRequestException e) {
      if (e.isNotFound()) {
        return OptionalInt.empty();
      }
      throw e;
    }
  }

  /**
   * The schema registered with {@code id}. Cached.
   *
   * @throws UnknownSchemaIdException if the registry does not know the id
   */
  public Schema schemaById(int id) {
    Schema cached = schemasById.get(id);
    if (cached != null) {
      return cached;
    }
    JsonNode answer;
    try {
      answer = send("GET", "/schemas/ids/" + id, null);
    } catch (RegistryRequestException e) {
      if (e.isNotFound()) {
        throw new UnknownSchemaIdException(id, "unknown schema id " + id + " (registry " + config.urls() + " answered "
            + e.getMessage() + ")");
      }
      throw e;
    }
    JsonNode type = answer.get("schemaType");
    if (type != null && !type.isNull() && !type.asText().equals("AVRO")) {
      throw new RegistryRequestException(200, -1, "schema id " + id + " is a " + type.asText() + " schema, expected AVRO");
    }
    String text = answer.path("schema").asText(null);
    if (text == null) {
      throw new RegistryRequestException(200, -1, "registry answer for schema id " + id + " has no 'schema': " + answer);
    }
    Schema schema;
    try {
      schema = new Schema.Parser().parse(text);
    } catch (SchemaParseException e) {
      throw new RegistryRequestException(200, -1, "schema id " + id + " is not a valid Avro schema: " + e.getMessage());
    }
    Schema prev = schemasById.putIfAbsent(id, schema);
    return prev == null ? schema : prev;
  }

  /**
   * Asks the registry whether {@code schema} may be registered under {@code subject} at the
   * subject's compatibility level (against the latest version, or all versions for the transitive
   * levels). A subject with no version yet accepts anything.
   */
  public Compatibility testCompatibility(String subject, Schema schema) {
    try {
      JsonNode answer = send("POST", "/compatibility/subjects/" + encode(subject) + "/versions/latest?verbose=true", schemaBody(schema));
      List<String> messages = new ArrayList<>();
      answer.path("messages").forEach(m -> messages.add(m.asText()));
      JsonNode reason = answer.get("reason");
      if (reason != null && !reason.isNull()) {
        messages.add(reason.asText());
      }
      return new Compatibility(answer.path("is_compatible").asBoolean(false), List.copyOf(messages));
    } catch (RegistryRequestException e) {
      if (e.isNotFound()) {
        return new Compatibility(true, List.of("subject " + subject + " has no version yet"));
      }
      throw e;
    }
  }

  /**
   * Sets the compatibility level ({@code BACKWARD}, {@code FULL_TRANSITIVE}, ...) of {@code subject},
   * or the global level when {@code subject} is empty.
   *
   * @return the level the registry reports back
   */
  public String setCompatibility(Optional<String> subject, String level) {
    ObjectNode body = JSON.createObjectNode().put("compatibility", level);
    JsonNode answer = send("PUT", "/config" + subject.map(s -> "/" + encode(s)).orElse(""), body.toString());
    return answer.path("compatibility").asText(level);
  }

  /** The compatibility level of {@code subject}, or the global level when the subject has none. */
  public String compatibility(Optional<String> subject) {
    if (subject.isPresent()) {
      try {
        return level(send("GET", "/config/" + encode(subject.get()), null));
      } catch (RegistryRequestException e) {
        if (!e.isNotFound()) {
          throw e;
        }
      }
    }
    return level(send("GET", "/config", null));
  }

  private static String level(JsonNode answer) {
    return answer.has("compatibilityLevel") ? answer.get("compatibilityLevel").asText() : answer.path("compatibility").asText();
  }

  /** HTTP requests sent, every attempt counted. */
  public long requests() {
    return requests.get();
  }

  /** Attempts that got no usable answer (connection failure, timeout, 5xx). */
  public long failedAttempts() {
    return failedAttempts.get();
  }

  /** Calls that gave up with {@link RegistryUnavailableException}. */
  public long unavailableErrors() {
    return unavailable.get();
  }

  private static String schemaBody(Schema schema) {
    return JSON.createObjectNode().put("schema", schema.toString()).toString();
  }

  private static int requireInt(JsonNode answer, String field, String what) {
    JsonNode n = answer.get(field);
    if (n == null || !n.canConvertToInt()) {
      throw new RegistryRequestException(200, -1, "registry answer to " + what + " has no '" + field + "': " + answer);
    }
    return n.asInt();
  }

  private static String encode(String subject) {
    return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** One request with failover across the URLs and retries with backoff; 4xx are thrown at once. */
  private JsonNode send(String method, String path, String body) {
    long deadline = System.nanoTime() + config.retryMax().toNanos();
    Duration backoff = config.retryBackoff();
    String lastFailure = "";
    Exception lastCause = null;
    for (int round = 1; ; round++) {
      for (URI base : config.urls()) {
        URI uri = URI.create(base + path);
        HttpRequest.Builder rb = HttpRequest.newBuilder(uri).timeout(config.requestTimeout())
            .header("Accept", CONTENT_TYPE + ", application/json");
        authorization.ifPresent(a -> rb.header("Authorization", a));
        rb.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
          rb.header("Content-Type", CONTENT_TYPE);
        }
        requests.incrementAndGet();
        try {
          HttpResponse<String> res = http.send(rb.build(), HttpResponse.BodyHandlers.ofString());
          int status = res.statusCode();
          if (status >= 200 && status < 300) {
            return JSON.readTree(res.body().isEmpty() ? "{}" : res.body());
          }
          if (status >= 500 || status == 408 || status == 429) {
            lastFailure = method + " " + uri + " -> HTTP " + status + " " + abbreviate(res.body());
            lastCause = null;
          } else {
            throw requestError(method, uri, status, res.body());
          }
        } catch (javax.net.ssl.SSLHandshakeException e) {
          throw new RegistryRequestException(-1, -1, method + " " + uri + " -> TLS handshake failed (" + e.getMessage()
              + "): check " + RegistryConfig.TRUSTSTORE_LOCATION + " (a truststore with the registry's CA)");
        } catch (IOException e) {
          if (e.getCause() instanceof javax.net.ssl.SSLHandshakeException h) {
            throw new RegistryRequestException(-1, -1, method + " " + uri + " -> TLS handshake failed (" + h.getMessage()
                + "): check " + RegistryConfig.TRUSTSTORE_LOCATION + " (a truststore with the registry's CA)");
          }
          lastFailure = method + " " + uri + " -> " + e;
          lastCause = e;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new RegistryUnavailableException("interrupted while calling the schema registry: " + method + " " + uri, e);
        }
        failedAttempts.incrementAndGet();
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        unavailable.incrementAndGet();
        throw new RegistryUnavailableException("schema registry unreachable after " + round + " rounds over " + config.urls()
            + " (" + RegistryConfig.RETRY_MAX_MS + "=" + config.retryMax().toMillis() + "): last " + lastFailure, lastCause);
      }
      log.warn("schema registry unreachable ({}), retrying in {} ms", lastFailure, backoff.toMillis());
      try {
        Thread.sleep(Math.min(backoff.toMillis(), Math.max(1, left / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RegistryUnavailableException("interrupted while waiting to retry the schema registry: " + lastFailure, e);
      }
      backoff = backoff.multipliedBy(2).compareTo(config.retryBackoffMax()) > 0 ? config.retryBackoffMax() : backoff.multipliedBy(2);
    }
  }

  private static RegistryRequestException requestError(String method, URI uri, int status, String body) {
    int code = -1;
    String message = abbreviate(body);
    try {
      JsonNode n = JSON.readTree(body);
      code = n.path("error_code").asInt(-1);
      if (n.hasNonNull("message")) {
        message = n.get("message").asText();
      }
    } catch (IOException | RuntimeException ignored) {
      // not JSON: keep the raw body
    }
    String hint = status == 401 || status == 403
        ? " (check " + RegistryConfig.CREDENTIALS_SOURCE + " and " + RegistryConfig.USER_INFO + ")"
        : "";
    return new RegistryRequestException(status, code,
        method + " " + uri + " -> HTTP " + status + (code >= 0 ? " error_code " + code : "") + ": " + message + hint);
  }

  private static String abbreviate(String s) {
    return s == null ? "" : s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }
}
