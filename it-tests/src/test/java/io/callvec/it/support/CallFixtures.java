package io.callvec.it.support;

import io.callvec.audio.AudioFormatException;
import io.callvec.audio.AudioWindow;
import io.callvec.audio.Encoding;
import io.callvec.audio.G711;
import io.callvec.audio.SyntheticSpeech;
import io.callvec.model.EmbeddingModel;
import io.callvec.model.ModelLoadException;
import io.callvec.model.ModelOptions;
import io.callvec.schemas.AudioEncoding;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.OfflineWindows;
import io.callvec.topology.chunks.Recording;
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
  public static List<Recording> twoChannelCalls(String prefix, int calls, long baseMs, long stepMs) {
    List<Recording> out = new ArrayList<>();
    for (int c = 0; c < calls; c++) {
      for (int ch = 0; ch < 2; ch++) {
        float[] pcm = SyntheticSpeech.generate(1000L * c + ch, 8000, baseMs + stepMs * c + 300L * ch);
        out.add(new Recording(prefix + "-call-" + c, ch, ch == 0 ? "agent" : "customer", AudioEncoding.MULAW, 8000,
            G711.encode(Encoding.MULAW, pcm)));
      }
    }
    return out;
  }

  /** The expected segments of {@code streams}: key {@link #segmentKey} → the model's vector for that window. */
  public static Map<String, float[]> expectedSegments(List<Recording> streams, TopologySettings settings) {
    Map<String, float[]> out = new LinkedHashMap<>();
    EmbeddingModel m = fixtureModel();
    for (Recording s : streams) {
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
  public static List<AudioWindow> windows(Recording s, TopologySettings settings) {
    try {
      return OfflineWindows.of(s, settings.frontEnd());
    } catch (AudioFormatException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** Identity of a segment: {@code <call id>/<channel>/<start>-<end>} (16 kHz samples). */
  public static String segmentKey(String callId, int channel, long startSample16k, long endSample16k) {
    return callId + "/" + channel + "/" + startSample16k + "-" + endSample16k;
  }

  /** Identity of a stream: {@code <call id>/<channel>}. */
  public static String streamKey(String callId, int channel) {
    return callId + "/" + channel;
  }

}
