package io.callvec.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * A JDK Flight Recorder profile of this JVM over a stretch of a benchmark, summarised as tables:
 * where the CPU samples of the selected threads fall (own frame and whole stack, by area and by
 * method), and which methods allocate. In-process ({@link Recording}), so it needs no JVM flag; the
 * recording file is kept for {@code jfr print} or JDK Mission Control.
 *
 * <p>Limits: JFR samples running Java threads about every 10 ms (20 ms by default; set to 10 here)
 * and does not see native frames below a JNI call (RocksDB's C++ shows as the JNI method that called
 * it) nor GC and JIT threads; allocation samples are weighted estimates. Figures are shares of
 * samples, not times.
 */
final class JfrProfile implements AutoCloseable {
  /** Areas of the code, by package prefix of a frame; the first match wins. */
  static final Map<String, String> AREAS = areas();

  private final Recording recording = new Recording();

  private JfrProfile() {
    recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(10));
    recording.enable("jdk.ObjectAllocationSample");
    recording.setToDisk(true);
  }

  /** Starts recording now. */
  static JfrProfile start() {
    JfrProfile p = new JfrProfile();
    p.recording.start();
    return p;
  }

  /**
   * Stops, writes the recording to {@code file} and prints the summary of the threads whose name
   * {@code threads} accepts ({@code label} names them in the headings).
   *
   * @return the number of CPU samples of those threads
   */
  long stopAndPrint(Path file, String label, Predicate<String> threads, int topN) throws IOException {
    recording.stop();
    recording.dump(file);
    Map<String, Long> selfByMethod = new HashMap<>();
    Map<String, Long> totalByMethod = new HashMap<>();
    Map<String, Long> selfByArea = new HashMap<>();
    Map<String, Long> totalByArea = new HashMap<>();
    Map<String, Long> allocByMethod = new HashMap<>();
    long samples = 0;
    long allocBytes = 0;
    for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
      RecordedThread thread = thread(e);
      if (thread == null || thread.getJavaName() == null || !threads.test(thread.getJavaName()) || e.getStackTrace() == null) {
        continue;
      }
      List<RecordedFrame> frames = e.getStackTrace().getFrames();
      if (frames.isEmpty()) {
        continue;
      }
      String type = e.getEventType().getName();
      if (type.equals("jdk.ExecutionSample")) {
        samples++;
        String top = name(frames.get(0).getMethod());
        selfByMethod.merge(top, 1L, Long::sum);
        selfByArea.merge(area(top), 1L, Long::sum);
        Set<String> seenMethods = new HashSet<>();
        Set<String> seenAreas = new HashSet<>();
        for (RecordedFrame f : frames) {
          String m = name(f.getMethod());
          if (seenMethods.add(m)) {
            totalByMethod.merge(m, 1L, Long::sum);
          }
          if (seenAreas.add(area(m))) {
            totalByArea.merge(area(m), 1L, Long::sum);
          }
        }
      } else if (type.equals("jdk.ObjectAllocationSample")) {
        long w = e.getLong("weight");
        allocBytes += w;
        allocByMethod.merge(firstOwnFrame(frames), w, Long::sum);
      }
    }
    System.out.printf(Locale.ROOT, "%n## JFR profile of %s: %d CPU samples (recording: %s)%n", label, samples, file);
    if (samples == 0) {
      System.out.println("# no samples of those threads");
      return 0;
    }
    System.out.println("| area (package of the frame) | own frame % | on the stack % |");
    System.out.println("|---|---|---|");
    for (String a : sortedKeys(totalByArea)) {
      System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f |%n", a, 100.0 * selfByArea.getOrDefault(a, 0L) / samples, 100.0 * totalByArea.get(a) / samples);
    }
    System.out.printf(Locale.ROOT, "%n| top frames by own samples (%s) | own %% | on the stack %% |%n", label);
    System.out.println("|---|---|---|");
    for (String m : sortedKeys(selfByMethod).subList(0, Math.min(topN, selfByMethod.size()))) {
      System.out.printf(Locale.ROOT, "| `%s` | %.1f | %.1f |%n", m, 100.0 * selfByMethod.get(m) / samples, 100.0 * totalByMethod.get(m) / samples);
    }
    long all = samples;
    System.out.printf(Locale.ROOT, "%n| callvec and Kafka Streams methods by samples on the stack | on the stack %% |%n");
    System.out.println("|---|---|");
    sortedKeys(totalByMethod).stream()
        .filter(m -> m.startsWith("io.callvec.") || m.startsWith("org.apache.kafka.streams.processor.internals.ProcessorNode")
            || m.startsWith("org.apache.kafka.streams.processor.internals.StreamTask.commit")
            || m.startsWith("org.apache.kafka.streams.processor.internals.TaskExecutor.commit"))
        .limit(topN)
        .forEach(m -> System.out.printf(Locale.ROOT, "| `%s` | %.1f |%n", m, 100.0 * totalByMethod.get(m) / all));
    if (allocBytes > 0) {
      System.out.printf(Locale.ROOT, "%n| allocating method (first non-JDK frame) | share of sampled bytes %% |%n");
      System.out.println("|---|---|");
      for (String m : sortedKeys(allocByMethod).subList(0, Math.min(topN, allocByMethod.size()))) {
        System.out.printf(Locale.ROOT, "| `%s` | %.1f |%n", m, 100.0 * allocByMethod.get(m) / allocBytes);
      }
    }
    return samples;
  }

  @Override
  public void close() {
    recording.close();
  }

  /**
   * The thread an event is about: an execution sample names the sampled thread in its own field
   * ({@code sampledThread}; its event thread is the sampler, not recorded), an allocation sample
   * is recorded by the allocating thread itself.
   */
  private static RecordedThread thread(RecordedEvent e) {
    return e.hasField("sampledThread") ? e.getThread("sampledThread") : e.getThread();
  }

  private static String name(RecordedMethod m) {
    return m.getType().getName() + "." + m.getName();
  }

  /** The first frame outside java.*, jdk.* and sun.*: who asked for the allocation. */
  private static String firstOwnFrame(List<RecordedFrame> frames) {
    for (RecordedFrame f : frames) {
      String n = name(f.getMethod());
      if (!n.startsWith("java.") && !n.startsWith("jdk.") && !n.startsWith("sun.")) {
        return n;
      }
    }
    return name(frames.get(0).getMethod());
  }

  static String area(String method) {
    for (Map.Entry<String, String> e : AREAS.entrySet()) {
      if (method.startsWith(e.getKey())) {
        return e.getValue();
      }
    }
    return "other";
  }

  private static List<String> sortedKeys(Map<String, Long> m) {
    return m.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
        .map(Map.Entry::getKey).toList();
  }

  private static Map<String, String> areas() {
    Map<String, String> a = new LinkedHashMap<>();
    a.put("io.callvec.audio.", "callvec front end (audio)");
    a.put("io.callvec.topology.internals.AudioBlocks", "callvec block store");
    a.put("io.callvec.topology.", "callvec processor");
    a.put("io.callvec.schemas.", "callvec serdes");
    a.put("io.callvec.model.", "callvec model / batcher");
    a.put("io.callvec.", "callvec other");
    a.put("org.rocksdb.", "RocksDB (JNI)");
    a.put("org.apache.kafka.streams.state.", "Kafka Streams state stores");
    a.put("org.apache.kafka.streams.", "Kafka Streams runtime");
    a.put("org.apache.kafka.clients.producer.", "Kafka producer");
    a.put("org.apache.kafka.clients.consumer.", "Kafka consumer");
    a.put("org.apache.kafka.common.record.", "Kafka record batches");
    a.put("org.apache.kafka.common.", "Kafka common (network, metrics, serialisation)");
    a.put("org.apache.kafka.", "Kafka other");
    a.put("org.apache.avro.", "Avro");
    a.put("io.micrometer.", "Micrometer");
    a.put("java.util.zip.", "JDK CRC/zip");
    a.put("java.", "JDK");
    a.put("jdk.", "JDK");
    a.put("sun.", "JDK");
    return a;
  }
}
