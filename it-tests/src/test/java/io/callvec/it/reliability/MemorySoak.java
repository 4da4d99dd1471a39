package io.callvec.it.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.audio.Encoding;
import io.callvec.audio.G711;
import io.callvec.broker.LocalKafkaCluster;
import io.callvec.it.support.AppInstance;
import io.callvec.it.support.AppTopics;
import io.callvec.it.support.Knobs;
import io.callvec.it.support.ScenarioSettings;
import io.callvec.it.support.WorkDirs;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.Channel;
import io.callvec.schemas.serde.CallvecSerdes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The memory soak: a command, not a CI test (the class name does not match Surefire's test
 * patterns; {@code it-tests/run-soak.sh memory} runs it). One app instance (a separate JVM, fixed
 * heap) serves a rolling population of two-channel calls in real time for {@code minutes}: each
 * call lasts a random 10–40 s of audio and ends with end-of-stream, and a new one starts in its
 * place, so state is written, read, windowed, embedded and deleted the whole time. Every {@code
 * sampleS} seconds it records the instance's RSS, heap after a full GC, threads, open file
 * descriptors and progress, and prints them as a table.
 *
 * <p>Verdict: after a warm-up (the first third of the run), the least-squares slope of RSS and of
 * heap-after-GC must stay under {@code maxRssSlopeMibPerHour} / {@code maxHeapSlopeMibPerHour}, the
 * thread count must not grow, and every finished call × channel must have exactly one call
 * embedding in the committed output.
 *
 * <p>Knobs ({@code -Dcallvec.soak.KEY=VALUE}): {@code minutes} (30), {@code calls} (20 concurrent
 * calls, i.e. 40 streams, 2,000 chunks/s), {@code sampleS} (30), {@code heapMb} (256), {@code
 * maxRssSlopeMibPerHour} (64), {@code maxHeapSlopeMibPerHour} (16).
 */
class MemorySoak {
  private static final Logger log = LoggerFactory.getLogger(MemorySoak.class);
  private static final int CHUNK_MS = 20;
  private static final int MIN_FINAL_WINDOW_MS = 1000;

  private final Path work = WorkDirs.create("MemorySoak");

  record Sample(double minutes, long rssBytes, long heapAfterGcBytes, int threads, int fds, double openStreams, double accepted,
                double segments, double calls, long sent) {}

  @Test
  void rssAndHeapStayFlatUnderARollingCallLoad() throws Exception {
    double minutes = Knobs.doubleKnob("minutes", 30);
    int concurrent = Knobs.intKnob("calls", 20);
    int sampleS = Knobs.intKnob("sampleS", 30);
    int heapMb = Knobs.intKnob("heapMb", 256);
    double maxRssSlope = Knobs.doubleKnob("maxRssSlopeMibPerHour", 64);
    double maxHeapSlope = Knobs.doubleKnob("maxHeapSlopeMibPerHour", 16);

    try (LocalKafkaCluster kafka = LocalKafkaCluster.builder().dataDir(work.resolve("kafka"))
        .brokerProperty("log.retention.bytes", Long.toString(256L << 20))
        .brokerProperty("log.segment.bytes", Long.toString(64L << 20)).build()) {
      String prefix = "soak-" + UUID.randomUUID().toString().substring(0, 8);
      AppTopics topics = AppTopics.of(prefix);
      kafka.createTopics(ScenarioSettings.topics(topics, 3, (short) 1));
      Map<String, String> cfg = new HashMap<>(ScenarioSettings.app(kafka.bootstrapServers(), prefix + "-app", topics));
      cfg.put("state.dir", work.resolve("state").toString());
      cfg.put("callvec.window.ms", "5000");
      cfg.put("callvec.hop.ms", "5000");
      cfg.put("callvec.min.final.window.ms", Integer.toString(MIN_FINAL_WINDOW_MS));

      List<Sample> samples = new ArrayList<>();
      try (AppInstance app = AppInstance.start("soak", work.resolve("soak.log"), heapMb, cfg)) {
        app.awaitReady(Duration.ofSeconds(90));
        RollingFeeder feeder = new RollingFeeder(kafka.clientConfig(), topics.input(), prefix, concurrent);
        Thread feed = new Thread(feeder, "soak-feeder");
        feed.setDaemon(true);
        long t0 = System.nanoTime();
        long end = t0 + (long) (minutes * 60e9);
        feed.start();
        long nextSample = t0;
        while (System.nanoTime() < end) {
          app.assertAlive();
          feeder.assertHealthy();
          if (System.nanoTime() >= nextSample) {
            Sample s = sample(app, (System.nanoTime() - t0) / 60e9, feeder.sent.get());
            samples.add(s);
            log.info(String.format(Locale.ROOT, "sample t=%.1f min rss=%.0f MiB heap_after_gc=%.1f MiB threads=%d fds=%d open=%.0f accepted=%.0f "
                    + "sent=%d segments=%.0f calls=%.0f", s.minutes, mib(s.rssBytes), mib(s.heapAfterGcBytes), s.threads, s.fds, s.openStreams,
                s.accepted, s.sent, s.segments, s.calls));
            nextSample += sampleS * 1_000_000_000L;
          }
          Thread.sleep(200);
        }
        feeder.stop();
        feed.join(60_000);
        feeder.assertHealthy();
        long streamsFinished = feeder.streamsFinished.get();
        Set<String> expectedKeys = feeder.finishedKeys();
        // Drain: every finished stream's call embedding, and nothing left open.
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while ((app.metric("callvec_streams_open").orElse(-1) != 0 || app.metric("callvec_calls_total").orElse(0) < expectedKeys.size())
            && System.nanoTime() < deadline) {
          Thread.sleep(500);
        }
        Sample last = sample(app, (System.nanoTime() - t0) / 60e9, feeder.sent.get());
        samples.add(last);
        Files.writeString(work.resolve("samples.csv"), csv(samples), StandardCharsets.UTF_8);

        Map<String, Integer> perKey = committedCallKeys(kafka.clientConfig(), topics.calls());
        long duplicated = perKey.values().stream().filter(n -> n > 1).count();
        Set<String> lost = new HashSet<>(expectedKeys);
        lost.removeAll(perKey.keySet());

        List<Sample> steady = samples.subList(samples.size() / 3, samples.size());
        double rssSlope = slopePerHour(steady, s -> mib(s.rssBytes));
        double heapSlope = slopePerHour(steady, s -> mib(s.heapAfterGcBytes));
        StringBuilder table = new StringBuilder("\n| t (min) | RSS (MiB) | heap after GC (MiB) | threads | fds | open streams | chunks sent | segments | calls |\n"
            + "|---|---|---|---|---|---|---|---|---|\n");
        for (Sample s : samples) {
          table.append(String.format(Locale.ROOT, "| %.1f | %.0f | %.1f | %d | %d | %.0f | %d | %.0f | %.0f |%n", s.minutes, mib(s.rssBytes),
              mib(s.heapAfterGcBytes), s.threads, s.fds, s.openStreams, s.sent, s.segments, s.calls));
        }
        log.info("soak samples:{}", table);
        int threadsSteadyMin = steady.stream().mapToInt(Sample::threads).min().orElse(0);
        int threadsSteadyMax = steady.stream().mapToInt(Sample::threads).max().orElse(0);
        log.info(String.format(Locale.ROOT, "RESULT scenario=memory-soak minutes=%.1f concurrent_calls=%d chunks_sent=%d streams_finished=%d "
                + "segments=%.0f call_embeddings=%d lost=%d duplicated=%d rss_first=%.0f rss_steady_min=%.0f rss_steady_max=%.0f rss_last=%.0f "
                + "rss_slope_mib_per_h=%.1f heap_slope_mib_per_h=%.2f threads=%d..%d fds=%d..%d",
            minutes, concurrent, feeder.sent.get(), streamsFinished, last.segments, perKey.size(), lost.size(), duplicated,
            mib(samples.get(0).rssBytes), steady.stream().mapToDouble(s -> mib(s.rssBytes)).min().orElse(0),
            steady.stream().mapToDouble(s -> mib(s.rssBytes)).max().orElse(0), mib(last.rssBytes), rssSlope, heapSlope,
            threadsSteadyMin, threadsSteadyMax, steady.stream().mapToInt(Sample::fds).min().orElse(0),
            steady.stream().mapToInt(Sample::fds).max().orElse(0)));

        assertEquals(0, lost.size(), "finished streams without a call embedding, e.g. " + lost.stream().limit(5).toList());
        assertEquals(0, duplicated, "call embeddings published more than once");
        assertTrue(rssSlope < maxRssSlope, String.format(Locale.ROOT, "RSS grows %.1f MiB/h (limit %.0f)", rssSlope, maxRssSlope));
        assertTrue(heapSlope < maxHeapSlope, String.format(Locale.ROOT, "heap after GC grows %.2f MiB/h (limit %.0f)", heapSlope, maxHeapSlope));
        assertTrue(threadsSteadyMax - threadsSteadyMin <= 4, "thread count grows: " + threadsSteadyMin + ".." + threadsSteadyMax);
        app.assertAlive();
      }
    }
  }

  private static double mib(double bytes) {
    return bytes / (1024.0 * 1024.0);
  }

  private static Sample sample(AppInstance app, double minutes, long sent) throws InterruptedException {
    long heap = app.heapAfterGcBytes();
    long rss = app.rssBytes();
    int threads = app.threads();
    int fds = app.openFileDescriptors();
    return new Sample(minutes, rss, heap, threads, fds, app.metric("callvec_streams_open").orElse(-1),
        app.metric("callvec_chunks_total", "result=\"accepted\"").orElse(0), app.metric("callvec_segments_total").orElse(0),
        app.metric("callvec_calls_total").orElse(0), sent);
  }

  /** Least-squares slope of {@code y} against time, per hour. */
  static double slopePerHour(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> y) {
    int n = samples.size();
    if (n < 2) {
      return 0;
    }
    double mx = samples.stream().mapToDouble(Sample::minutes).average().orElse(0);
    double my = samples.stream().mapToDouble(y).average().orElse(0);
    double sxy = 0;
    double sxx = 0;
    for (Sample s : samples) {
      sxy += (s.minutes - mx) * (y.applyAsDouble(s) - my);
      sxx += (s.minutes - mx) * (s.minutes - mx);
    }
    return sxx == 0 ? 0 : sxy / sxx * 60;
  }

  private static String csv(List<Sample> samples) {
    StringBuilder sb = new StringBuilder("minutes,rss_bytes,heap_after_gc_bytes,threads,fds,open_streams,accepted,segments,calls,sent\n");
    for (Sample s : samples) {
      sb.append(String.format(Locale.ROOT, "%.3f,%d,%d,%d,%d,%.0f,%.0f,%.0f,%.0f,%d%n", s.minutes, s.rssBytes, s.heapAfterGcBytes, s.threads,
          s.fds, s.openStreams, s.accepted, s.segments, s.calls, s.sent));
    }
    return sb.toString();
  }

  /** Records per key of the calls topic, read_committed, from the beginning to the end. */
  private static Map<String, Integer> committedCallKeys(Map<String, Object> clientConfig, String topic) {
    Properties p = new Properties();
    p.putAll(clientConfig);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    Map<String, Integer> perKey = new HashMap<>();
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      var parts = c.partitionsFor(topic).stream().map(i -> new org.apache.kafka.common.TopicPartition(topic, i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<org.apache.kafka.common.TopicPartition, Long> endOffsets = c.endOffsets(parts);
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (parts.stream().anyMatch(tp -> c.position(tp) < endOffsets.get(tp)) && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
          perKey.merge(r.key(), 1, Integer::sum);
        }
      }
    }
    return perKey;
  }

  /** Keeps {@code concurrent} two-channel calls playing in real time; a call that ends is replaced by a new one. */
  static final class RollingFeeder implements Runnable {
    private final Map<String, Object> clientConfig;
    private final String topic;
    private final String prefix;
    private final int concurrent;
    private final Random rnd = new Random(7);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Set<String> finished = java.util.concurrent.ConcurrentHashMap.newKeySet();
    final AtomicLong sent = new AtomicLong();
    final AtomicLong streamsFinished = new AtomicLong();
    private volatile boolean stopping;
    private long nextCall;

    /** One playing call: both channels advance together. */
    private final class Call {
      final String id = prefix + "-" + (nextCall++);
      final int chunks = (10_000 + rnd.nextInt(30_001)) / CHUNK_MS;
      final double hz0 = 150 + rnd.nextInt(300);
      final double hz1 = 450 + rnd.nextInt(600);
      int next;
    }

    RollingFeeder(Map<String, Object> clientConfig, String topic, String prefix, int concurrent) {
      this.clientConfig = clientConfig;
      this.topic = topic;
      this.prefix = prefix;
      this.concurrent = concurrent;
    }

    void stop() {
      stopping = true;
    }

    void assertHealthy() {
      if (failure.get() != null) {
        throw new AssertionError("the feeder failed: " + failure.get(), failure.get());
      }
    }

    Set<String> finishedKeys() {
      return Set.copyOf(finished);
    }

    @Override
    public void run() {
      Properties p = new Properties();
      p.putAll(clientConfig);
      p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
      p.put(ProducerConfig.ACKS_CONFIG, "all");
      p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
      try (KafkaProducer<String, AudioChunk> producer = new KafkaProducer<>(p, new StringSerializer(), CallvecSerdes.audioChunk().serializer())) {
        List<Call> calls = new ArrayList<>();
        for (int i = 0; i < concurrent; i++) {
          calls.add(new Call()); // lengths differ, so the calls do not end together
        }
        long t0 = System.nanoTime();
        long tick = 0;
        float[] pcm = new float[8 * CHUNK_MS];
        while (!stopping || !calls.isEmpty()) {
          long due = t0 + tick * CHUNK_MS * 1_000_000L;
          long wait = due - System.nanoTime();
          if (wait > 0) {
            Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
          }
          tick++;
          for (int i = calls.size() - 1; i >= 0; i--) {
            Call c = calls.get(i);
            boolean eos = c.next >= c.chunks || (stopping && c.next > 0);
            for (int ch = 0; ch < 2; ch++) {
              byte[] payload;
              if (eos) {
                payload = new byte[0];
              } else {
                double hz = ch == 0 ? c.hz0 : c.hz1;
                for (int s = 0; s < pcm.length; s++) {
                  long n = (long) c.next * pcm.length + s;
                  pcm[s] = (float) (0.25 * Math.sin(2 * Math.PI * hz * n / 8000.0) + 0.02 * (rnd.nextFloat() - 0.5));
                }
                payload = G711.encode(Encoding.MULAW, pcm);
              }
              AudioChunk chunk = AudioChunk.newBuilder()
                  .setCallId(c.id)
                  .setChannel(new Channel(ch, ch == 0 ? "agent" : "customer"))
                  .setSequenceNumber(c.next)
                  .setMediaTimestampMs((long) c.next * CHUNK_MS)
                  .setEncoding(AudioEncoding.MULAW)
                  .setSampleRateHz(8000)
                  .setPayload(ByteBuffer.wrap(payload))
                  .setEndOfStream(eos)
                  .build();
              producer.send(new ProducerRecord<>(topic, c.id, chunk), (md, e) -> {
                if (e != null) {
                  failure.compareAndSet(null, e);
                }
              });
              sent.incrementAndGet();
            }
            if (eos) {
              calls.remove(i);
              streamsFinished.addAndGet(2);
              if (c.next * CHUNK_MS >= MIN_FINAL_WINDOW_MS) {
                // At least one segment, so each channel must get exactly one call embedding.
                finished.add(c.id + "|0");
                finished.add(c.id + "|1");
              }
              if (!stopping) {
                calls.add(new Call());
              }
            } else {
              c.next++;
            }
          }
          if (failure.get() != null) {
            return;
          }
        }
        producer.flush();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failure.compareAndSet(null, e);
      } catch (Throwable t) {
        failure.compareAndSet(null, t);
      }
    }
  }
}
