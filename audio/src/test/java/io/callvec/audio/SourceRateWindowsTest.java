package io.callvec.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Property: the source-rate mode ({@link ChannelFrontEnd#createSourceBlocks}, audio kept as
 * received, windows computed with {@link Resampler#render} when cut) gives the same windows, bit
 * for bit, as the positional mode that resamples every chunk (the previous stream path, the
 * reference here), over random streams with losses, long gaps (new runs), reordering, duplicates,
 * partial final windows, several source rates and all three encodings; both front ends are
 * restored from their state bytes before every chunk, as the stream does.
 */
class SourceRateWindowsTest {

  private static final int[] RATES = {8_000, 16_000, 11_025, 12_000, 44_100, 48_000, 4_000};

  /** A window as announced, with its audio. */
  private record Win(long index, long start, int length, boolean partial, float[] audio) {}

  /** The reference: 16 kHz blocks kept on a timeline, windows read from it. */
  private static final class Reference implements WindowPlanner.Listener {
    final TreeMap<Long, float[]> blocks = new TreeMap<>();
    final List<Win> windows = new ArrayList<>();

    @Override
    public void block(long startSample, float[] samples, int offset, int length) {
      blocks.put(startSample, Arrays.copyOfRange(samples, offset, offset + length));
    }

    @Override
    public void window(long index, long startSample, int lengthSamples, boolean partial) {
      float[] out = new float[lengthSamples];
      int filled = 0;
      for (Map.Entry<Long, float[]> e : blocks.tailMap(startSample, true).entrySet()) {
        if (filled == lengthSamples) {
          break;
        }
        assertEquals(startSample + filled, (long) e.getKey(), "reference blocks are contiguous");
        int n = Math.min(e.getValue().length, lengthSamples - filled);
        System.arraycopy(e.getValue(), 0, out, filled, n);
        filled += n;
      }
      assertEquals(lengthSamples, filled);
      windows.add(new Win(index, startSample, lengthSamples, partial, out));
    }
  }

  /** The new path: each run's source samples, windows rendered from them when announced. */
  private static final class SourceSide implements ChannelFrontEnd.SourceListener {
    final int rate;
    final TreeMap<Long, float[]> runs = new TreeMap<>(); // run start (16 kHz) -> source samples
    final Map<Long, Integer> runLengths = new TreeMap<>();
    final List<Win> windows = new ArrayList<>();
    long lastRunSourceStart = -1;

    SourceSide(int rate) {
      this.rate = rate;
    }

    @Override
    public void sourceBlock(long runStart16k, long runStartSource, long runOffset, float[] samples, int offset, int length) {
      assertTrue(length >= 1);
      float[] run = runs.computeIfAbsent(runStart16k, k -> new float[1024]);
      int have = runLengths.getOrDefault(runStart16k, 0);
      if (have == 0) {
        assertTrue(runStartSource > lastRunSourceStart, "runs follow each other on the source timeline");
        lastRunSourceStart = runStartSource;
      }
      assertEquals(have, runOffset, "a run's blocks are contiguous");
      if (have + length > run.length) {
        run = Arrays.copyOf(run, Math.max(2 * run.length, have + length));
        runs.put(runStart16k, run);
      }
      System.arraycopy(samples, offset, run, have, length);
      runLengths.put(runStart16k, have + length);
    }

    @Override
    public void window(long index, long startSample, int lengthSamples, boolean partial) {
      Map.Entry<Long, float[]> run = runs.floorEntry(startSample);
      float[] out = new float[lengthSamples];
      Resampler.render(rate, run.getValue(), 0, runLengths.get(run.getKey()), startSample - run.getKey(), lengthSamples, out, 0);
      windows.add(new Win(index, startSample, lengthSamples, partial, out));
    }
  }

  @Test
  void randomStreamsGiveBitIdenticalWindowsAtEverySourceRate() {
    Random seeds = new Random(20261202);
    int streams = 0;
    long windows = 0;
    for (int rate : RATES) {
      for (Encoding enc : Encoding.values()) {
        for (int k = 0; k < 3; k++) {
          windows += compare(rate, enc, seeds.nextLong());
          streams++;
        }
      }
    }
    assertEquals(RATES.length * 9, streams);
    assertTrue(windows > 500, "the streams cut enough windows to mean something: " + windows);
  }

  /** Feeds one random stream to both front ends; returns the number of windows compared. */
  private static int compare(int rate, Encoding enc, long seed) {
    Random rnd = new Random(seed);
    int windowMs = 200 + rnd.nextInt(600);
    int hopMs = Math.max(10, windowMs / (1 + rnd.nextInt(3)));
    FrontEndConfig cfg = new FrontEndConfig(AudioDecoder.DEFAULT_MAX_PAYLOAD_BYTES, 60, 100, 5, windowMs, hopMs, 50 + rnd.nextInt(100));
    List<AudioChunk> chunks = randomStream(rnd, rate, enc);
    Reference ref = new Reference();
    SourceSide src = new SourceSide(rate);
    byte[] refState = ChannelFrontEnd.createPositional(enc, rate, cfg).toBytes();
    byte[] srcState = ChannelFrontEnd.createSourceBlocks(enc, rate, cfg).toBytes();
    for (AudioChunk c : chunks) {
      ChannelFrontEnd r = ChannelFrontEnd.fromBytes(refState);
      r.accept(c.sequenceNumber(), c.timestampMs(), c.payload(), ref);
      refState = r.toBytes();
      ChannelFrontEnd s = ChannelFrontEnd.fromBytes(srcState);
      s.accept(c.sequenceNumber(), c.timestampMs(), c.payload(), src);
      srcState = s.toBytes();
      assertEquals(r.timelineEnd16k(), s.timelineEnd16k(), "same 16 kHz timeline");
      assertEquals(r.nextWindowStart16k(), s.nextWindowStart16k());
      assertEquals(r.counters(), s.counters());
      assertEquals(ref.windows.size(), src.windows.size(), "windows are cut at the same chunk");
    }
    ChannelFrontEnd r = ChannelFrontEnd.fromBytes(refState);
    r.finish(ref);
    ChannelFrontEnd s = ChannelFrontEnd.fromBytes(srcState);
    s.finish(src);
    assertEquals(r.counters(), s.counters());
    String what = enc + " at " + rate + " Hz, seed " + seed;
    assertEquals(ref.windows.size(), src.windows.size(), what);
    assertTrue(ref.windows.size() >= 2, what + ": too few windows");
    boolean partial = false;
    for (int i = 0; i < ref.windows.size(); i++) {
      Win a = ref.windows.get(i);
      Win b = src.windows.get(i);
      assertEquals(a.index(), b.index(), what);
      assertEquals(a.start(), b.start(), what + " window " + i);
      assertEquals(a.length(), b.length(), what + " window " + i);
      assertEquals(a.partial(), b.partial(), what + " window " + i);
      assertArrayEquals(bits(a.audio()), bits(b.audio()), what + " window " + i + ": samples differ");
      partial |= a.partial();
    }
    assertTrue(partial || src.runs.size() >= 1, what);
    assertTrue(srcState.length < refState.length, what + ": source-rate state " + srcState.length + " B, reference " + refState.length + " B");
    return ref.windows.size();
  }

  /** 20 ms chunks (jittered lengths), with losses, long gaps, swaps and duplicates. */
  private static List<AudioChunk> randomStream(Random rnd, int rate, Encoding enc) {
    List<AudioChunk> out = new ArrayList<>();
    long ms = rnd.nextInt(3) == 0 ? 150 + rnd.nextInt(200) : 0; // sometimes a late start (first run not at 0)
    int n = 60 + rnd.nextInt(120);
    for (int seq = 0; seq < n; seq++) {
      int chunkMs = 20;
      int samples = (int) ((ms + chunkMs) * rate / 1000 - ms * rate / 1000);
      byte[] payload = new byte[samples * enc.bytesPerSample()];
      rnd.nextBytes(payload);
      int p = rnd.nextInt(100);
      if (p < 6) {
        ms += chunkMs; // lost: a short gap (filled)
        continue;
      }
      if (p < 9) {
        ms += 150 + rnd.nextInt(300); // a long gap: a new run
      }
      out.add(new AudioChunk(seq, ms, enc, rate, payload));
      if (p >= 97) {
        out.add(new AudioChunk(seq, ms, enc, rate, payload)); // duplicate
      }
      ms += chunkMs;
    }
    for (int i = 0; i + 1 < out.size(); i++) {
      if (rnd.nextInt(12) == 0) {
        Collections.swap(out, i, i + 1); // reordered within the lateness
      }
    }
    return out;
  }

  private static int[] bits(float[] x) {
    int[] b = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      b[i] = Float.floatToRawIntBits(x[i]);
    }
    return b;
  }

  @Test
  void aCompactFormStoresDecodedSamplesExactlyAndRefusesOthers() {
    for (Encoding enc : Encoding.values()) {
      int form = SampleCodec.compactFormOf(enc);
      byte[] payload = new byte[enc == Encoding.PCM_S16LE ? 65536 * 2 : 256];
      for (int i = 0; i < payload.length / enc.bytesPerSample(); i++) {
        if (enc == Encoding.PCM_S16LE) {
          payload[2 * i] = (byte) i;
          payload[2 * i + 1] = (byte) (i >> 8);
        } else {
          payload[i] = (byte) i;
        }
      }
      float[] decoded = AudioDecoder.decode(enc, payload);
      byte[] stored = new byte[decoded.length * SampleCodec.bytesPerSample(form)];
      assertEquals(form, SampleCodec.formFor(enc, decoded, 0, decoded.length, new byte[decoded.length * 4]));
      assertTrue(SampleCodec.encode(form, decoded, 0, decoded.length, stored, 0), enc.toString());
      float[] back = new float[decoded.length];
      SampleCodec.decode(form, stored, 0, back.length, back, 0);
      assertArrayEquals(bits(decoded), bits(back), enc + ": every code round-trips");
      float[] silence = new float[7]; // gap fill
      assertEquals(SampleCodec.SILENCE, SampleCodec.formFor(enc, silence, 0, 7, new byte[28]));
      float[] zeros = {1f, 1f};
      SampleCodec.decode(SampleCodec.SILENCE, new byte[0], 0, 2, zeros, 0);
      assertArrayEquals(new float[2], zeros);
      float[] filtered = {0.123456789f};
      assertFalse(SampleCodec.encode(form, filtered, 0, 1, new byte[4], 0), enc + ": not a code");
      assertEquals(SampleCodec.FLOAT32, SampleCodec.formFor(enc, filtered, 0, 1, new byte[4]));
      byte[] f32 = new byte[4];
      assertTrue(SampleCodec.encode(SampleCodec.FLOAT32, filtered, 0, 1, f32, 0));
      float[] one = new float[1];
      SampleCodec.decode(SampleCodec.FLOAT32, f32, 0, 1, one, 0);
      assertEquals(Float.floatToRawIntBits(filtered[0]), Float.floatToRawIntBits(one[0]));
    }
    assertThrows(IllegalArgumentException.class, () -> SampleCodec.bytesPerSample(9));
  }
}
