package io.callvec.it.support;

import io.callvec.audio.AudioWindow;
import io.callvec.model.Similarity;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import io.callvec.topology.internals.CallProcessor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The exactly-once checker: compares what was committed on the output topics with what the app
 * must produce from the input streams.
 *
 * <ul>
 *   <li>every expected segment (the windows the offline front end cuts) is delivered exactly once,
 *       with the model's vector for that window (cosine &ge; {@value #MIN_COSINE});
 *   <li>each stream's segments tile its timeline: segment {@code k} starts at {@code k × hop} and
 *       has segment index {@code k} (one contiguous run: the synthetic calls have no gaps);
 *   <li>every call × channel gets exactly one call embedding, whose segment count matches and whose
 *       vector is the duration-weighted mean of the expected segment vectors (so running sums were
 *       neither lost nor double-counted across restarts);
 *   <li>the dead-letter topic holds exactly the expected number of {@code DUPLICATE} dead letters
 *       (one per duplicated chunk the player sent) and nothing else.
 * </ul>
 */
public final class ExactlyOnceCheck {
  /** Smallest accepted cosine between a delivered vector and the model's own. */
  public static final double MIN_COSINE = 0.9999;

  private ExactlyOnceCheck() {}

  /**
   * What was checked and what was wrong.
   *
   * @param expectedSegments segments the input must give
   * @param deliveredSegments segment records read (duplicates included)
   * @param lostSegments expected segments not delivered
   * @param duplicatedSegments extra deliveries of expected segments (n − 1 per segment delivered n &gt; 1 times)
   * @param unexpectedSegments delivered segments that no window of the input gives
   * @param wrongVectors delivered segments whose vector differs from the model's
   * @param expectedCalls call embeddings the input must give (one per call × channel)
   * @param deliveredCalls call-embedding records read
   * @param lostCalls, duplicatedCalls, wrongCalls likewise for call embeddings
   * @param nonContiguousStreams streams whose segments do not tile the timeline
   * @param expectedDeadLetters duplicated chunks sent, each must give one DUPLICATE dead letter
   * @param deadLetters dead letters read
   * @param problems the first problems found, for the assertion message
   */
  public record Verdict(int expectedSegments, int deliveredSegments, int lostSegments, int duplicatedSegments, int unexpectedSegments,
      int wrongVectors, int expectedCalls, int deliveredCalls, int lostCalls, int duplicatedCalls, int wrongCalls, int nonContiguousStreams,
      int expectedDeadLetters, int deadLetters, List<String> problems) {

    /** True when nothing was lost, duplicated, unexpected or wrong. */
    public boolean clean() {
      return problems.isEmpty();
    }

    /** Records checked: segments + call embeddings + dead letters read. */
    public int recordsChecked() {
      return deliveredSegments + deliveredCalls + deadLetters;
    }

    /** One line: {@code segments 48/48 lost 0 dup 0 ...}. */
    public String summary() {
      return "records checked " + recordsChecked() + ": segments " + deliveredSegments + "/" + expectedSegments + " lost " + lostSegments
          + " duplicated " + duplicatedSegments + " unexpected " + unexpectedSegments + " wrong " + wrongVectors
          + "; calls " + deliveredCalls + "/" + expectedCalls + " lost " + lostCalls + " duplicated " + duplicatedCalls + " wrong " + wrongCalls
          + "; non-contiguous streams " + nonContiguousStreams + "; dead letters " + deadLetters + "/" + expectedDeadLetters;
    }

    /** Throws an {@link AssertionError} naming the first problems unless {@link #clean()}. */
    public void assertClean() {
      if (!clean()) {
        throw new AssertionError("exactly-once check failed: " + summary() + "\n  " + String.join("\n  ", problems));
      }
    }
  }

  /**
   * Checks {@code out} against the streams that were played.
   *
   * @param streams what was played
   * @param options how it was played (for the number of duplicated chunks)
   * @param expected {@link CallFixtures#expectedSegments} of {@code streams}
   * @param settings the app's settings (window, hop)
   */
  public static Verdict check(CommittedOutput out, List<Recording> streams, Chunker.Options options, Map<String, float[]> expected,
      TopologySettings settings) {
    List<String> problems = new ArrayList<>();
    int problemLimit = 30;

    // Segments.
    Map<String, Integer> seen = new HashMap<>();
    Map<String, List<SegmentEmbedding>> byStream = new LinkedHashMap<>();
    int unexpected = 0;
    int wrong = 0;
    for (SegmentEmbedding s : out.segments) {
      String key = CallFixtures.segmentKey(s.getCallId(), s.getChannel().getIndex(), s.getStartSample16k(), s.getEndSample16k());
      int n = seen.merge(key, 1, Integer::sum);
      if (n == 1) {
        byStream.computeIfAbsent(CallFixtures.streamKey(s.getCallId(), s.getChannel().getIndex()), k -> new ArrayList<>()).add(s);
      }
      float[] direct = expected.get(key);
      if (direct == null) {
        unexpected++;
        note(problems, problemLimit, "unexpected segment " + key);
        continue;
      }
      double cos = Similarity.cosine(direct, Vectors.fromBytes(s.getVector(), s.getDimension()));
      if (!(cos >= MIN_COSINE)) {
        wrong++;
        note(problems, problemLimit, "segment " + key + " vector cosine " + cos + " to the model's");
      }
    }
    Delivery segmentDelivery = delivery(expected.keySet(), seen, "segment", problems, problemLimit);

    // Contiguity: segment k of a stream starts at k × hop and carries index k.
    long hopSamples = (long) settings.frontEnd().hopMs() * TopologySettings.SAMPLES_PER_MS_16K;
    int nonContiguous = 0;
    for (Map.Entry<String, List<SegmentEmbedding>> e : byStream.entrySet()) {
      List<SegmentEmbedding> segs = new ArrayList<>(e.getValue());
      segs.sort(Comparator.comparingLong(SegmentEmbedding::getStartSample16k));
      for (int k = 0; k < segs.size(); k++) {
        SegmentEmbedding s = segs.get(k);
        if (s.getStartSample16k() != k * hopSamples || s.getSegmentIndex() != k) {
          nonContiguous++;
          note(problems, problemLimit, "stream " + e.getKey() + ": segment #" + k + " starts at " + s.getStartSample16k() + " with index "
              + s.getSegmentIndex() + ", expected start " + k * hopSamples + " and index " + k);
          break;
        }
      }
    }

    // Call embeddings: one per stream, the duration-weighted mean of its segments.
    Map<String, float[]> expectedCallVectors = new HashMap<>();
    Map<String, Integer> expectedCallSegments = new HashMap<>();
    for (Recording s : streams) {
      List<AudioWindow> windows = CallFixtures.windows(s, settings);
      if (windows.isEmpty()) {
        continue;
      }
      double[] sum = null;
      long weight = 0;
      for (AudioWindow w : windows) {
        float[] v = expected.get(CallFixtures.segmentKey(s.callId(), s.channelIndex(), w.startSample(), w.endSample()));
        if (sum == null) {
          sum = new double[v.length];
        }
        for (int i = 0; i < v.length; i++) {
          sum[i] += (double) w.length() * v[i];
        }
        weight += w.length();
      }
      float[] mean = new float[sum.length];
      for (int i = 0; i < mean.length; i++) {
        mean[i] = (float) (sum[i] / weight);
      }
      String key = CallFixtures.streamKey(s.callId(), s.channelIndex());
      expectedCallVectors.put(key, mean);
      expectedCallSegments.put(key, windows.size());
    }
    Map<String, Integer> callsSeen = new HashMap<>();
    int wrongCalls = 0;
    for (CallEmbedding c : out.calls) {
      String key = CallFixtures.streamKey(c.getCallId(), c.getChannel().getIndex());
      callsSeen.merge(key, 1, Integer::sum);
      float[] mean = expectedCallVectors.get(key);
      if (mean == null) {
        wrongCalls++;
        note(problems, problemLimit, "unexpected call embedding " + key);
        continue;
      }
      double cos = Similarity.cosine(mean, Vectors.fromBytes(c.getVector(), c.getDimension()));
      if (!(cos >= MIN_COSINE) || c.getSegmentCount() != expectedCallSegments.get(key)) {
        wrongCalls++;
        note(problems, problemLimit, "call embedding " + key + ": " + c.getSegmentCount() + " segments (expected "
            + expectedCallSegments.get(key) + "), cosine " + cos + " to the weighted mean of the expected segments");
      }
    }
    Delivery callDelivery = delivery(expectedCallVectors.keySet(), callsSeen, "call embedding", problems, problemLimit);

    // Dead letters: exactly one DUPLICATE per duplicated chunk, nothing else.
    int expectedDeadLetters = 0;
    for (Recording s : streams) {
      expectedDeadLetters += Chunker.chunks(s, options).size() - Chunker.chunks(s, Chunker.Options.realTime()).size();
    }
    int duplicateLetters = 0;
    for (ConsumerRecord<String, byte[]> r : out.deadLetters) {
      Header h = r.headers().lastHeader(CallProcessor.HEADER_REASON);
      String reason = h == null ? "(no reason header)" : new String(h.value(), StandardCharsets.UTF_8);
      if (reason.equals("DUPLICATE")) {
        duplicateLetters++;
      } else {
        note(problems, problemLimit, "dead letter " + reason + " for " + r.key());
      }
    }
    if (duplicateLetters != expectedDeadLetters) {
      note(problems, problemLimit, duplicateLetters + " DUPLICATE dead letters, expected " + expectedDeadLetters);
    }

    return new Verdict(expected.size(), out.segments.size(), segmentDelivery.lost(), segmentDelivery.duplicated(), unexpected, wrong,
        expectedCallVectors.size(), out.calls.size(), callDelivery.lost(), callDelivery.duplicated(), wrongCalls, nonContiguous, expectedDeadLetters, out.deadLetters.size(), List.copyOf(problems));
  }

  /** Of the expected keys: how many never arrived, and how many extra copies arrived (n - 1 for a key seen n times). */
  private record Delivery(int lost, int duplicated) {}

  /** Counts lost and duplicated {@code expectedKeys} in {@code seen} (times each key arrived), noting each as "{@code what} key ...". */
  private static Delivery delivery(Set<String> expectedKeys, Map<String, Integer> seen, String what, List<String> problems, int limit) {
    int lost = 0;
    int duplicated = 0;
    for (String key : expectedKeys) {
      int n = seen.getOrDefault(key, 0);
      if (n == 0) {
        lost++;
        note(problems, limit, what + " " + key + " lost");
      } else if (n > 1) {
        duplicated += n - 1;
        note(problems, limit, what + " " + key + " delivered " + n + " times");
      }
    }
    return new Delivery(lost, duplicated);
  }

  private static void note(List<String> problems, int limit, String problem) {
    if (problems.size() < limit) {
      problems.add(problem);
    } else if (problems.size() == limit) {
      problems.add("...");
    }
  }
}
