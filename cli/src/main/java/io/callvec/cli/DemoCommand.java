package io.callvec.cli;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.app.Settings;
import io.callvec.player.CallPlayer;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import io.callvec.schemas.registry.RegistryConfig;
import io.callvec.schemas.serde.SerdeFormat;
import io.callvec.schemas.serde.TopicSerdes;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import io.micrometer.core.instrument.DistributionSummary;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code callvec demo}: the whole pipeline on one machine. Starts a real single-node KRaft broker
 * in this JVM, creates the topics, runs the app with the bundled fixture model (unless told
 * otherwise), plays synthetic two-channel calls (or WAV files) as 20 ms μ-law chunks, prints progress
 * and a summary, and stops.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Runs callvec end to end on this machine: an in-JVM Kafka broker, the app, and a player of synthetic calls or WAV files.",
      "The bundled fixture model has random weights: its embeddings are NOT meaningful. Export a real model with",
      "model/tools/export.py and pass --set callvec.model.path=FILE.onnx."
    })
public final class DemoCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(DemoCommand.class);

  @Spec CommandSpec spec;

  @Mixin ConfigOptions config;

  @Option(names = "--calls", defaultValue = "4", description = "Synthetic two-channel calls played at once (default ${DEFAULT-VALUE}).")
  int calls;

  @Option(names = "--duration-s", defaultValue = "12", description = "Length of each synthetic call, seconds (default ${DEFAULT-VALUE}).")
  int durationS;

  @Option(names = "--speed", defaultValue = "1.0", description = "Playback speed: 1 = real time (default), 10 = ten times faster, 0 = as fast as possible.")
  double speed;

  @Option(names = "--shuffle", defaultValue = "5", description = "Shuffle each stream's chunks within groups of this many (1 = in order; default ${DEFAULT-VALUE}).")
  int shuffle;

  @Option(names = "--wav", paramLabel = "FILE", description = "Play these WAV files instead of synthetic calls (one stream each; stereo files give two channels).")
  List<Path> wavs = new ArrayList<>();

  @Option(names = "--partitions", defaultValue = "4", description = "Partitions of the input topic (default ${DEFAULT-VALUE}).")
  int partitions;

  @Option(names = "--timeout-s", defaultValue = "300", description = "Give up after this many seconds (default ${DEFAULT-VALUE}).")
  int timeoutS;

  @Option(names = "--serde", defaultValue = "single-object", paramLabel = "FORMAT",
      description = "Wire format: single-object (default, no registry) or confluent (also starts a local Apicurio Schema Registry).")
  String serde;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (!DemoBroker.available()) {
      spec.commandLine().getErr().println("callvec demo: the in-JVM broker (" + DemoBroker.BROKER_CLASS + ") is not on the class path."
          + " It ships in lib-demo/ of a build, not in the production image: run ./callvec demo from a checkout,"
          + " or point `callvec run` at a Kafka cluster.");
      return 1;
    }
    Path work = Files.createTempDirectory("callvec-demo-");
    List<Recording> streams = wavs.isEmpty()
        ? CallPlayer.syntheticCalls("demo-call", calls, durationS * 1000L, 42)
        : wavStreams(wavs);
    long audioMs = streams.stream().mapToLong(Recording::durationMs).sum();
    out.printf("callvec demo: %d streams, %.1f s of audio, speed %s%n", streams.size(), audioMs / 1000.0, speed == 0 ? "max" : speed + "x");
    out.flush();

    boolean confluent = SerdeFormat.parse(serde) == SerdeFormat.CONFLUENT;
    try (DemoBroker kafka = DemoBroker.start(work.resolve("kafka"), confluent)) {
      String registryUrl = kafka.schemaRegistryUrl();
      out.println("broker: " + kafka.bootstrapServers() + " (in-JVM KRaft, data in " + work + ")");
      Map<String, String> forced = new HashMap<>();
      if (registryUrl != null) {
        out.println("schema registry: " + registryUrl + " (" + DemoBroker.REGISTRY_NAME + ", Confluent wire format)");
        forced.put(Settings.SERDE.key(), SerdeFormat.CONFLUENT.spelling());
        forced.put(RegistryConfig.URL, registryUrl);
      }
      forced.put("bootstrap.servers", kafka.bootstrapServers());
      forced.put("application.id", "callvec-demo");
      forced.put("state.dir", work.resolve("state").toString());
      forced.put(Settings.HTTP_PORT.key(), "0");
      forced.put(Settings.IDLE_TIMEOUT_MS.key(), "10000");
      CallvecConfig cfg = config.build(System.getenv(), forced);
      TopicSerdes serdes = TopicSerdes.fromConfig(cfg.asMap());
      kafka.createTopics(partitions, cfg.get(Settings.INPUT_TOPIC));
      kafka.createTopics(partitions, cfg.get(Settings.SEGMENTS_TOPIC), cfg.get(Settings.CALLS_TOPIC), cfg.get(Settings.DLQ_TOPIC));

      try (CallvecApp app = CallvecApp.start(cfg)) {
        out.printf("app: model %s (dim %d, %s), metrics on http://localhost:%d/metrics%n",
            app.model().info().modelId(), app.model().info().dimension(), app.model().info().provider(), app.httpPort());
        out.flush();
        long waitUntil = System.nanoTime() + 120_000_000_000L;
        while (app.streams().state() != org.apache.kafka.streams.KafkaStreams.State.RUNNING) {
          if (app.failure() != null || System.nanoTime() > waitUntil) {
            out.println("the app did not reach RUNNING: state " + app.streams().state() + (app.failure() == null ? "" : ", " + app.failure()));
            return 1;
          }
          Thread.sleep(50);
        }
        AtomicLong sent = new AtomicLong();
        AtomicReference<Throwable> playerError = new AtomicReference<>();
        Thread player = new Thread(() -> {
          try (KafkaProducer<String, AudioChunk> producer = producer(kafka.bootstrapServers(), serdes)) {
            CallPlayer.play(producer, cfg.get(Settings.INPUT_TOPIC), streams,
                Chunker.Options.realTime().withSpeed(speed).withShuffle(shuffle, 0.01, 7), p -> sent.set(p.records()));
          } catch (Throwable e) {
            playerError.set(e);
          }
        }, "demo-player");
        player.setDaemon(true);
        player.start();
        return consume(out, kafka.bootstrapServers(), cfg, serdes, app, streams.size(), sent, player, playerError);
      }
    } finally {
      deleteQuietly(work);
    }
  }

  private int consume(PrintWriter out, String bootstrap, CallvecConfig cfg, TopicSerdes serdes, CallvecApp app, int expectedCalls, AtomicLong sent,
      Thread player, AtomicReference<Throwable> playerError) throws InterruptedException {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "callvec-demo-reader");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<Double> latencies = new ArrayList<>();
    Map<String, CallEmbedding> callVectors = new HashMap<>();
    SegmentEmbedding firstSegment = null;
    long segments = 0;
    long skipped = 0;
    long startNs = System.nanoTime();
    long lastPrintNs = 0;
    long lastSegments = 0;
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(cfg.get(Settings.SEGMENTS_TOPIC), cfg.get(Settings.CALLS_TOPIC)));
      var segDe = serdes.segmentEmbedding().deserializer();
      var callDe = serdes.callEmbedding().deserializer();
      out.printf("%7s %9s %10s %9s %11s %10s %12s %12s%n", "time_s", "chunks", "segments", "seg/s", "calls_done", "batch_fill", "lat_p50_ms", "lat_p95_ms");
      while (callVectors.size() < expectedCalls) {
        if (app.failure() != null) {
          out.println("the app failed: " + app.failure());
          return 1;
        }
        if (playerError.get() != null) {
          out.println("the player failed: " + playerError.get());
          return 1;
        }
        if (System.nanoTime() - startNs > timeoutS * 1_000_000_000L) {
          out.printf("timed out after %d s with %d of %d call embeddings%n", timeoutS, callVectors.size(), expectedCalls);
          return 1;
        }
        long pollNow = System.currentTimeMillis();
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.topic().equals(cfg.get(Settings.SEGMENTS_TOPIC))) {
            SegmentEmbedding s = segDe.deserialize(r.topic(), r.value());
            segments++;
            if (s.getSkipped() != null) {
              skipped++;
              continue;
            }
            latencies.add((double) (pollNow - s.getLastChunkTimestampMs()));
            if (firstSegment == null) {
              firstSegment = s;
            }
          } else {
            CallEmbedding c = callDe.deserialize(r.topic(), r.value());
            callVectors.put(r.key(), c);
          }
        }
        long now = System.nanoTime();
        if (now - lastPrintNs > 1_000_000_000L) {
          double secs = (now - startNs) / 1e9;
          double rate = lastPrintNs == 0 ? 0 : (segments - lastSegments) / ((now - lastPrintNs) / 1e9);
          out.printf("%7.1f %9d %10d %9.1f %6d/%-4d %10s %12s %12s%n", secs, sent.get(), segments, rate, callVectors.size(), expectedCalls,
              fill(app), pct(latencies, 0.5), pct(latencies, 0.95));
          out.flush();
          lastPrintNs = now;
          lastSegments = segments;
        }
      }
    }
    player.join(5000);
    double secs = (System.nanoTime() - startNs) / 1e9;
    out.println();
    out.println("summary");
    out.printf("  streams (call x channel) ended : %d%n", callVectors.size());
    out.printf("  segment embeddings            : %d%n", segments - skipped);
    out.printf(Locale.ROOT, "  windows skipped / windows     : %s%n", skippedLine(app, skipped, segments));
    out.printf("  dead letters                  : %.0f (duplicates injected by the player: %.0f)%n",
        app.metrics().total("callvec.dead.letters"), app.registry().find("callvec.dead.letters").tag("reason", "DUPLICATE").counters().stream().mapToDouble(c -> c.count()).sum());
    out.printf("  wall time                     : %.1f s%n", secs);
    out.printf("  throughput                    : %.1f segments/s%n", segments / secs);
    out.printf("  latency (last chunk produced -> segment visible, read_committed): p50 %s ms, p95 %s ms, p99 %s ms, max %s ms%n",
        pct(latencies, 0.5), pct(latencies, 0.95), pct(latencies, 0.99), pct(latencies, 1.0));
    out.printf("  mean batch fill               : %s%n", fill(app));
    if (firstSegment != null) {
      float[] v = Vectors.fromBytes(firstSegment.getVector(), firstSegment.getDimension());
      out.printf("  first segment: call %s channel %s [%d ms, %d ms) dim %d vector[0..4] = %s%n", firstSegment.getCallId(),
          firstSegment.getChannel().getName(), firstSegment.getStartMs(), firstSegment.getEndMs(), v.length,
          Arrays.toString(Arrays.copyOf(v, Math.min(4, v.length))));
    }
    out.println("  (fixture model: the vectors are not meaningful; see README.md, section Models)");
    out.printf(Locale.ROOT, "RESULT scenario=demo streams=%d segments=%d seconds=%.1f seg_per_s=%.2f latency_p50_ms=%s latency_p95_ms=%s batch_fill=%s"
        + " windows=%d windows_skipped=%d model_s_per_window=%s vad_s=%.3f%n",
        callVectors.size(), segments - skipped, secs, (segments - skipped) / secs, pct(latencies, 0.5), pct(latencies, 0.95), fill(app),
        segments, skipped, modelSecondsPerWindow(app) < 0 ? "-" : String.format(Locale.ROOT, "%.4f", modelSecondsPerWindow(app)),
        app.metrics().vadSeconds());
    out.flush();
    return 0;
  }

  /**
   * Mean model time per embedded window, seconds: the batcher's inference time over the windows it
   * embedded (-1 before any). A batch's time is shared by its windows.
   */
  private static double modelSecondsPerWindow(CallvecApp app) {
    io.micrometer.core.instrument.Timer t = app.registry().find(io.callvec.model.batch.BatcherMetricNames.INFERENCE).timer();
    double windows = app.registry().find(io.callvec.model.batch.BatcherMetricNames.WINDOWS).counters().stream().mapToDouble(c -> c.count()).sum();
    return t == null || windows == 0 ? -1 : t.totalTime(java.util.concurrent.TimeUnit.SECONDS) / windows;
  }

  /** "3 / 10 (30 %), model time saved ≈ 1.2 s (3 × 0.4 s per window), VAD 0.05 s" or "VAD off". */
  private static String skippedLine(CallvecApp app, long skipped, long windows) {
    double vadS = app.metrics().vadSeconds();
    if (app.metrics().total("callvec.vad.frames") == 0) {
      return "0 / " + windows + " (VAD off: callvec.vad.enabled=false)";
    }
    double perWindow = modelSecondsPerWindow(app);
    String saved = perWindow < 0 ? "model time saved: - (no window embedded)"
        : String.format(Locale.ROOT, "model time saved ≈ %.2f s (%d × %.4f s per window)", skipped * perWindow, skipped, perWindow);
    return String.format(Locale.ROOT, "%d / %d (%.0f %%), %s; VAD %.3f s", skipped, windows, windows == 0 ? 0 : 100.0 * skipped / windows, saved, vadS);
  }

  private static String fill(CallvecApp app) {
    DistributionSummary s = app.registry().find(io.callvec.model.batch.BatcherMetricNames.BATCH_FILL).summary();
    return s == null || s.count() == 0 ? "-" : String.format(Locale.ROOT, "%.2f", s.mean());
  }

  private static String pct(List<Double> values, double q) {
    if (values.isEmpty()) {
      return "-";
    }
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int i = (int) Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1));
    return String.format(Locale.ROOT, "%.0f", v[i]);
  }

  static KafkaProducer<String, AudioChunk> producer(String bootstrap, TopicSerdes serdes) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    return new KafkaProducer<>(p, new StringSerializer(), serdes.audioChunk(false).serializer());
  }

  static List<Recording> wavStreams(List<Path> files) throws java.io.IOException {
    List<Recording> out = new ArrayList<>();
    for (Path f : files) {
      out.addAll(CallPlayer.wavStreams(f, "wav-" + f.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_")));
    }
    return out;
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
    } catch (java.io.IOException e) {
      log.warn("could not delete {}: {}", dir, e.toString());
    }
  }
}
