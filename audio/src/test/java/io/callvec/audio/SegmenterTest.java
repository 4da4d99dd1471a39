package io.callvec.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Window boundaries, hop, final partial window, runs and state of the segmenter. */
class SegmenterTest {

  static float[] ramp(int start, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = start + i;
    }
    return x;
  }

  /** One run from {@code startSample}: a ramp of {@code samples} samples, then its end. */
  static List<AudioWindow> oneRun(Segmenter s, long startSample, int samples) {
    List<AudioWindow> out = new ArrayList<>();
    s.startRun(startSample, out::add);
    s.accept(ramp(0, samples), 0, samples, out::add);
    s.endRun(out::add);
    return out;
  }

  static long[] starts(List<AudioWindow> windows) {
    return windows.stream().mapToLong(AudioWindow::startSample).toArray();
  }

  @Test
  void windowsWithoutOverlapAndAFinalPartialWindow() {
    Segmenter s = new Segmenter(100, 100, 30);
    List<AudioWindow> out = new ArrayList<>();
    s.startRun(0, out::add);
    s.accept(ramp(0, 250), 0, 250, out::add);
    assertEquals(2, out.size());
    s.endRun(out::add);
    assertEquals(3, out.size());
    assertArrayEquals(new long[] {0, 100, 200}, starts(out));
    assertArrayEquals(ramp(100, 100), out.get(1).samples());
    assertArrayEquals(ramp(200, 50), out.get(2).samples());
    assertTrue(out.get(2).partial());
    assertFalse(out.get(1).partial());
    assertEquals(2, out.get(2).index());
    assertEquals(0, s.droppedTailSamples());
  }

  @Test
  void aTailShorterThanTheMinimumIsDroppedAndCounted() {
    Segmenter s = new Segmenter(100, 100, 30);
    List<AudioWindow> out = oneRun(s, 0, 220);
    assertEquals(2, out.size());
    assertEquals(20, s.droppedTailSamples());
  }

  @Test
  void overlappingWindowsEmitEachWindowOnce() {
    Segmenter s = new Segmenter(100, 50, 30);
    List<AudioWindow> out = oneRun(s, 1000, 260);
    assertArrayEquals(new long[] {1000, 1050, 1100, 1150, 1200}, starts(out));
    assertArrayEquals(ramp(150, 100), out.get(3).samples());
    assertArrayEquals(ramp(200, 60), out.get(4).samples()); // new audio 250..260 -> final window
    // a tail already covered by the previous window is not emitted again
    Segmenter t = new Segmenter(100, 50, 30);
    List<AudioWindow> o2 = oneRun(t, 0, 100);
    assertEquals(1, o2.size());
    assertEquals(0, t.droppedTailSamples());
  }

  @Test
  void aNewRunStartsAFreshWindow() {
    Segmenter s = new Segmenter(100, 100, 30);
    List<AudioWindow> out = new ArrayList<>();
    s.startRun(0, out::add);
    s.accept(ramp(0, 150), 0, 150, out::add);
    s.startRun(5000, out::add); // ends the first run: its 50-sample tail is a final window
    s.accept(ramp(9000, 120), 0, 120, out::add);
    s.endRun(out::add);
    assertArrayEquals(new long[] {0, 100, 5000}, starts(out));
    assertEquals(50, out.get(1).length());
    assertArrayEquals(ramp(9000, 100), out.get(2).samples());
    assertEquals(20, s.droppedTailSamples());
    assertThrows(IllegalArgumentException.class, () -> s.startRun(5050, out::add));
  }

  @Test
  void chunkingDoesNotMatterAndStateRoundTrips() {
    float[] x = Signals.noiseAndTones(16000, 41_000, 9);
    List<AudioWindow> whole = new ArrayList<>();
    Segmenter a = new Segmenter(16000, 8000, 4000);
    a.startRun(160, whole::add);
    a.accept(x, 0, x.length, whole::add);
    a.endRun(whole::add);

    List<AudioWindow> chunked = new ArrayList<>();
    Segmenter b = new Segmenter(16000, 8000, 4000);
    b.startRun(160, chunked::add);
    Random rnd = new Random(1);
    int pos = 0;
    while (pos < x.length) {
      int n = Math.min(1 + rnd.nextInt(700), x.length - pos);
      b = Segmenter.fromBytes(b.toBytes());
      b.accept(x, pos, n, chunked::add);
      pos += n;
    }
    b = Segmenter.fromBytes(b.toBytes());
    b.endRun(chunked::add);
    assertEquals(whole.size(), chunked.size());
    for (int i = 0; i < whole.size(); i++) {
      assertEquals(whole.get(i).startSample(), chunked.get(i).startSample());
      assertArrayEquals(whole.get(i).samples(), chunked.get(i).samples());
    }
    assertEquals(5, whole.size()); // 160 + {0, 8000, 16000, 24000} full, then 160 + [32000, 41000) partial
    assertEquals(9000, whole.get(4).length());
    assertEquals(160 + 32000, whole.get(4).startSample());
  }

  @Test
  void invalidSettingsAndStates() {
    assertThrows(IllegalArgumentException.class, () -> new Segmenter(100, 101, 10));
    assertThrows(IllegalArgumentException.class, () -> new Segmenter(100, 0, 10));
    assertThrows(IllegalArgumentException.class, () -> new Segmenter(100, 50, 0));
    Segmenter s = new Segmenter(100, 100, 10);
    assertThrows(IllegalStateException.class, () -> s.accept(new float[1], 0, 1, w -> { }));
    byte[] blob = s.toBytes();
    byte[] v3 = blob.clone();
    v3[3] = 3;
    AudioStateException e = assertThrows(AudioStateException.class, () -> Segmenter.fromBytes(v3));
    assertTrue(e.getMessage().contains("version 3"), e.getMessage());
    byte[] hop = blob.clone();
    hop[12] = (byte) 200; // hop > window: segmenter header 4 + planner header 4 + window int 4

    e = assertThrows(AudioStateException.class, () -> Segmenter.fromBytes(hop));
    assertTrue(e.getMessage().contains("hop"), e.getMessage());
    assertThrows(AudioStateException.class, () -> Segmenter.fromBytes(Arrays.copyOf(blob, blob.length + 2)));
  }
}
