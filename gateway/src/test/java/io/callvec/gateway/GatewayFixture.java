package io.callvec.gateway;

import static org.junit.jupiter.api.Assertions.fail;

import io.callvec.audio.Encoding;
import io.callvec.audio.G711;
import io.callvec.audio.WavFile;
import io.callvec.broker.LocalKafkaCluster;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.serde.CallvecSerdes;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;

/** A real broker, a gateway on it, real WebSocket clients (the JDK's), and readers of the topic. */
final class GatewayFixture implements AutoCloseable {
  static final List<Path> SOUND_DIRS = List.of(Path.of("/usr/share/asterisk/sounds/en_US_f_Allison"), Path.of("/usr/share/asterisk/sounds/en"));

  /** The gateway producer's client id (its I/O thread is named after it). */
  static final String PRODUCER_CLIENT_ID = "callvec-gateway-test";
  final LocalKafkaCluster kafka;
  final String topic;
  final KafkaProducer<String, AudioChunk> producer;
  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final IngestGateway gateway;
  final HttpClient http = HttpClient.newHttpClient();

  GatewayFixture(LocalKafkaCluster kafka, String topic, GatewaySettings settings) throws Exception {
    this.kafka = kafka;
    this.topic = topic;
    Map<String, Object> cfg = new HashMap<>(kafka.clientConfig());
    cfg.put(ProducerConfig.ACKS_CONFIG, "all");
    cfg.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    cfg.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    cfg.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
    cfg.put(ProducerConfig.CLIENT_ID_CONFIG, PRODUCER_CLIENT_ID);
    this.producer = new KafkaProducer<>(cfg, new StringSerializer(), CallvecSerdes.audioChunk().serializer());
    IngestGateway g;
    try {
      g = IngestGateway.start(settings, producer, registry);
    } catch (Exception e) {
      producer.close();
      throw e;
    }
    this.gateway = g;
  }

  URI uri(String path) {
    return URI.create("ws://127.0.0.1:" + gateway.port() + path);
  }

  /** A client connection recording what the server sends and how it closes. */
  static final class Client implements WebSocket.Listener {
    final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    volatile String closeReason;
    WebSocket ws;
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletableFuture<?> onText(WebSocket w, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        texts.add(partial.toString());
        partial.setLength(0);
      }
      w.request(1);
      return null;
    }

    @Override
    public CompletableFuture<?> onClose(WebSocket w, int statusCode, String reason) {
      closeReason = reason;
      closeCode.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket w, Throwable error) {
      closeCode.completeExceptionally(error);
    }

    void text(String s) {
      ws.sendText(s, true).join();
    }

    void binary(byte[] b) {
      ws.sendBinary(ByteBuffer.wrap(b), true).join();
    }

    /** The next server text message whose JSON contains {@code needle}, waiting up to 10 s. */
    String awaitText(String needle) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (System.nanoTime() < deadline) {
        String t = texts.poll(100, TimeUnit.MILLISECONDS);
        if (t != null && t.contains(needle)) {
          return t;
        }
      }
      fail("no server message containing " + needle);
      return null;
    }

    int awaitClose() {
      return closeCode.orTimeout(15, TimeUnit.SECONDS).join();
    }
  }

  Client connect(String path, Map<String, String> headers) {
    Client c = new Client();
    WebSocket.Builder b = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
    headers.forEach(b::header);
    c.ws = b.buildAsync(uri(path), c).join();
    return c;
  }

  /** Records of {@code topic} matching {@code filter}, polled until {@code done} holds for them or 30 s. */
  List<ConsumerRecord<String, AudioChunk>> read(Predicate<ConsumerRecord<String, AudioChunk>> filter,
      Predicate<List<ConsumerRecord<String, AudioChunk>>> done) {
    Map<String, Object> cfg = new HashMap<>(kafka.clientConfig());
    cfg.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cfg.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<ConsumerRecord<String, AudioChunk>> out = new ArrayList<>();
    try (KafkaConsumer<String, AudioChunk> consumer = new KafkaConsumer<>(cfg, new StringDeserializer(), CallvecSerdes.audioChunk().deserializer())) {
      List<TopicPartition> parts = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!done.test(out) && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, AudioChunk> r : consumer.poll(Duration.ofMillis(200))) {
          if (filter.test(r)) {
            out.add(r);
          }
        }
      }
    }
    return out;
  }

  /** Records of call {@code callId} until {@code ends} end-of-stream records were read. */
  List<ConsumerRecord<String, AudioChunk>> readCall(String callId, int ends) {
    return read(r -> r.key().equals(callId), l -> l.stream().filter(r -> r.value().getEndOfStream()).count() >= ends);
  }

  double counter(String name, String... tags) {
    var c = registry.find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  /** μ-law bytes of a real 8 kHz telephone prompt (asterisk-core-sounds-en-wav), encoded with the project's G711. */
  static byte[] prompt(String name) throws IOException {
    for (Path dir : SOUND_DIRS) {
      Path f = dir.resolve(name + ".wav");
      if (Files.isRegularFile(f)) {
        WavFile a = WavFile.read(f);
        if (a.sampleRateHz() != 8000 || a.encoding() != Encoding.PCM_S16LE) {
          throw new IllegalStateException(f + " is " + a.encoding() + " at " + a.sampleRateHz() + " Hz, expected 16-bit PCM at 8000 Hz");
        }
        ByteBuffer pcm = ByteBuffer.wrap(a.channelData(0)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] out = new byte[pcm.remaining() / 2];
        for (int i = 0; i < out.length; i++) {
          out[i] = (byte) G711.pcm16ToMulaw(pcm.getShort());
        }
        return out;
      }
    }
    String msg = "no " + name + ".wav in " + SOUND_DIRS + ": apt-get install asterisk-core-sounds-en-wav";
    if (System.getenv("CI") != null) {
      fail(msg);
    }
    Assumptions.abort(msg);
    return null;
  }

  static List<String> promptNames() throws IOException {
    for (Path dir : SOUND_DIRS) {
      if (Files.isDirectory(dir)) {
        try (Stream<Path> s = Files.list(dir)) {
          return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".wav")).map(n -> n.substring(0, n.length() - 4)).sorted().toList();
        }
      }
    }
    return List.of();
  }

  @Override
  public void close() {
    try {
      gateway.shutdown();
    } finally {
      producer.close(Duration.ofSeconds(5));
      registry.close();
    }
  }
}
