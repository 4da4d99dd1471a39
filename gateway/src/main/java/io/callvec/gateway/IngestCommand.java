package io.callvec.gateway;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.ChunkProducerProperties;
import io.callvec.schemas.serde.CallvecSerdes;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code callvec ingest}: the ingestion gateway ({@link IngestGateway}) as a command. */
@Command(
    name = "ingest",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Serve Twilio Media Streams (ws[s]://HOST:PORT/twilio) and Genesys Cloud AudioHook (ws[s]://HOST:PORT/audiohook)"
          + " and publish the call audio as AudioChunk records keyed by call id (Twilio callSid, AudioHook conversationId),"
          + " one stream per track/channel, end-of-stream on stop/close. Idempotent producer, acks=all; a connection whose"
          + " records Kafka has not acknowledged (--max-buffered-chunks) stops being read until Kafka catches up."
          + " Runs until SIGTERM/SIGINT, then closes connections and waits for Kafka (--shutdown-timeout-s).",
      "A protocol is served only when its credentials are given (or its explicit insecure flag); unauthenticated upgrades"
          + " are refused with 401/403 before any audio is read."
    },
    footer = {
      "",
      "Twilio (TwiML of the call; the gateway checks X-Twilio-Signature over exactly this URL with the auth token):",
      "  <Response><Start><Stream url=\"wss://gw.example.com/twilio\" track=\"both_tracks\">",
      "    <Parameter name=\"campaign\" value=\"spring\"/></Stream></Start><Dial>...</Dial></Response>",
      "  callvec ingest --bootstrap-servers kafka:9092 --twilio-auth-token-file /run/secrets/twilio-token \\",
      "      --twilio-public-url wss://gw.example.com --tls-keystore gw.p12 --tls-keystore-password-file gw.pass",
      "",
      "Genesys Cloud AudioHook (Admin > Integrations > AudioHook Monitor):",
      "  Connection URI: wss://gw.example.com/audiohook   API Key: <key>   Client Secret: <base64 secret>",
      "  callvec ingest --bootstrap-servers kafka:9092 --audiohook-api-key-file key.txt \\",
      "      --audiohook-client-secret-file secret.txt --tls-keystore gw.p12 --tls-keystore-password-file gw.pass",
      "",
      "Records: channel 0 'inbound' / 1 'outbound' (Twilio), 0 'external' / 1 'internal' (AudioHook); 8 kHz mu-law"
          + " (AudioHook L16: PCM_S16LE). Metrics: http://HOST:HTTP-PORT/metrics (callvec_gateway_*)."
    })
public final class IngestCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(IngestCommand.class);
  /** Environment variable whose value becomes the producer's sasl.jaas.config (as for callvec run). */
  static final String SASL_JAAS_ENV = "CALLVEC_SASL_JAAS_CONFIG";

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT", description = "Kafka brokers (required unless --producer-config sets bootstrap.servers).")
  String bootstrapServers;

  @Option(names = "--producer-config", paramLabel = "FILE",
      description = "Producer properties (security, compression, ...); they win over the defaults acks=all, enable.idempotence=true, linger.ms=5,"
          + " max.block.ms=10000. Env CALLVEC_SASL_JAAS_CONFIG sets sasl.jaas.config.")
  Path producerConfig;

  @Option(names = "--topic", paramLabel = "TOPIC", defaultValue = "callvec.audio-chunks", description = "Topic of the AudioChunk records (default: ${DEFAULT-VALUE}).")
  String topic;

  @Option(names = "--host", paramLabel = "ADDR", defaultValue = "0.0.0.0", description = "Interface to bind (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "8443", description = "WebSocket port (default: ${DEFAULT-VALUE}; 0 = any free port).")
  int port;

  @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "9464",
      description = "Port of /metrics, /health/live, /health/ready (default: ${DEFAULT-VALUE}; -1 = off).")
  int httpPort;

  @Option(names = "--chunk-ms", paramLabel = "MS", defaultValue = "20",
      description = "Record length, ms of audio, a multiple of 20 in [20, 1000] (default: ${DEFAULT-VALUE} = pass Twilio's 20 ms frames"
          + " through; 100 = five frames per record, about a fifth of the records).")
  int chunkMs;

  @Option(names = "--max-connections", paramLabel = "N", defaultValue = "1000",
      description = "Open connections at most; more get HTTP 503 (default: ${DEFAULT-VALUE}).")
  int maxConnections;

  @Option(names = "--max-message-bytes", paramLabel = "BYTES", defaultValue = "65536",
      description = "Largest WebSocket message; a larger one closes the connection with 1009 (default: ${DEFAULT-VALUE}).")
  int maxMessageBytes;

  @Option(names = "--idle-timeout-s", paramLabel = "S", defaultValue = "30",
      description = "Close a connection silent for this long (default: ${DEFAULT-VALUE}).")
  int idleTimeoutS;

  @Option(names = "--max-buffered-chunks", paramLabel = "N", defaultValue = "250",
      description = "Records per connection not yet acknowledged by Kafka before the connection stops being read (default: ${DEFAULT-VALUE},"
          + " 2.5 s of 20 ms stereo audio).")
  int maxBufferedChunks;

  @Option(names = "--shutdown-timeout-s", paramLabel = "S", defaultValue = "10",
      description = "On SIGTERM, how long to wait for Kafka to acknowledge buffered records (default: ${DEFAULT-VALUE}).")
  int shutdownTimeoutS;

  @Option(names = "--twilio-auth-token-file", paramLabel = "FILE",
      description = "File holding the Twilio auth token (or env CALLVEC_TWILIO_AUTH_TOKEN); enables /twilio with signature checks.")
  Path twilioTokenFile;

  @Option(names = "--twilio-public-url", paramLabel = "URL",
      description = "scheme://host[:port] of the <Stream url> Twilio connects to, when a proxy or load balancer changes it"
          + " (default: ws[s]:// + the request's Host header).")
  String twilioPublicUrl;

  @Option(names = "--twilio-insecure-no-signature", description = "Serve /twilio WITHOUT checking X-Twilio-Signature (tests only).")
  boolean twilioInsecure;

  @Option(names = "--audiohook-api-key-file", paramLabel = "FILE",
      description = "File holding the AudioHook API key (or env CALLVEC_AUDIOHOOK_API_KEY); enables /audiohook with X-API-KEY checks.")
  Path audioHookKeyFile;

  @Option(names = "--audiohook-client-secret-file", paramLabel = "FILE",
      description = "File holding the AudioHook client secret, Base64 (or env CALLVEC_AUDIOHOOK_CLIENT_SECRET): the request signature"
          + " (HTTP message signature, hmac-sha256) is then required too.")
  Path audioHookSecretFile;

  @Option(names = "--audiohook-insecure-no-auth", description = "Serve /audiohook WITHOUT authentication (tests only).")
  boolean audioHookInsecure;

  @Option(names = "--tls-keystore", paramLabel = "FILE", description = "PKCS#12 key store with the server key and certificate: serve wss://.")
  Path tlsKeyStore;

  @Option(names = "--tls-keystore-password-file", paramLabel = "FILE", description = "File holding the key store password.")
  Path tlsPasswordFile;

  private final CountDownLatch stop = new CountDownLatch(1);

  @Override
  public Integer call() throws Exception {
    GatewaySettings settings = settings();
    Properties props = producerProperties();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (KafkaProducer<String, AudioChunk> producer = new KafkaProducer<>(props, new StringSerializer(), CallvecSerdes.audioChunk().serializer())) {
      try {
        producer.partitionsFor(topic);
      } catch (KafkaException e) {
        log.error("topic {} at {}: {}", topic, props.getProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG), e.toString());
        spec.commandLine().getErr().println("callvec ingest: cannot reach topic " + topic + ": " + e.getMessage());
        return 1;
      }
      IngestGateway gateway = IngestGateway.start(settings, producer, registry);
      Thread hook = new Thread(() -> {
        long lost = gateway.shutdown();
        producer.close(Duration.ofSeconds(2));
        log.info("ingest stopped{}", lost == 0 ? "" : ", " + lost + " record(s) not acknowledged");
        stop.countDown();
      }, "callvec-ingest-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      spec.commandLine().getOut().printf("callvec ingest: listening on port %d, HTTP endpoint on port %d%n", gateway.port(), gateway.httpPort());
      spec.commandLine().getOut().flush();
      stop.await();
      return 0;
    } finally {
      registry.close();
    }
  }

  GatewaySettings settings() {
    String token = secret(twilioTokenFile, "CALLVEC_TWILIO_AUTH_TOKEN", "--twilio-auth-token-file");
    String key = secret(audioHookKeyFile, "CALLVEC_AUDIOHOOK_API_KEY", "--audiohook-api-key-file");
    String secret = secret(audioHookSecretFile, "CALLVEC_AUDIOHOOK_CLIENT_SECRET", "--audiohook-client-secret-file");
    if (secret != null && key == null) {
      throw usage("an AudioHook client secret needs the API key too (--audiohook-api-key-file)");
    }
    if (token != null && twilioInsecure) {
      throw usage("--twilio-insecure-no-signature and a Twilio auth token exclude each other");
    }
    if (key != null && audioHookInsecure) {
      throw usage("--audiohook-insecure-no-auth and an AudioHook API key exclude each other");
    }
    if ((tlsKeyStore == null) != (tlsPasswordFile == null)) {
      throw usage("--tls-keystore and --tls-keystore-password-file go together");
    }
    try {
      return new GatewaySettings(host, port, httpPort, topic, chunkMs, maxConnections, maxMessageBytes, Duration.ofSeconds(idleTimeoutS),
          maxBufferedChunks, Duration.ofSeconds(shutdownTimeoutS),
          token != null || twilioInsecure ? new GatewaySettings.TwilioAuth(token, twilioPublicUrl, twilioInsecure) : null,
          key != null || audioHookInsecure ? new GatewaySettings.AudioHookAuth(key, secret, audioHookInsecure) : null,
          tlsKeyStore == null ? null : new GatewaySettings.Tls(tlsKeyStore, readTrimmed(tlsPasswordFile, "--tls-keystore-password-file")));
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage() + " (give --twilio-auth-token-file and/or --audiohook-api-key-file)");
    }
  }

  private String secret(Path file, String env, String option) {
    if (file != null) {
      return readTrimmed(file, option);
    }
    String v = System.getenv(env);
    return v == null || v.isBlank() ? null : v.trim();
  }

  private String readTrimmed(Path file, String option) {
    try {
      String v = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (v.isEmpty()) {
        throw usage(option + " " + file + " is empty");
      }
      return v;
    } catch (IOException e) {
      throw usage(option + " " + file + ": cannot read it: " + e.getMessage());
    }
  }

  /** Defaults (and max.block.ms 10 s), then the file, then the JAAS secret from the environment, then --bootstrap-servers. */
  private Properties producerProperties() {
    Properties p;
    try {
      p = ChunkProducerProperties.layered("callvec-ingest", Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000"), producerConfig, bootstrapServers);
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    if (ChunkProducerProperties.idempotenceDisabled(p)) {
      log.warn("{} disables the idempotent producer: a retried send may write a chunk twice", producerConfig);
    }
    String jaas = System.getenv(SASL_JAAS_ENV);
    if (jaas != null && !jaas.isBlank()) {
      p.put("sasl.jaas.config", jaas); // as callvec run does: the secret never sits in a config file
    }
    return p;
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }
}
