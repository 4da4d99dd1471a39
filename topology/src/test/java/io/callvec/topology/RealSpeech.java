package io.callvec.topology;

import io.callvec.audio.Encoding;
import io.callvec.audio.G711;
import io.callvec.audio.WavFile;
import io.callvec.model.vad.SileroVad;
import io.callvec.model.vad.TestAudio;
import io.callvec.schemas.AudioEncoding;
import io.callvec.topology.chunks.Recording;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Telephone channels with known speech and silence, from real recordings: Debian's Asterisk
 * prompts (asterisk-core-sounds-en-wav, 8 kHz PCM16, CC-BY-SA-3.0) laid out block by block, with
 * blocks of digital silence or telephone line noise between them, μ-law coded as a telephony source
 * sends them. A missing package or VAD model fails under CI ({@code CI} set) and skips elsewhere,
 * naming the install command (model's {@link TestAudio} finds both).
 */
final class RealSpeech {
  static final int RATE = 8_000;

  /** What a block of the layout holds. */
  enum Block { SPEECH, SILENCE, NOISE }

  private RealSpeech() {}

  static SileroVad vad() {
    return TestAudio.vad();
  }

  /**
   * 8 kHz samples: each block {@code blockMs} long (the last one {@code lastBlockMs}); a speech
   * block is prompts played back to back from {@code firstPrompt} on (cut at the block's end), a
   * noise block is line noise at {@code noiseDbfs} (high-passed white noise + 50 Hz hum).
   */
  static float[] layout(List<Block> blocks, int blockMs, int lastBlockMs, int firstPrompt, double noiseDbfs, long seed) throws IOException {
    List<Path> prompts = TestAudio.asteriskPrompts();
    List<Float> out = new ArrayList<>();
    int next = firstPrompt;
    Random r = new Random(seed);
    for (int b = 0; b < blocks.size(); b++) {
      int n = (b == blocks.size() - 1 ? lastBlockMs : blockMs) * RATE / 1000;
      float[] block = new float[n];
      switch (blocks.get(b)) {
        case SPEECH -> {
          int filled = 0;
          while (filled < n) {
            WavFile w = WavFile.read(prompts.get(next++ % prompts.size()));
            if (w.sampleRateHz() != RATE) {
              continue;
            }
            float[] p = w.decodeChannel(0);
            int k = Math.min(p.length, n - filled);
            System.arraycopy(p, 0, block, filled, k);
            filled += k;
          }
        }
        case NOISE -> {
          double a = Math.exp(-2 * Math.PI * 300.0 / RATE);
          double prevIn = 0;
          double prevOut = 0;
          double rms = Math.pow(10, noiseDbfs / 20);
          for (int i = 0; i < n; i++) {
            double x = r.nextGaussian();
            double y = a * (prevOut + x - prevIn);
            prevIn = x;
            prevOut = y;
            block[i] = (float) (rms * (y + 0.5 * Math.sin(2 * Math.PI * 50 * i / RATE)));
          }
        }
        case SILENCE -> { }
      }
      for (float f : block) {
        out.add(f);
      }
    }
    float[] pcm = new float[out.size()];
    for (int i = 0; i < pcm.length; i++) {
      pcm[i] = out.get(i);
    }
    return pcm;
  }

  /** The layout as the μ-law stream a telephony source would send. */
  static Recording mulaw(String callId, int channel, float[] pcm8k) {
    return new Recording(callId, channel, channel == 0 ? "agent" : "customer", AudioEncoding.MULAW, RATE, G711.encode(Encoding.MULAW, pcm8k));
  }
}
