package io.callvec.topology.internals;

import io.callvec.model.InferenceException;
import io.callvec.model.vad.SpeechHysteresis;
import io.callvec.model.vad.VadState;
import io.callvec.topology.SpeechDetection;
import io.callvec.topology.TopologyMetrics;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Voice activity detection in the stream, per call × channel (one instance per task, stream
 * thread only): when a window is cut it runs Silero VAD v5 at 16 kHz over the window's audio the
 * VAD has not seen yet, counts the window's speech samples and decides whether the window goes to
 * the model ({@link #window}).
 *
 * <p><b>State</b> lives in its own changelogged store ({@code callvec-vad}), written in the
 * transaction of the chunk that cut the window, so it is exactly-once like the rest: under the
 * channel prefix, {@link GateState} (the VAD's recurrent state and context, the hysteresis, the
 * labels of the frames a later window may still overlap, the skipped-window count; about 1.2 KB);
 * under each pending window's key, that window's speech samples (8 bytes) until it is emitted.
 *
 * <p><b>Frames and windows.</b> Frames are 512 samples (32 ms) at 16 kHz, laid end to end from the
 * first window's start. A window [s, e) counts the speech samples of every frame overlapping it,
 * clipped to it: frames the hysteresis has decided by their label, frames it still holds (at most
 * max(min speech, min silence) frames) by their raw probability (≥ onset), and the incomplete last
 * frame by the hysteresis' current state. So no latency is added, and the count depends only on the
 * channel's audio: a replay or a restored state gives the same decisions. Windows are cut in order;
 * with hop &lt; window the overlap's frames are remembered. A window that starts after the VAD's
 * position (a new run after a long gap) restarts the VAD there: the VAD only ever sees the audio of
 * windows.
 *
 * <p>Off ({@code callvec.vad.enabled=false}): every call is a no-op, every window is sent, weights
 * are real samples: output identical to a build without the VAD.
 */
public final class SpeechGate {
  /** {@link io.callvec.schemas.SegmentEmbedding#getSkipped()} of a window with too little speech. */
  public static final String SKIPPED_BELOW_MIN_SPEECH = "below_min_speech_fraction";

  private static final int RATE = 16_000;
  private static final int FRAME = VadState.frameSamples(RATE);

  private final SpeechDetection detection;
  private final TopologyMetrics metrics;
  private final int hopSamples;
  private KeyValueStore<Bytes, byte[]> store;

  /**
   * @param hopSamples16k hop between window starts, samples at 16 kHz (frames ending before the
   *     next window's start are forgotten)
   */
  public SpeechGate(SpeechDetection detection, TopologyMetrics metrics, int hopSamples16k) {
    this.detection = detection;
    this.metrics = metrics;
    this.hopSamples = hopSamples16k;
  }

  /** The task's VAD store (declared in every topology, used only when the VAD is on). */
  public void init(KeyValueStore<Bytes, byte[]> vadStore) {
    this.store = vadStore;
  }

  public boolean enabled() {
    return detection.enabled();
  }

  /**
   * The VAD's verdict on one window.
   *
   * @param speechSamples16k speech samples within the window, at 16 kHz; null when the VAD is off
   * @param skip true when the window is not to be sent to the model
   */
  public record Decision(Long speechSamples16k, boolean skip) {
    static final Decision SEND = new Decision(null, false);
  }

  /**
   * Runs the VAD over the window's unseen audio and decides. A window that is sent keeps its speech
   * count under {@code pendingKey} until {@link #emitted}; a skipped one is counted in the
   * channel's {@link #skippedSegments}.
   *
   * @param start16k the window's first sample on the channel's 16 kHz timeline
   * @param audio the window's real samples (16 kHz, [−1, 1))
   * @throws StreamsException when the VAD fails (nothing is committed for the chunk)
   */
  public Decision window(byte[] prefix, Bytes pendingKey, long start16k, float[] audio) {
    if (!enabled()) {
      return Decision.SEND;
    }
    Bytes channelKey = Bytes.wrap(prefix);
    Step step;
    try {
      step = step(store.get(channelKey), start16k, audio);
    } catch (InferenceException e) {
      throw new StreamsException("voice activity detection failed for " + StoreKeys.callId(prefix) + "/" + StoreKeys.channelIndex(prefix)
          + " at sample " + start16k + ": " + e.getMessage() + " — stopping without committing the chunk", e);
    }
    if (step.decision().skip()) {
      metrics.windowSkipped();
    } else {
      store.put(pendingKey, ByteBuffer.allocate(8).putLong(step.decision().speechSamples16k()).array());
    }
    store.put(channelKey, step.state());
    return step.decision();
  }

  /**
   * One window's decision and the channel's next VAD state.
   *
   * @param decision the verdict on the window
   * @param state the channel's serialised VAD state after it
   */
  public record Step(Decision decision, byte[] state) {}

  /**
   * The gate without a store (for {@link #window} and for benchmarks): the channel's serialised
   * state before the window (null for a new channel), the window, the verdict and the state after.
   * Needs the VAD on.
   *
   * @throws InferenceException when Silero VAD fails
   */
  public Step step(byte[] stateOrNull, long start16k, float[] audio) throws InferenceException {
    if (!enabled()) {
      throw new IllegalStateException("the VAD is off (callvec.vad.enabled=false)");
    }
    GateState g = stateOrNull == null ? GateState.initial(start16k) : GateState.fromBytes(stateOrNull);
    long end = start16k + audio.length;
    if (start16k > g.position) {
      g.restartAt(start16k);
    }
    SpeechHysteresis hysteresis = new SpeechHysteresis(detection.settings().options());
    hysteresis.decode(g.hysteresis);
    if (end > g.position) {
      int from = (int) (g.position - start16k);
      long t0 = System.nanoTime();
      float[] probabilities = detection.vad().process(g.vad, audio, from, audio.length - from);
      metrics.vadRan(probabilities.length, System.nanoTime() - t0);
      for (float p : probabilities) {
        g.label(hysteresis.heldFrames(), hysteresis.accept(p), p >= detection.settings().options().onsetThreshold());
      }
      g.position = end;
    }
    g.hysteresis = hysteresis.encode();
    long speech = g.speechIn(start16k, end, hysteresis.inSpeech());
    boolean skip = speech < detection.settings().minSpeechFraction() * audio.length;
    if (skip) {
      g.skipped++;
    }
    g.forgetBefore(start16k + hopSamples);
    return new Step(new Decision(speech, skip), g.toBytes());
  }

  /** The speech samples of a sent window, for its segment record; null when the VAD is off. */
  public Long speechSamples(Bytes pendingKey) {
    if (!enabled()) {
      return null;
    }
    byte[] v = store.get(pendingKey);
    if (v == null) {
      throw new IllegalStateException("VAD on but no speech count for pending window " + StoreKeys.trailingLong(pendingKey.get())
          + " of " + StoreKeys.callId(StoreKeys.prefixOf(pendingKey.get())));
    }
    return ByteBuffer.wrap(v).getLong();
  }

  /**
   * The window's weight in the call embedding: its speech samples with the VAD on (positive: a
   * window with less speech than the minimum fraction is never sent), else its real samples.
   */
  public long weight(Long speechSamples16k, long realSamples16k) {
    return speechSamples16k == null ? realSamples16k : speechSamples16k;
  }

  /** The window was emitted or dead-lettered: its speech count goes. */
  public void emitted(Bytes pendingKey) {
    if (enabled()) {
      store.delete(pendingKey);
    }
  }

  /** Windows of the channel skipped so far (0 with the VAD off). */
  public int skippedSegments(byte[] prefix) {
    if (!enabled()) {
      return 0;
    }
    byte[] stored = store.get(Bytes.wrap(prefix));
    return stored == null ? 0 : GateState.fromBytes(stored).skipped;
  }

  /** The call embedding's weighting, the first part of its {@code pooling}. */
  public String callWeighting() {
    return enabled() ? "speech-weighted-mean" : "duration-weighted-mean";
  }

  /** The channel ended: all its VAD state goes. */
  public void delete(byte[] prefix) {
    if (!enabled()) {
      return;
    }
    store.delete(Bytes.wrap(prefix));
    StoreKeys.deleteBelow(store, prefix, Long.MAX_VALUE); // the windows' speech fractions, keyed by window start
  }

  /**
   * One channel's VAD state. Labels: one byte per frame from {@link #frameStart} on, for the frames
   * a later window may overlap: {@link #SILENCE}, {@link #SPEECH} (decided), or {@link
   * #HELD_SILENCE}, {@link #HELD_SPEECH} (held by the hysteresis, by raw probability).
   * Invariant: {@code position = frameStart + FRAME × labels + vad.pendingSamples()}.
   */
  static final class GateState {
    static final byte SILENCE = 0;
    static final byte SPEECH = 1;
    static final byte HELD_SILENCE = 2;
    static final byte HELD_SPEECH = 3;
    private static final byte FORMAT = 1;

    /** 16 kHz samples of the timeline fed to the VAD (exclusive end). */
    long position;
    /** Timeline start of the first remembered frame. */
    long frameStart;
    int hysteresis;
    int skipped;
    byte[] labels = new byte[0];
    VadState vad;

    static GateState initial(long start16k) {
      GateState g = new GateState();
      g.restartAt(start16k);
      return g;
    }

    void restartAt(long start16k) {
      position = start16k;
      frameStart = start16k;
      hysteresis = 0;
      labels = new byte[0];
      vad = VadState.initial(RATE);
    }

    /**
     * Appends one frame: {@code decided} is {@link SpeechHysteresis#accept}'s result, {@code
     * heldBefore} the frames held before it, {@code aboveOnset} the frame's raw verdict.
     */
    void label(int heldBefore, int decided, boolean aboveOnset) {
      byte[] next = java.util.Arrays.copyOf(labels, labels.length + 1);
      next[labels.length] = aboveOnset ? HELD_SPEECH : HELD_SILENCE;
      labels = next;
      if (decided != 0) { // decides every held frame and the new one
        byte l = decided > 0 ? SPEECH : SILENCE;
        for (int i = Math.max(0, labels.length - (heldBefore + 1)); i < labels.length; i++) {
          labels[i] = l;
        }
      }
    }

    /** Speech samples within [start, end): remembered frames by label, the incomplete frame by {@code inSpeech}. */
    long speechIn(long start, long end, boolean inSpeech) {
      long speech = 0;
      for (int i = 0; i < labels.length; i++) {
        if (labels[i] == SPEECH || labels[i] == HELD_SPEECH) {
          long fs = frameStart + (long) i * FRAME;
          speech += Math.max(0, Math.min(end, fs + FRAME) - Math.max(start, fs));
        }
      }
      long partialStart = frameStart + (long) labels.length * FRAME;
      if (inSpeech) {
        speech += Math.max(0, Math.min(end, position) - Math.max(start, partialStart));
      }
      return speech;
    }

    /** Forgets frames that end at or before {@code keepFrom} (the next window's start). */
    void forgetBefore(long keepFrom) {
      int drop = (int) Math.max(0, Math.min(labels.length, (keepFrom - frameStart) / FRAME));
      if (drop > 0) {
        labels = java.util.Arrays.copyOfRange(labels, drop, labels.length);
        frameStart += (long) drop * FRAME;
      }
    }

    /** Format byte, position, frame start (int64), hysteresis, skipped, label count (int32), labels, then {@link VadState#toBytes()}. */
    byte[] toBytes() {
      byte[] v = vad.toBytes();
      return ByteBuffer.allocate(1 + 8 + 8 + 4 + 4 + 4 + labels.length + v.length).order(ByteOrder.LITTLE_ENDIAN)
          .put(FORMAT).putLong(position).putLong(frameStart).putInt(hysteresis).putInt(skipped).putInt(labels.length).put(labels).put(v)
          .array();
    }

    static GateState fromBytes(byte[] bytes) {
      ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      if (bytes.length < 29 || b.get() != FORMAT) {
        throw new IllegalArgumentException("not a serialised VAD gate state (format " + FORMAT + "): " + bytes.length + " bytes");
      }
      GateState g = new GateState();
      g.position = b.getLong();
      g.frameStart = b.getLong();
      g.hysteresis = b.getInt();
      g.skipped = b.getInt();
      int n = b.getInt();
      if (n < 0 || n > b.remaining()) {
        throw new IllegalArgumentException("corrupt VAD gate state: " + n + " labels in " + bytes.length + " bytes");
      }
      g.labels = new byte[n];
      b.get(g.labels);
      byte[] v = new byte[b.remaining()];
      b.get(v);
      g.vad = VadState.fromBytes(v);
      return g;
    }
  }
}
