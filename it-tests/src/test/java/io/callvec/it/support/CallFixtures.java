package io.callvec.it.support;

import io.callvec.audio.AudioWindow;
import io.callvec.audio.ChannelFrontEnd;
import io.callvec.audio.Encoding;
import io.callvec.audio.G711;
import io.callvec.demo.CallPlayer;
import io.callvec.demo.SyntheticSpeech;
import io.callvec.model.EmbeddingModel;
import io.callvec.model.ModelLoadException;
import io.callvec.model.ModelOptions;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.topology.TopologySettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Synthetic calls and what the app must make of them: the input side of the end-to-end and
 * reliability tests.
 */
public final class CallFixtures {
  private static EmbeddingModel model;

  private CallFixtures() {}

  /** The bundled fixture model (tiny, random weights), loaded once per JVM and never closed. */
  public static synchronized EmbeddingModel fixtureModel() {
    if (model == null) {
      try {
        model = EmbeddingModel.loadBundledFixture(ModelOptions.defaults());
      } catch (ModelLoadException e) {
        throw new IllegalStateException("cannot load the bundled fixture model: " + e.getMessage(), e);
      }
    }
    return model;
  }

  /**
   * Two-channel synthetic calls (μ-law, 8 kHz): call {@code c} lasts {@code baseMs + stepMs × c} ms on
   * the agent channel (0) and 300 ms more on the customer channel (1), so final windows differ.
   *
   * @param baseMs duration of call 0's agent channel, ms
   * @param stepMs extra duration per call index, ms
   */
  public static List<CallPlayer.Stream> twoChannelCalls(String prefix, int calls, long baseMs, long stepMs) {
    List<CallPlayer.Stream> out = new ArrayList<>();
    for (int c = 0; c < calls; c++) {
      for (int ch = 0; ch < 2; ch++) {
        float[] pcm = SyntheticSpeech.generate(1000L * c + ch, 8000, baseMs + stepMs * c + 300L * ch);
        out.add(new CallPlayer.Stream(prefix + "-call-" + c, ch, ch == 0 ? "agent" : "customer", AudioEncoding.MULAW, 8000,
            G711.encode(Encoding.MULAW, pcm)));
      }
    }
    return out;
  }

  /** The expected segments of {@code streams}: key {@link #segmentKey} → the model's vector for that window. */
  public static Map<String, float[]> expectedSegments(List<CallPlayer.Stream> streams, TopologySettings settings) {
    Map<String, float[]> out = new LinkedHashMap<>();
    EmbeddingModel m = fixtureModel();
    for (CallPlayer.Stream s : streams) {
      for (AudioWindow w : windows(s, settings)) {
        try {
          out.put(segmentKey(s.callId(), s.channelIndex(), w.startSample(), w.endSample()), m.embed(w.samples()));
        } catch (Exception e) {
          throw new IllegalStateException("fixture model failed on " + s.callId() + "/" + s.channelIndex() + ": " + e, e);
        }
      }
    }
    return out;
  }

  /** The windows the offline front end (the same code as the stream's) cuts from one stream. */
  public static List<AudioWindow> windows(CallPlayer.Stream s, TopologySettings settings) {
    ChannelFrontEnd fe = ChannelFrontEnd.create(Encoding.MULAW, s.sampleRateHz(), settings.frontEnd());
    List<AudioWindow> windows = new ArrayList<>();
    for (AudioChunk c : CallPlayer.chunks(s, CallPlayer.Options.realTime())) {
      byte[] b = new byte[c.getPayload().remaining()];
      c.getPayload().duplicate().get(b);
      if (b.length > 0) {
        windows.addAll(fe.accept(c.getSequenceNumber(), c.getMediaTimestampMs(), b));
      }
    }
    windows.addAll(fe.finish());
    return windows;
  }

  /** Identity of a segment: {@code <call id>/<channel>/<start>-<end>} (16 kHz samples). */
  public static String segmentKey(String callId, int channel, long startSample16k, long endSample16k) {
    return callId + "/" + channel + "/" + startSample16k + "-" + endSample16k;
  }

  /** Identity of a stream: {@code <call id>/<channel>}. */
  public static String streamKey(String callId, int channel) {
    return callId + "/" + channel;
  }

  /** Cosine similarity of two vectors of equal length. */
  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("vectors of " + a.length + " and " + b.length + " floats");
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
