package io.callvec.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.schemas.SegmentEmbedding;
import io.callvec.topology.chunks.Chunker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The harness's own promise: what the driver forwards after each step depends on the inputs and the steps only. */
class TopologyHarnessTest {

  @Test
  void aResultReachesTheProcessorOnlyWhenTheHarnessSettlesIt() throws Exception {
    try (TopologyHarness h = new TopologyHarness()) {
      h.pipe(Chunker.chunks(TopologyHarness.stream("held", 0, 5_500, 31), Chunker.Options.realTime()));
      assertEquals(1, h.inference.unsettled(), "one window [0, 5 s) submitted");
      for (int i = 0; i < 200; i++) {
        h.driver.advanceWallClockTime(Duration.ofMillis(5)); // a second of punctuations, however fast the batcher is
      }
      h.collect();
      assertEquals(0, h.segmentsSeen.size(), "nothing forwarded before the harness settles");
      h.step();
      assertEquals(1, h.segmentsSeen.size(), "forwarded in the first step after it");
      assertEquals(0, h.inference.unsettled());
    }
  }

  /** Per step, the segments forwarded in it, as {@code call/index}. */
  private static List<List<String>> stepsOf(long shuffleSeed) throws Exception {
    List<List<String>> steps = new ArrayList<>();
    try (TopologyHarness h = new TopologyHarness()) {
      for (int c = 0; c < 4; c++) {
        h.pipe(Chunker.chunks(TopologyHarness.stream("call-" + c, c % 2, 6_000 + 2_500L * c, 40 + c),
            Chunker.Options.realTime().withShuffle(8, 0.1, shuffleSeed + c)));
      }
      int seen = 0;
      while (h.callsSeen.size() < 4) {
        h.step();
        List<String> now = new ArrayList<>();
        for (SegmentEmbedding s : h.segmentsSeen.subList(seen, h.segmentsSeen.size())) {
          now.add(s.getCallId() + "/" + s.getSegmentIndex());
        }
        seen = h.segmentsSeen.size();
        steps.add(now);
        assertTrue(steps.size() < 1_000, "calls not done after 1,000 steps");
      }
    }
    return steps;
  }

  @Test
  void twoRunsOfTheSameInputForwardTheSameSegmentsInTheSameOrderAtTheSameSteps() throws Exception {
    List<List<String>> first = stepsOf(7);
    List<List<String>> second = stepsOf(7);
    assertEquals(first, second);
    assertEquals(2 + 2 + 3 + 3, first.stream().mapToInt(List::size).sum(), "every segment once");
  }
}
