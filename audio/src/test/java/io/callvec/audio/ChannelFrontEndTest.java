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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The whole chain through the facade: decode, assemble, resample, segment, state, errors. */
class ChannelFrontEndTest {

  private static final Logger LOG = LoggerFactory.getLogger(ChannelFrontEndTest.class);

  /** A speech-like test signal: harmonics of a gliding pitch under a syllable envelope, plus noise. */
  static float[] speechLike(int rate, int n, long seed) {
    Random rnd = new Random(seed);
    float[] x = new float[n];
    double phase = 0;
    for (int i = 0; i < n; i++) {
      double t = (double) i / rate;
      double f0 = 120 + 40 * Math.sin(2 * Math.PI * 0.7 * t);
      phase += 2 * Math.PI * f0 / rate;
      double env = Math.max(0, Math.sin(2 * Math.PI * 3.5 * t));
      double v = 0;
      for (int h = 1; h <= 12; h++) {
        v += Math.sin(h * phase) / h;
      }
      x[i] = (float) (0.25 * env * v + 0.01 * rnd.nextGaussian());
    }
    return x;
  }

  static byte[] mulaw(float[] x) {
    byte[] b = new byte[x.length];
    for (int i = 0; i < x.length; i++) {
      b[i] = (byte) G711.pcm16ToMulaw(Math.round(x[i] * 32767));
    }
    return b;
  }

  static List<AudioChunk> chunks(byte[] payload, Encoding enc, int rate, int chunkMs) {
    List<AudioChunk> out = new ArrayList<>();
    int bps = enc.bytesPerSample();
    for (int k = 0; ; k++) {
      long from = (long) k * chunkMs * rate / 1000;
      long to = Math.min((long) (k + 1) * chunkMs * rate / 1000, payload.length / bps);
      if (from >= to) {
        return out;
      }
      out.add(new AudioChunk(k, (long) k * chunkMs, enc, rate,
          Arrays.copyOfRange(payload, (int) from * bps, (int) to * bps)));
    }
  }

  static float[] concat(List<AudioWindow> windows) {
    int n = windows.stream().mapToInt(AudioWindow::length).sum();
    float[] out = new float[n];
    int pos = 0;
    for (AudioWindow w : windows) {
      System.arraycopy(w.samples(), 0, out, pos, w.length());
      pos += w.length();
    }
    return out;
  }

  @Test
  void shuffledDuplicatedMuLawStreamGivesTheWholeSignalResampled() {
    float[] signal = speechLike(8000, 8000 * 12 + 2400, 1); // 12.3 s
    byte[] ul = mulaw(signal);
    List<AudioChunk> stream = new ArrayList<>(chunks(ul, Encoding.MULAW, 8000, 20));
    Random rnd = new Random(2);
    for (int i = 0; i + 8 <= stream.size(); i += 8) {
      Collections.shuffle(stream.subList(i, i + 8), rnd); // reordered within 160 ms
    }
    stream.add(200, stream.get(100)); // a duplicate
    ChannelFrontEnd fe = ChannelFrontEnd.create(Encoding.MULAW, 8000, FrontEndConfig.DEFAULTS);
    List<AudioWindow> windows = new ArrayList<>();
    int stateBytesMax = 0;
    for (AudioChunk c : stream) {
      byte[] state = fe.toBytes();
      stateBytesMax = Math.max(stateBytesMax, state.length);
      fe = ChannelFrontEnd.fromBytes(state); // a restart before every chunk
      windows.addAll(fe.accept(c));
    }
    windows.addAll(ChannelFrontEnd.fromBytes(fe.toBytes()).finish());

    assertEquals(3, windows.size());
    assertArrayEquals(new long[] {0, 80_000, 160_000}, windows.stream().mapToLong(AudioWindow::startSample).toArray());
    assertEquals(36_800, windows.get(2).length());
    assertTrue(windows.get(2).partial());
    // exactly the decoded signal resampled in one go
    float[] expected = Signals.resampleWhole(8000, AudioDecoder.decode(Encoding.MULAW, ul));
    assertArrayEquals(expected, concat(windows));
    LOG.info("front-end state, 8 kHz mu-law, 5 s windows: at most {} bytes between chunks", stateBytesMax);
    assertTrue(stateBytesMax < 5 * 16000 * 4 + 8000 * 4 + 4096, "state " + stateBytesMax + " bytes");
  }

  @Test
  void countersAndALongGapStartingAFreshWindow() {
    float[] signal = speechLike(8000, 8000 * 9, 3);
    byte[] ul = mulaw(signal);
    List<AudioChunk> all = chunks(ul, Encoding.MULAW, 8000, 20);
    ChannelFrontEnd fe = ChannelFrontEnd.create(Encoding.MULAW, 8000, FrontEndConfig.DEFAULTS);
    List<AudioWindow> windows = new ArrayList<>();
    for (AudioChunk c : all) {
      long ms = c.timestampMs();
      if (ms >= 3000 && ms < 6000) {
        continue; // 3 s without audio: a new run
      }
      if (ms == 1000) {
        continue; // one lost frame: filled with 20 ms of silence
      }
      windows.addAll(fe.accept(c));
    }
    windows.addAll(fe.accept(all.get(10))); // sequence number already accepted: duplicate
    windows.addAll(fe.accept(all.get(11))); // duplicate
    windows.addAll(fe.accept(all.get(50))); // the lost frame at 1000 ms, long after its gap was filled: late
    windows.addAll(fe.finish());
    assertArrayEquals(new long[] {0, 96_000}, windows.stream().mapToLong(AudioWindow::startSample).toArray());
    assertEquals(48_000, windows.get(0).length());
    assertEquals(48_000, windows.get(1).length());
    FrontEndCounters c = fe.counters();
    assertEquals(1, c.gapsFilled());
    assertEquals(160, c.gapFilledSamples());
    assertEquals(1, c.longGaps());
    assertEquals(2, c.runs());
    assertEquals(2, c.duplicateChunks());
    assertEquals(1, c.lateChunks());
    assertEquals(160, c.lateSamples());
    assertEquals(2, c.windows());
    assertEquals(2, c.partialWindows());
    assertEquals(96_000, c.outputSamples());
    // the second run is the second run's audio resampled on its own (no filter smear across the gap)
    float[] run2 = AudioDecoder.decode(Encoding.MULAW, Arrays.copyOfRange(ul, 48_000, 72_000));
    assertArrayEquals(Signals.resampleWhole(8000, run2), windows.get(1).samples());
  }

  @Test
  void sixteenKilohertzPcmPassesThroughUntouched() {
    float[] signal = speechLike(16000, 16000 * 6, 4);
    byte[] pcm = new byte[signal.length * 2];
    for (int i = 0; i < signal.length; i++) {
      int v = Math.round(signal[i] * 32767);
      pcm[2 * i] = (byte) v;
      pcm[2 * i + 1] = (byte) (v >> 8);
    }
    ChannelFrontEnd fe = ChannelFrontEnd.create(Encoding.PCM_S16LE, 16000, FrontEndConfig.DEFAULTS);
    List<AudioWindow> windows = new ArrayList<>();
    for (AudioChunk c : chunks(pcm, Encoding.PCM_S16LE, 16000, 20)) {
      windows.addAll(fe.accept(c));
    }
    assertEquals(1, windows.size()); // the first 5 s, emitted as soon as complete
    windows.addAll(fe.finish());
    assertArrayEquals(AudioDecoder.decode(Encoding.PCM_S16LE, pcm), concat(windows));
  }

  @Test
  void otherRatesAndAlawThroughTheChain() {
    for (int rate : new int[] {11025, 12000, 22050, 24000, 32000, 44100, 48000}) {
      float[] signal = speechLike(rate, rate * 3, rate);
      byte[] al = new byte[signal.length];
      for (int i = 0; i < al.length; i++) {
        al[i] = (byte) G711.pcm16ToAlaw(Math.round(signal[i] * 32767));
      }
      ChannelFrontEnd fe = ChannelFrontEnd.create(Encoding.ALAW, rate, FrontEndConfig.DEFAULTS);
      List<AudioWindow> windows = new ArrayList<>();
      for (AudioChunk c : chunks(al, Encoding.ALAW, rate, 20)) {
        windows.addAll(fe.accept(c));
      }
      windows.addAll(fe.finish());
      float[] expected = Signals.resampleWhole(rate, AudioDecoder.decode(Encoding.ALAW, al, 1 << 20));
      assertArrayEquals(expected, concat(windows), rate + " Hz");
      assertEquals(0, fe.counters().gapFilledSamples() + fe.counters().overlapSamples(), rate + " Hz");
    }
  }

  @Test
  void badChunksAreRejectedWithTypedReasonsAndLeaveTheStateAlone() {
    ChannelFrontEnd fe = ChannelFrontEnd.create(Encoding.PCM_S16LE, 8000,
        FrontEndConfig.DEFAULTS.withMaxPayloadBytes(640));
    fe.accept(0, 0, new byte[320]);
    byte[] before = fe.toBytes();
    assertReason(Reason.PARTIAL_SAMPLE, () -> fe.accept(1, 20, new byte[321]));
    assertReason(Reason.EMPTY_PAYLOAD, () -> fe.accept(1, 20, new byte[0]));
    assertReason(Reason.EMPTY_PAYLOAD, () -> fe.accept(1, 20, null));
    assertReason(Reason.PAYLOAD_TOO_LARGE, () -> fe.accept(1, 20, new byte[642]));
    assertReason(Reason.BAD_TIMESTAMP, () -> fe.accept(1, -1, new byte[320]));
    assertReason(Reason.BAD_SEQUENCE_NUMBER, () -> fe.accept(-5, 20, new byte[320]));
    assertReason(Reason.FORMAT_CHANGED, () -> fe.accept(new AudioChunk(1, 20, Encoding.MULAW, 8000, new byte[160])));
    assertReason(Reason.FORMAT_CHANGED, () -> fe.accept(new AudioChunk(1, 20, Encoding.PCM_S16LE, 16000, new byte[160])));
    assertReason(Reason.UNKNOWN_ENCODING, () -> fe.accept(new AudioChunk(1, 20, null, 8000, new byte[160])));
    assertArrayEquals(before, fe.toBytes());
    assertReason(Reason.UNSUPPORTED_SAMPLE_RATE, () -> ChannelFrontEnd.create(Encoding.MULAW, 1000, FrontEndConfig.DEFAULTS));
    assertReason(Reason.UNKNOWN_ENCODING, () -> ChannelFrontEnd.create(null, 8000, FrontEndConfig.DEFAULTS));
    fe.finish();
    assertThrows(IllegalStateException.class, () -> fe.accept(1, 20, new byte[320]));
    assertEquals(List.of(), fe.finish());
    assertTrue(ChannelFrontEnd.fromBytes(fe.toBytes()).isFinished());
  }

  @Test
  void badStateBlobs() {
    byte[] good = ChannelFrontEnd.create(Encoding.MULAW, 8000, FrontEndConfig.DEFAULTS).toBytes();
    byte[] enc = good.clone();
    enc[4] = 9;
    AudioStateException e = assertThrows(AudioStateException.class, () -> ChannelFrontEnd.fromBytes(enc));
    assertTrue(e.getMessage().contains("encoding code 9"), e.getMessage());
    byte[] nested = good.clone();
    nested[38] = 'X'; // kind byte of the nested assembler state: header 4 + 1 + 4 * 8 + 1 = 38, +2
    e = assertThrows(AudioStateException.class, () -> ChannelFrontEnd.fromBytes(nested));
    assertTrue(e.getMessage().contains("assembler"), e.getMessage());
    e = assertThrows(AudioStateException.class, () -> ChannelFrontEnd.fromBytes(new byte[] {'C', 'V', 'F', 2}));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  private static void assertReason(Reason reason, Runnable r) {
    AudioFormatException e = assertThrows(AudioFormatException.class, r::run);
    assertEquals(reason, e.reason(), e.getMessage());
  }
}
