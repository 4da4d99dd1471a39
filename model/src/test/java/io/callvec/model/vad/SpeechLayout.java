package io.callvec.model.vad;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A synthetic call channel with known speech boundaries: real recordings placed one after the
 * other, separated by gaps of digital silence or of telephone line noise, optionally μ-law coded.
 * The ground truth of each recording is its span between the first and the last 10 ms block
 * within 25 dB of its loudest block (the files' own leading and trailing silence is not speech).
 */
final class SpeechLayout {
  /**
   * Range below a recording's loudest 10 ms block that still counts as its speech: 25 dB. The
   * LibriVox files' noise floor (breaths, MP3 noise) sits 30–37 dB below their peaks, so a wider
   * range would call it speech.
   */
  static final double TRUTH_RANGE_DB = 25;

  final int sampleRateHz;
  private float[] samples = new float[0];
  private int length;
  private final List<int[]> speech = new ArrayList<>(); // [start, end) in samples

  SpeechLayout(int sampleRateHz) {
    this.sampleRateHz = sampleRateHz;
  }

  int length() {
    return length;
  }

  float[] samples() {
    return java.util.Arrays.copyOf(samples, length);
  }

  List<int[]> speech() {
    return speech;
  }

  private void ensure(int n) {
    if (length + n > samples.length) {
      samples = java.util.Arrays.copyOf(samples, Math.max(2 * samples.length, length + n));
    }
  }

  /** Appends {@code ms} of digital silence. */
  SpeechLayout silence(int ms) {
    int n = ms * sampleRateHz / 1000;
    ensure(n);
    length += n;
    return this;
  }

  /** Appends a recording and records its speech span. */
  SpeechLayout speech(float[] recording) {
    int[] span = span(recording, sampleRateHz);
    ensure(recording.length);
    System.arraycopy(recording, 0, samples, length, recording.length);
    speech.add(new int[] {length + span[0], length + span[1]});
    length += recording.length;
    return this;
  }

  /**
   * Adds telephone line noise over [from, to): white Gaussian noise through a one-pole high-pass
   * (≈ 300 Hz) plus a 50 Hz hum, scaled together to an RMS of {@code dbfs} relative to full
   * scale 1.0.
   */
  SpeechLayout lineNoise(int from, int to, double dbfs, long seed) {
    Random r = new Random(seed);
    double rms = Math.pow(10, dbfs / 20);
    double a = Math.exp(-2 * Math.PI * 300.0 / sampleRateHz);
    double prevIn = 0;
    double prevOut = 0;
    double[] noise = new double[to - from];
    double sumSq = 0;
    for (int i = 0; i < noise.length; i++) {
      double w = r.nextGaussian();
      double hp = a * (prevOut + w - prevIn);
      prevIn = w;
      prevOut = hp;
      noise[i] = hp + 0.3 * Math.sin(2 * Math.PI * 50.0 * i / sampleRateHz);
      sumSq += noise[i] * noise[i];
    }
    double scale = rms / Math.sqrt(sumSq / Math.max(1, noise.length));
    for (int i = 0; i < noise.length; i++) {
      samples[from + i] += (float) (noise[i] * scale);
    }
    return this;
  }

  /** Per-frame truth: a frame is speech when most of its samples lie in a speech span. */
  boolean[] truth(int frameSamples) {
    boolean[] inSpeech = new boolean[length];
    for (int[] s : speech) {
      for (int i = s[0]; i < s[1]; i++) {
        inSpeech[i] = true;
      }
    }
    boolean[] frames = new boolean[length / frameSamples];
    for (int f = 0; f < frames.length; f++) {
      int n = 0;
      for (int i = f * frameSamples; i < (f + 1) * frameSamples; i++) {
        n += inSpeech[i] ? 1 : 0;
      }
      frames[f] = 2 * n > frameSamples;
    }
    return frames;
  }

  /** [first, last) sample of the 10 ms blocks within {@value #TRUTH_RANGE_DB} dB of the loudest block. */
  static int[] span(float[] x, int rate) {
    int block = rate / 100;
    int blocks = x.length / block;
    double[] energy = new double[blocks];
    double max = 0;
    for (int b = 0; b < blocks; b++) {
      double e = 0;
      for (int i = b * block; i < (b + 1) * block; i++) {
        e += (double) x[i] * x[i];
      }
      energy[b] = e / block;
      max = Math.max(max, energy[b]);
    }
    double floor = max * Math.pow(10, -TRUTH_RANGE_DB / 10.0);
    int first = 0;
    while (first < blocks && energy[first] < floor) {
      first++;
    }
    int last = blocks - 1;
    while (last > first && energy[last] < floor) {
      last--;
    }
    return new int[] {first * block, Math.min(x.length, (last + 1) * block)};
  }
}
