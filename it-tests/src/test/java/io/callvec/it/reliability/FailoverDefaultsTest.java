package io.callvec.it.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.it.KafkaBroker;
import io.callvec.it.RealKafka;
import io.callvec.it.support.AppFleet;
import io.callvec.it.support.AppTopics;
import io.callvec.it.support.CallFixtures;
import io.callvec.it.support.ChunkFeeder;
import io.callvec.it.support.CommittedOutput;
import io.callvec.it.support.ExactlyOnceCheck;
import io.callvec.it.support.Knobs;
import io.callvec.it.support.OutputPauseMeter;
import io.callvec.it.support.ScenarioSettings;
import io.callvec.it.support.TaskOwnership;
import io.callvec.it.support.WorkDirs;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.CallEndReason;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failover with the shipped defaults (issue 14, acceptance): three instances, no session timeout,
 * heartbeat or idle timeout set by the test, concurrent two-channel calls played as live calls at
 * real-time pace. Mid-call the instance owning the most calls is killed ({@code kill -9}) and
 * restarted on its state directory {@code downMs} later; later the busiest other one is stopped
 * gracefully (SIGTERM) and started again; calls must really have moved each time.
 * Every segment and call embedding must arrive exactly once, no call may end {@code IDLE_TIMEOUT},
 * no chunk may be dead-lettered other than the duplicates sent on purpose ({@code CHUNK_AFTER_END}
 * included). Prints, per fault, the output pause of the streams on the instances that stayed
 * ("survivors") and of those on the instance that went away ("moved"): the longest gap between two
 * committed segments of one stream (a stream that is not disturbed shows about one hop, 2 s).
 *
 * <p>CI size: 6 calls of about 36 s. {@code it-tests/run-soak.sh failover} runs the full size (knobs
 * {@code -Dcallvec.soak.calls/callMs/downMs/killAt/termAt}; {@code -Dcallvec.soak.static=1} gives
 * each slot a {@code group.instance.id}, as {@code ops/k8s} does; {@code -Dcallvec.soak.streamsProtocol=1} runs
 * {@code group.protocol=streams}).
 */
@RealKafka
class FailoverDefaultsTest {
  private static final Logger log = LoggerFactory.getLogger(FailoverDefaultsTest.class);
  private static final int INPUT_PARTITIONS = 6;

  private final Path work = WorkDirs.create("FailoverDefaultsTest");

  @Test
  void killAndGracefulRestartWithDefaultsLoseNothing(KafkaBroker broker) throws Exception {
    int calls = Knobs.intKnob("calls", 6);
    int callMs = Knobs.intKnob("callMs", 36_000);
    int downMs = Knobs.intKnob("downMs", 1500);
    double killAt = Knobs.doubleKnob("killAt", 0.2);
    double termAt = Knobs.doubleKnob("termAt", 0.75);
    // 1: static membership as ops/k8s configures it (group.instance.id per slot), otherwise the defaults.
    boolean staticMembership = Knobs.intKnob("static", 0) == 1;
    // 1: Kafka 4's streams rebalance protocol (group.protocol=streams, KIP-1071) instead of the classic one.
    boolean streamsProtocol = Knobs.intKnob("streamsProtocol", 0) == 1;

    Files.createDirectories(work);
    String prefix = "failover-" + UUID.randomUUID().toString().substring(0, 8);
    AppTopics topics = AppTopics.of(prefix);
    broker.createTopics(ScenarioSettings.topics(topics, INPUT_PARTITIONS, (short) 1));
    String appId = prefix + "-app";
    Map<String, String> app = ScenarioSettings.appWithFailoverDefaults(broker.bootstrapServers(), appId, topics);
    if (streamsProtocol) {
      app.put("group.protocol", "streams");
    }
    TopologySettings settings = ScenarioSettings.topology(app);
    List<Recording> streams = CallFixtures.twoChannelCalls(prefix, calls, callMs, 400);
    Map<String, float[]> expected = CallFixtures.expectedSegments(streams, settings);
    Chunker.Options play = Chunker.Options.realTime().withShuffle(5, 0.02, 14);

    Map<String, String> lines = new LinkedHashMap<>();
    try (AppFleet fleet = new AppFleet(work, 256, slot -> withInstanceId(app, staticMembership ? prefix + "-pod-" + slot : null));
        OutputPauseMeter meter = OutputPauseMeter.start(broker.clientConfig(), topics.segments())) {
      for (int i = 0; i < 3; i++) {
        fleet.start(i, true);
      }
      fleet.awaitAllReady(Duration.ofSeconds(120));
      long killMs;
      long termMs;
      Set<Integer> killedPartitions;
      Set<Integer> stoppedPartitions;
      try (ChunkFeeder feeder = ChunkFeeder.start(broker.clientConfig(), topics.input(), streams, play)) {
        feeder.awaitFraction(killAt, Duration.ofSeconds(180));
        fleet.assertRunningAlive();
        int killed = busiest(broker, appId, topics, fleet, streams, -1, streamsProtocol);
        killedPartitions = TaskOwnership.inputPartitionsOf(broker.clientConfig(), appId, topics.input(), fleet.get(killed), streamsProtocol);
        killMs = meter.nowMs();
        fleet.kill(killed);
        log.info("killed slot {} (kill -9) at {} ms, it owned input partitions {}", killed, killMs, killedPartitions);
        Thread.sleep(downMs); // how long the instance stays down (a pod restart), not a check
        fleet.start(killed, false);

        feeder.awaitFraction(termAt, Duration.ofSeconds(180));
        fleet.assertRunningAlive();
        int stopped = busiest(broker, appId, topics, fleet, streams, killed, streamsProtocol);
        stoppedPartitions = TaskOwnership.inputPartitionsOf(broker.clientConfig(), appId, topics.input(), fleet.get(stopped), streamsProtocol);
        termMs = meter.nowMs();
        int code = fleet.stop(stopped, Duration.ofSeconds(60));
        assertEquals(143, code, "exit code after SIGTERM");
        log.info("stopped slot {} (SIGTERM) at {} ms, it owned input partitions {}", stopped, termMs, stoppedPartitions);
        fleet.start(stopped, false);
        feeder.awaitDone(Duration.ofSeconds(240));
      }
      CommittedOutput out = CommittedOutput.read(broker.clientConfig(), topics, streams.size(), Duration.ofSeconds(240), Duration.ofSeconds(3),
          fleet::assertRunningAlive);
      List<Map<String, Long>> pauses = meter.pausesByFault(List.of(killMs, termMs));
      lines.put("kill-9", pauseLine("kill-9 + restart after " + downMs + " ms", pauses.get(0), killedPartitions));
      lines.put("sigterm", pauseLine("SIGTERM + start", pauses.get(1), stoppedPartitions));
      lines.values().forEach(log::info);
      assertFalse(pauses.get(0).keySet().stream().noneMatch(k -> isOn(k, killedPartitions)), "a call moved after the kill: " + pauses.get(0));
      assertFalse(pauses.get(1).keySet().stream().noneMatch(k -> isOn(k, stoppedPartitions)), "a call moved after the SIGTERM: " + pauses.get(1));

      ExactlyOnceCheck.Verdict v = ExactlyOnceCheck.check(out, streams, play, expected, settings);
      log.info("RESULT scenario=failover-defaults protocol={} membership={} {}", streamsProtocol ? "streams" : "classic",
          staticMembership ? "static" : "dynamic", v.summary());
      v.assertClean();
      List<String> idle = out.calls.stream().filter(c -> c.getEndReason() == CallEndReason.IDLE_TIMEOUT)
          .map(c -> c.getCallId() + "/" + c.getChannel()).toList();
      assertTrue(idle.isEmpty(), "calls ended IDLE_TIMEOUT: " + idle);
      for (CallEmbedding c : out.calls) {
        assertEquals(CallEndReason.END_OF_STREAM, c.getEndReason(), "end reason of " + c.getCallId());
      }
    }
  }

  /**
   * The running slot other than {@code except} (if another owns a call) whose input partitions carry
   * the most calls, so that the fault really moves calls.
   *
   * @throws AssertionError if no slot owns a call's partition
   */
  private static int busiest(KafkaBroker broker, String appId, AppTopics topics, AppFleet fleet, List<Recording> streams, int except,
      boolean streamsProtocol) throws Exception {
    Set<String> callIds = streams.stream().map(Recording::callId).collect(Collectors.toSet());
    int best = -1;
    long bestCalls = 0;
    for (int slot : fleet.runningSlots()) {
      if (slot == except) {
        continue;
      }
      Set<Integer> owned = TaskOwnership.inputPartitionsOf(broker.clientConfig(), appId, topics.input(), fleet.get(slot), streamsProtocol);
      long calls = callIds.stream().filter(c -> owned.contains(TaskOwnership.partitionOf(c, INPUT_PARTITIONS))).count();
      if (calls > bestCalls) {
        best = slot;
        bestCalls = calls;
      }
    }
    if (best < 0 && except >= 0) {
      return busiest(broker, appId, topics, fleet, streams, -1, streamsProtocol); // every call is on the excepted slot: fault it again
    }
    assertTrue(best >= 0, "no instance owns the partition of a call");
    return best;
  }

  private static Map<String, String> withInstanceId(Map<String, String> app, String groupInstanceId) {
    Map<String, String> m = new LinkedHashMap<>(app);
    if (groupInstanceId != null) {
      m.put("group.instance.id", groupInstanceId);
    }
    return m;
  }

  private static boolean isOn(String streamKey, Set<Integer> partitions) {
    return partitions.contains(TaskOwnership.partitionOf(streamKey.substring(0, streamKey.lastIndexOf('/')), INPUT_PARTITIONS));
  }

  /** One line: the longest and median pause of the survivors' and of the moved streams after one fault. */
  private static String pauseLine(String fault, Map<String, Long> pauses, Set<Integer> movedPartitions) {
    Map<Boolean, List<Long>> split = pauses.entrySet().stream().collect(Collectors.partitioningBy(e -> isOn(e.getKey(), movedPartitions),
        Collectors.mapping(Map.Entry::getValue, Collectors.toList())));
    return "PAUSE fault=\"" + fault + "\" survivors " + describe(split.get(false)) + " moved " + describe(split.get(true))
        + " (undisturbed: about one hop, " + ScenarioSettings.WINDOW_MS + " ms)";
  }

  private static String describe(List<Long> ms) {
    if (ms.isEmpty()) {
      return "streams=0";
    }
    List<Long> s = ms.stream().sorted().toList();
    return "streams=" + s.size() + " maxMs=" + s.get(s.size() - 1) + " medianMs=" + s.get(s.size() / 2);
  }
}
