package io.callvec.it.support;

import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.serde.CallvecSerdes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Watches the segment topic live with {@code isolation.level=read_committed} and notes, per call ×
 * channel, the wall-clock moments (ms since {@link #start}) at which its segment embeddings became
 * visible to a downstream reader. The output pause of a stream after a fault is the longest gap
 * between two such moments that the fault caused ({@link #pausesByFault}); at real-time pace a
 * stream that is never disturbed shows gaps of about one hop.
 *
 * <p>Limit: the moments are those of this reader's polls (200 ms), so a pause is known to about
 * ± 0.2 s.
 */
public final class OutputPauseMeter implements AutoCloseable {
  private final long startNanos = System.nanoTime();
  private final Map<String, List<Long>> arrivalsMs = new ConcurrentHashMap<>();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final Thread thread;

  private OutputPauseMeter(Map<String, Object> clientConfig, String segmentTopic) {
    Properties p = CommittedOutput.readCommittedConsumer(clientConfig, "pause-meter");
    thread = new Thread(() -> {
      try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
        consumer.subscribe(List.of(segmentTopic));
        while (!stop.get()) {
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            SegmentEmbedding s = CallvecSerdes.segmentEmbedding().deserializer().deserialize(r.topic(), r.value());
            List<Long> l = arrivalsMs.computeIfAbsent(CallFixtures.streamKey(s.getCallId(), s.getChannel().getIndex()), k -> new ArrayList<>());
            synchronized (l) {
              l.add(nowMs());
            }
          }
        }
      }
    }, "output-pause-meter");
    thread.setDaemon(true);
  }

  /** Starts watching {@code segmentTopic} from its beginning. */
  public static OutputPauseMeter start(Map<String, Object> clientConfig, String segmentTopic) {
    OutputPauseMeter m = new OutputPauseMeter(clientConfig, segmentTopic);
    m.thread.start();
    return m;
  }

  /** Milliseconds since this meter started (the clock of {@link #pausesByFault}). */
  public long nowMs() {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  /**
   * Per fault (moments in {@link #nowMs} time, ascending), per stream ({@link CallFixtures#streamKey}):
   * the longest gap, ms, between two consecutive deliveries that this fault caused. A gap belongs to
   * the earliest fault that happened during it; a gap during which no fault happened belongs to the
   * latest fault before it (recovery still under way: a rejoin, a second rebalance). Gaps before
   * the first fault belong to none. A stream appears under a fault only if it has a gap there.
   */
  public List<Map<String, Long>> pausesByFault(List<Long> faultsMs) {
    List<Map<String, Long>> out = new ArrayList<>();
    faultsMs.forEach(f -> out.add(new TreeMap<>()));
    arrivalsMs.forEach((stream, list) -> {
      List<Long> a;
      synchronized (list) {
        a = new ArrayList<>(list);
      }
      for (int i = 1; i < a.size(); i++) {
        int owner = faultOf(faultsMs, a.get(i - 1), a.get(i));
        if (owner >= 0) {
          out.get(owner).merge(stream, a.get(i) - a.get(i - 1), Math::max);
        }
      }
    });
    return out;
  }

  private static int faultOf(List<Long> faultsMs, long firstMs, long secondMs) {
    int latestBefore = -1;
    for (int f = 0; f < faultsMs.size(); f++) {
      long t = faultsMs.get(f);
      if (t >= firstMs && t < secondMs) {
        return f;
      }
      if (t < firstMs) {
        latestBefore = f;
      }
    }
    return latestBefore;
  }

  @Override
  public void close() throws InterruptedException {
    stop.set(true);
    thread.join(10_000);
  }
}
