package io.callvec.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.audio.AudioFormatException.Reason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Reordering, duplicates, gaps, long gaps, late chunks, end of stream, jitter and state of the assembler. */
class CallAssemblerTest {

  private static final int RATE = 8000;
  private static final int FRAME = 160; // 20 ms

  /** Records runs and their audio. */
  static final class Recorder implements CallAssembler.Sink {
    final List<Long> runStarts = new ArrayList<>();
    final List<float[]> runs = new ArrayList<>();
    private float[] cur;
    private int len;
    long total;

    @Override
    public void startRun(long startSample) {
      close();
      runStarts.add(startSample);
      cur = new float[1024];
      len = 0;
    }

    @Override
    public void accept(float[] s, int off, int n) {
      assertTrue(cur != null, "samples before startRun");
      if (len + n > cur.length) {
        cur = Arrays.copyOf(cur, Math.max(2 * cur.length, len + n));
      }
      System.arraycopy(s, off, cur, len, n);
      len += n;
      total += n;
    }

    void close() {
      if (cur != null) {
        runs.add(Arrays.copyOf(cur, len));
        cur = null;
      }
    }

    List<float[]> finishedRuns() {
      close();
      return runs;
    }
  }

  /** Frame k: 160 samples with values k + i / 1000. */
  static float[] frame(int k) {
    float[] f = new float[FRAME];
    for (int i = 0; i < FRAME; i++) {
      f[i] = k + i / 1000f;
    }
    return f;
  }

  static float[] frames(int... ks) {
    float[] out = new float[ks.length * FRAME];
    for (int j = 0; j < ks.length; j++) {
      if (ks[j] >= 0) {
        System.arraycopy(frame(ks[j]), 0, out, j * FRAME, FRAME);
      }
    }
    return out;
  }

  static CallAssembler defaults() {
    return new CallAssembler(RATE, 500, 1000, 5);
  }

  static void send(CallAssembler a, Recorder r, int k) {
    a.accept(k, 20L * k, frame(k), 0, FRAME, r);
  }

  /** Sends the chunks in the order given. */
  static void sendAll(CallAssembler a, Recorder r, int... chunks) {
    for (int k : chunks) {
      send(a, r, k);
    }
  }

  /** Sends chunks {@code first} to {@code endExclusive - 1}, finishes; returns the run starts. */
  static List<Long> runStartsOfWholeCall(CallAssembler a, int first, int endExclusive) {
    Recorder r = new Recorder();
    sendRange(a, r, first, endExclusive);
    a.finish(r);
    return r.runStarts;
  }

  /** Sends chunks {@code first} to {@code endExclusive - 1}, in order. */
  static void sendRange(CallAssembler a, Recorder r, int first, int endExclusive) {
    for (int k = first; k < endExclusive; k++) {
      send(a, r, k);
    }
  }

  @Test
  void inOrderAudioFlowsStraightThrough() {
    CallAssembler a = defaults();
    Recorder r = new Recorder();
    for (int k = 0; k < 10; k++) {
      send(a, r, k);
      assertEquals((k + 1) * FRAME, r.total, "emitted without waiting");
    }
    a.finish(r);
    assertEquals(List.of(0L), r.runStarts);
    assertArrayEquals(frames(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), r.finishedRuns().get(0));
    assertEquals(1, a.runs());
    assertEquals(0, a.gapsFilled() + a.lateChunks() + a.duplicateChunks() + a.overlapSamples());
  }

  @Test
  void reordersWithinTheLatenessAndDropsDuplicates() {
    CallAssembler a = defaults();
    Recorder r = new Recorder();
    sendAll(a, r, 0, 2, 1, 1, 3, 5, 4, 0, 6);
    assertEquals(7 * FRAME, r.total);
    assertEquals(2, a.duplicateChunks());
    assertEquals(0, a.gapsFilled());
    a.finish(r);
    assertArrayEquals(frames(0, 1, 2, 3, 4, 5, 6), r.finishedRuns().get(0));
  }

  @Test
  void aGapWaitsForTheLatenessThenIsFilledWithSilence() {
    CallAssembler a = defaults();
    Recorder r = new Recorder();
    for (int k = 0; k <= 30; k++) {
      if (k == 5) {
        continue; // lost
      }
      send(a, r, k);
      // the gap [800, 960) is resolved once the newest audio ends 500 ms (4000 samples) after 960,
      // i.e. when chunk 30 (ending at 4960) arrives; until then audio stops at the gap
      assertEquals(k < 5 ? (k + 1) * FRAME : k < 30 ? 5 * FRAME : 31 * FRAME, r.total, "after chunk " + k);
    }
    assertEquals(1, a.gapsFilled());
    assertEquals(FRAME, a.gapFilledSamples());
    send(a, r, 5); // now too late
    assertEquals(1, a.lateChunks());
    assertEquals(FRAME, a.lateSamples());
    a.finish(r);
    int[] expect = new int[31];
    for (int k = 0; k <= 30; k++) {
      expect[k] = k == 5 ? -1 : k;
    }
    assertArrayEquals(frames(expect), r.finishedRuns().get(0));
    assertEquals(1, r.runStarts.size());
  }

  @Test
  void aGapLongerThanTheMaximumStartsANewRun() {
    CallAssembler a = defaults();
    Recorder r = new Recorder();
    sendRange(a, r, 0, 10);
    sendRange(a, r, 150, 180); // 3 s: gap of 2.8 s > 1 s
    a.finish(r);
    assertEquals(List.of(0L, 150L * FRAME), r.runStarts);
    List<float[]> runs = r.finishedRuns();
    assertEquals(10 * FRAME, runs.get(0).length);
    assertEquals(30 * FRAME, runs.get(1).length);
    assertEquals(150f, runs.get(1)[0]);
    assertEquals(1, a.longGaps());
    assertEquals(2, a.runs());
    assertEquals(0, a.gapFilledSamples());
  }

  @Test
  void aCallWhoseAudioStartsLateStartsItsFirstRunThere() {
    CallAssembler a = defaults();
    assertEquals(List.of(100L * FRAME), runStartsOfWholeCall(a, 100, 140));
    // a short initial gap is filled instead
    CallAssembler b = defaults();
    assertEquals(List.of(0L), runStartsOfWholeCall(b, 10, 40));
    assertEquals(10 * FRAME, b.gapFilledSamples());
  }

  @Test
  void finishEmitsTheBufferAndEndsTheStream() {
    CallAssembler a = defaults();
    Recorder r = new Recorder();
    sendAll(a, r, 0, 2);
    assertEquals(FRAME, r.total); // waiting for chunk 1
    send(a, r, 300); // 6 s: far ahead, so the gap before chunk 2 is now past the lateness: filled
    assertEquals(3 * FRAME, r.total); // chunk 300 itself waits: the 5.9 s gap before it is not due yet
    a.finish(r); // the idle timeout or end of call, as the caller decides
    assertEquals(List.of(0L, 300L * FRAME), r.runStarts);
    assertArrayEquals(frames(0, -1, 2), r.finishedRuns().get(0));
    assertEquals(FRAME, a.gapFilledSamples());
    assertTrue(a.isFinished());
    a.finish(r); // idempotent
    assertThrows(IllegalStateException.class, () -> send(a, r, 3));
  }

  @Test
  void flushEmitsTheBufferAndLaterChunksForEarlierPositionsAreLate() {
    CallAssembler a = defaults();
    Recorder r = new Recorder();
    sendAll(a, r, 0, 3);
    a.flush(r);
    assertEquals(4 * FRAME, r.total);
    sendAll(a, r, 1, 4);
    assertEquals(1, a.lateChunks());
    assertEquals(5 * FRAME, r.total);
  }

  @Test
  void timestampJitterWithinTheToleranceKeepsAudioContiguous() {
    CallAssembler a = defaults();
    Recorder r = new Recorder();
    Random rnd = new Random(5);
    for (int k = 0; k < 100; k++) {
      long ts = 20L * k + (k == 0 ? 0 : rnd.nextInt(9) - 4); // +-4 ms
      a.accept(k, ts, frame(k), 0, FRAME, r);
    }
    a.finish(r);
    int[] all = new int[100];
    Arrays.setAll(all, i -> i);
    assertArrayEquals(frames(all), r.finishedRuns().get(0));
    assertEquals(0, a.gapFilledSamples() + a.overlapSamples() + a.lateChunks());
  }

  @Test
  void elevenKilohertzFramesOf220And221SamplesAreContiguous() {
    CallAssembler a = new CallAssembler(11025, 500, 1000, 5);
    Recorder r = new Recorder();
    long pos = 0;
    for (int k = 0; k < 50; k++) {
      long end = (k + 1) * 20L * 11025 / 1000; // floor
      float[] f = new float[(int) (end - pos)];
      Arrays.fill(f, k);
      a.accept(k, 20L * k, f, 0, f.length, r);
      pos = end;
    }
    a.finish(r);
    assertEquals(pos, r.finishedRuns().get(0).length);
    assertEquals(0, a.gapFilledSamples() + a.overlapSamples());
  }

  @Test
  void overlappingChunksLoseTheirOverlap() {
    CallAssembler a = defaults();
    Recorder r = new Recorder();
    float[] big = new float[300];
    Arrays.fill(big, 1f);
    a.accept(0, 0, big, 0, 300, r);
    send(a, r, 1); // starts at 160: its first 140 samples are already covered (more than the 40 tolerated)
    a.finish(r);
    assertEquals(140, a.overlapSamples());
    assertEquals(320, r.finishedRuns().get(0).length);
    // same position, different sequence numbers: the lower one wins
    CallAssembler b = defaults();
    Recorder q = new Recorder();
    send(b, q, 0);
    b.accept(9, 40, frame(9), 0, FRAME, q);
    b.accept(7, 40, frame(7), 0, FRAME, q);
    b.finish(q);
    assertArrayEquals(frames(0, -1, 7), q.finishedRuns().get(0));
    assertEquals(FRAME, b.overlapSamples());
  }

  @Test
  void invalidChunksAreRejectedWithoutChangingState() {
    CallAssembler a = defaults();
    Recorder r = new Recorder();
    sendAll(a, r, 0, 2);
    byte[] before = a.toBytes();
    assertReason(Reason.BAD_SEQUENCE_NUMBER, () -> a.accept(-1, 40, frame(1), 0, FRAME, r));
    assertReason(Reason.BAD_TIMESTAMP, () -> a.accept(1, -20, frame(1), 0, FRAME, r));
    assertReason(Reason.BAD_TIMESTAMP, () -> a.accept(1, Long.MAX_VALUE / 1000, frame(1), 0, FRAME, r));
    assertReason(Reason.EMPTY_PAYLOAD, () -> a.accept(1, 20, frame(1), 0, 0, r));
    assertArrayEquals(before, a.toBytes());
  }

  private static void assertReason(Reason reason, Runnable r) {
    AudioFormatException e = assertThrows(AudioFormatException.class, r::run);
    assertEquals(reason, e.reason());
  }

  /** A messy stream: shuffled within 200 ms, duplicates, losses, a long gap. */
  static List<int[]> messyStream(long seed) {
    Random rnd = new Random(seed);
    List<int[]> chunks = new ArrayList<>(); // {seq, tsMs}
    for (int k = 0; k < 400; k++) {
      if (k >= 200 && k < 300) {
        continue; // 2 s long gap
      }
      if (rnd.nextInt(50) == 0) {
        continue; // lost
      }
      chunks.add(new int[] {k, 20 * k});
      if (rnd.nextInt(30) == 0) {
        chunks.add(new int[] {k, 20 * k}); // duplicate
      }
    }
    for (int i = 0; i + 10 <= chunks.size(); i += 10) {
      Collections.shuffle(chunks.subList(i, i + 10), rnd);
    }
    return chunks;
  }

  @Test
  void stateRoundTripsMidStreamContinueIdentically() {
    List<int[]> stream = messyStream(42);
    CallAssembler plain = defaults();
    Recorder expected = new Recorder();
    CallAssembler restored = defaults();
    Recorder actual = new Recorder();
    long maxBuffered = 0;
    for (int[] c : stream) {
      plain.accept(c[0], c[1], frame(c[0]), 0, FRAME, expected);
      restored = CallAssembler.fromBytes(restored.toBytes());
      restored.accept(c[0], c[1], frame(c[0]), 0, FRAME, actual);
      maxBuffered = Math.max(maxBuffered, restored.bufferedSamples());
      assertEquals(expected.total, actual.total);
    }
    plain.finish(expected);
    restored = CallAssembler.fromBytes(restored.toBytes());
    restored.finish(actual);
    assertEquals(expected.runStarts, actual.runStarts);
    List<float[]> e = expected.finishedRuns();
    List<float[]> g = actual.finishedRuns();
    assertEquals(e.size(), g.size());
    for (int i = 0; i < e.size(); i++) {
      assertArrayEquals(e.get(i), g.get(i));
    }
    assertEquals(2, restored.runs());
    assertTrue(restored.duplicateChunks() > 0 && restored.gapsFilled() > 0, "the stream exercised the cases");
    assertEquals(plain.gapFilledSamples(), restored.gapFilledSamples());
    // bounded: the lateness (4000 samples) plus one frame
    assertTrue(maxBuffered <= 4000 + FRAME, "buffered " + maxBuffered);
  }

  @Test
  void badStateBlobsAreRejected() {
    byte[] good = defaults().toBytes();
    byte[] kind = good.clone();
    kind[2] = 'R';
    AudioStateException e = assertThrows(AudioStateException.class, () -> CallAssembler.fromBytes(kind));
    assertTrue(e.getMessage().contains("expected kind 'A'"), e.getMessage());
    byte[] truncated = Arrays.copyOf(good, 20);
    e = assertThrows(AudioStateException.class, () -> CallAssembler.fromBytes(truncated));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void oldDuplicatesBeyondTheSequenceWindowAreCaughtByPosition() {
    CallAssembler a = defaults();
    Recorder r = new Recorder();
    sendRange(a, r, 0, CallAssembler.SEQUENCE_WINDOW + 10);
    send(a, r, 3);
    assertEquals(0, a.duplicateChunks());
    assertEquals(1, a.lateChunks());
    send(a, r, CallAssembler.SEQUENCE_WINDOW);
    assertEquals(1, a.duplicateChunks());
  }
}
