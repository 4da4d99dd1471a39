package io.callvec.it.reliability;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.it.KafkaBroker;
import io.callvec.it.RealKafka;
import io.callvec.it.support.AppFleet;
import io.callvec.it.support.ChunkFeeder;
import io.callvec.it.support.CommittedOutput;
import io.callvec.it.support.ExactlyOnceCheck;
import io.callvec.it.support.FleetScenario;
import io.callvec.it.support.Knobs;
import io.callvec.it.support.WorkDirs;
import io.callvec.topology.chunks.Chunker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Instance crash: callvec instances as separate JVMs share a 6-partition input topic while a
 * producer plays concurrent two-channel calls (shuffled, 2 % duplicated chunks); at chosen moments
 * one instance is killed with {@code kill -9} and restarted a little later (alternately on its old
 * state directory and on a fresh one). Every expected segment and call embedding must be on the
 * output topics exactly once for a {@code read_committed} reader, equal to the model's output.
 *
 * <p>CI size: 6 calls, 2 instances, one kill. {@code it-tests/run-soak.sh crash} runs the full size
 * (knobs {@code -Dcallvec.soak.calls/instances/trials/killAt/downMs/speed/callMs}).
 */
@RealKafka
class InstanceCrashTest {
  private static final Logger log = LoggerFactory.getLogger(InstanceCrashTest.class);

  private final Path work = WorkDirs.create("InstanceCrashTest");

  /**
   * The run's size, from the knobs ({@code -Dcallvec.soak.<name>}, CI defaults here).
   *
   * @param killAt moments of the kills, as fractions of the records sent
   * @param downMs how long a killed instance stays down, ms
   * @param callMs duration of call 0's agent channel, ms (later calls last longer)
   */
  private record Load(int calls, int instances, int trials, List<Double> killAt, int downMs, double speed, int callMs) {
    static Load fromKnobs() {
      return new Load(
          Knobs.intKnob("calls", 6),
          Knobs.intKnob("instances", 2),
          Knobs.intKnob("trials", 1),
          Knobs.fractionsKnob("killAt", "0.4"),
          Knobs.intKnob("downMs", 1500),
          Knobs.doubleKnob("speed", 1.5),
          Knobs.intKnob("callMs", 8000));
    }
  }

  @Test
  void killedInstancesLoseAndDuplicateNothing(KafkaBroker broker) throws Exception {
    Load load = Load.fromKnobs();
    List<String> results = new ArrayList<>();
    for (int trial = 1; trial <= load.trials(); trial++) {
      ExactlyOnceCheck.Verdict v = trial(broker, work.resolve("trial-" + trial), trial, load);
      String line = "RESULT scenario=instance-crash trial=" + trial + " calls=" + load.calls() + " instances=" + load.instances()
          + " kills=" + load.killAt().size()
          + " records=" + v.recordsChecked() + " segments=" + v.deliveredSegments() + "/" + v.expectedSegments()
          + " lost=" + (v.lostSegments() + v.lostCalls()) + " duplicated=" + (v.duplicatedSegments() + v.duplicatedCalls())
          + " wrong=" + (v.wrongVectors() + v.wrongCalls() + v.unexpectedSegments()) + " clean=" + v.clean();
      log.info(line);
      results.add(line);
      v.assertClean();
    }
  }

  private ExactlyOnceCheck.Verdict trial(KafkaBroker broker, Path dir, int trial, Load load) throws Exception {
    Files.createDirectories(dir);
    FleetScenario sc = FleetScenario.create(broker, "crash", 6, load.calls(), load.callMs());
    Chunker.Options play = Chunker.Options.realTime().withSpeed(load.speed()).withShuffle(5, 0.02, trial);

    try (AppFleet fleet = new AppFleet(dir, 256, slot -> sc.app())) {
      for (int i = 0; i < load.instances(); i++) {
        fleet.start(i, true);
      }
      fleet.awaitAllReady(Duration.ofSeconds(90));
      try (ChunkFeeder feeder = ChunkFeeder.start(broker.clientConfig(), sc.topics().input(), sc.streams(), play)) {
        for (int k = 0; k < load.killAt().size(); k++) {
          feeder.awaitFraction(load.killAt().get(k), Duration.ofSeconds(120));
          fleet.assertRunningAlive();
          // Kill the busiest instance: the one that processed the most chunks so far.
          int victim = -1;
          long processed = -1;
          for (int slot : fleet.runningSlots()) {
            long c = (long) fleet.get(slot).metric("callvec_chunks_total").orElse(0);
            if (c > processed) {
              victim = slot;
              processed = c;
            }
          }
          assertTrue(processed > 0, "an instance was processing chunks before the kill, found " + processed);
          fleet.kill(victim);
          log.info("trial {}: killed slot {} at {} of {} records sent ({} chunks processed by it)", trial, victim, feeder.sent(),
              feeder.totalRecords(), processed);
          Thread.sleep(load.downMs());
          fleet.start(victim, k % 2 == 1);
          if (k + 1 < load.killAt().size()) {
            // Before the next kill, let the restarted instance rejoin (holding the feed at the next kill moment if need be).
            feeder.holdAt(load.killAt().get(k + 1));
            fleet.awaitAllReady(Duration.ofSeconds(90));
            feeder.release();
          }
        }
        feeder.awaitDone(Duration.ofSeconds(180));
      }
      CommittedOutput out = CommittedOutput.read(broker.clientConfig(), sc.topics(), sc.streams().size(), Duration.ofSeconds(150),
          Duration.ofSeconds(3), fleet::assertRunningAlive);
      ExactlyOnceCheck.Verdict v = ExactlyOnceCheck.check(out, sc.streams(), play, sc.expected(), sc.settings());
      log.info("trial {}: {}; windows resubmitted after restarts by the running instances: {}", trial, v.summary(),
          fleet.metricSum("callvec_windows_resubmitted_total"));
      return v;
    }
  }
}
