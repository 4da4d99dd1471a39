package io.callvec.model.vad;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.callvec.model.InferenceException;
import io.callvec.model.ModelLoadException;
import io.callvec.model.internal.OrtRuntime;
import io.callvec.model.internal.SessionLifecycle;
import io.callvec.model.internal.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Silero VAD v5 (MIT, github.com/snakers4/silero-vad) in ONNX Runtime: the speech probability of
 * each 32 ms frame of a stream at 8 or 16 kHz.
 *
 * <p>The ONNX file ({@value #RESOURCE} on the class path, installed by {@code
 * model/tools/fetch-vad.sh} from the npm package {@code @ricky0123/vad-web@0.0.31}, SHA-256
 * checked here too) has inputs {@code input} float [batch, samples], {@code state} float [2, batch,
 * 128], {@code sr} int64 scalar and outputs {@code output} [batch, 1] and {@code stateN}. As in
 * the reference implementation ({@code OnnxWrapper} in silero-vad's utils_vad.py), each run gets
 * the stream's last {@link VadState#contextSamples()} samples followed by {@link
 * VadState#frameSamples()} new ones (32 + 256 at 8 kHz, 64 + 512 at 16 kHz).
 *
 * <p>One instance per JVM is enough: its session is shared by all threads ({@link #process} and
 * {@link #step} may be called concurrently, each caller with its own {@link VadState}s). One
 * intra-op thread per run: the model is small (about 0.3 MFLOP per frame), so parallelism comes
 * from batching streams ({@link #step}) and from callers, not from ONNX Runtime's thread pool.
 * {@link #close()} waits for running calls and is idempotent.
 */
public final class SileroVad implements AutoCloseable {
  /** Class-path resource of the model, put there by model/tools/fetch-vad.sh. */
  public static final String RESOURCE = "/io/callvec/model/vad/silero_vad_v5.onnx";

  /** SHA-256 of dist/silero_vad_v5.onnx in @ricky0123/vad-web 0.0.31 (2,327,524 bytes). */
  public static final String SHA256 =
      "2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f";

  private static final Logger LOG = LoggerFactory.getLogger(SileroVad.class);
  private static final String INPUT = "input";
  private static final String STATE = "state";
  private static final String SR = "sr";
  private static final String OUTPUT = "output";
  private static final String STATE_OUT = "stateN";

  private final OrtEnvironment env = OrtRuntime.environment();
  private final OrtSession session;
  private final String source;
  private final OnnxTensor sr8k;
  private final OnnxTensor sr16k;
  private final SessionLifecycle lifecycle = new SessionLifecycle();

  private SileroVad(OrtSession session, String source) throws OrtException {
    this.session = session;
    this.source = source;
    OnnxTensor a = null;
    try {
      a = OnnxTensor.createTensor(env, 8_000L);
      this.sr8k = a;
      this.sr16k = OnnxTensor.createTensor(env, 16_000L);
    } catch (OrtException | RuntimeException e) {
      if (a != null) {
        a.close();
      }
      throw e;
    }
  }

  /**
   * Loads {@link #RESOURCE} from the class path.
   *
   * @throws ModelLoadException if it is missing (run model/tools/fetch-vad.sh, then rebuild the
   *     model module), has the wrong SHA-256, or ONNX Runtime rejects it
   */
  public static SileroVad load() throws ModelLoadException {
    byte[] bytes;
    try (InputStream in = SileroVad.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new ModelLoadException("Silero VAD v5 is not on the class path (" + RESOURCE
            + "): install it with model/tools/fetch-vad.sh (needs npm; takes "
            + "@ricky0123/vad-web@0.0.31 from the npm registry), then rebuild the model module");
      }
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new ModelLoadException("cannot read class-path resource " + RESOURCE, e);
    }
    return open(bytes, "classpath:" + RESOURCE);
  }

  /** Loads the model from a file (same SHA-256 check). */
  public static SileroVad load(Path file) throws ModelLoadException {
    Objects.requireNonNull(file, "file");
    try {
      return open(Files.readAllBytes(file), file.toAbsolutePath().toString());
    } catch (IOException e) {
      throw new ModelLoadException("cannot read Silero VAD model " + file.toAbsolutePath()
          + " (install it with model/tools/fetch-vad.sh)", e);
    }
  }

  private static SileroVad open(byte[] bytes, String source) throws ModelLoadException {
    String sha = Sha256.of(bytes);
    if (!SHA256.equals(sha)) {
      throw new ModelLoadException(source + ": SHA-256 " + sha + ", expected Silero VAD v5's "
          + SHA256 + " (" + bytes.length + " bytes); reinstall with model/tools/fetch-vad.sh");
    }
    OrtSession session = null;
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      o.setInterOpNumThreads(1);
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      session = OrtRuntime.environment().createSession(bytes, o);
      SileroVad vad = new SileroVad(session, source);
      LOG.info("loaded Silero VAD v5 from {} (SHA-256 verified)", source);
      return vad;
    } catch (OrtException e) {
      if (session != null) {
        try {
          session.close();
        } catch (OrtException ignored) {
          // already failing
        }
      }
      throw new ModelLoadException(source + ": ONNX Runtime cannot load Silero VAD: "
          + e.getMessage(), e);
    }
  }

  /** Where the model came from. */
  public String source() {
    return source;
  }

  /**
   * Appends {@code length} samples (floats in [−1, 1) at {@code state}'s rate) to one stream and
   * returns the speech probability of every frame they complete, in order (possibly none: the
   * rest waits in {@code state} for the next call). Runs one ONNX Runtime call per frame.
   */
  public float[] process(VadState state, float[] samples, int offset, int length)
      throws InferenceException {
    Objects.requireNonNull(state, "state");
    Objects.checkFromIndexSize(offset, length, samples.length);
    int frame = state.frameSamples();
    float[] out = new float[(state.pendingCount + length) / frame];
    int produced = 0;
    int i = offset;
    int end = offset + length;
    while (i < end) {
      int n = Math.min(frame - state.pendingCount, end - i);
      System.arraycopy(samples, i, state.pending, state.pendingCount, n);
      state.pendingCount += n;
      i += n;
      if (state.pendingCount == frame) {
        out[produced++] = runFrames(List.of(state), List.of(state.pending))[0];
        state.pendingCount = 0;
      }
    }
    return out;
  }

  /**
   * One frame for each of several streams in one ONNX Runtime call (batch = streams). Every
   * state must be at the same rate and have no pending samples (streams fed only through this
   * method, or whose {@link VadState#pendingSamples()} is 0); {@code frames.get(i)} holds exactly
   * {@link VadState#frameSamples()} new samples of stream i.
   *
   * @return the speech probability of each stream's frame
   */
  public float[] step(List<VadState> states, List<float[]> frames) throws InferenceException {
    if (states.isEmpty() || states.size() != frames.size()) {
      throw new IllegalArgumentException("expected as many frames as states (at least one), got "
          + frames.size() + " frames for " + states.size() + " states");
    }
    int rate = states.get(0).sampleRateHz();
    for (int i = 0; i < states.size(); i++) {
      VadState s = states.get(i);
      if (s.sampleRateHz() != rate || s.pendingCount != 0
          || frames.get(i).length != s.frameSamples()) {
        throw new IllegalArgumentException("stream " + i + ": expected " + rate + " Hz, no pending "
            + "samples and a frame of " + s.frameSamples() + " samples; got " + s.sampleRateHz()
            + " Hz, " + s.pendingCount + " pending, " + frames.get(i).length + " samples");
      }
    }
    return runFrames(states, frames);
  }

  private float[] runFrames(List<VadState> states, List<float[]> frames)
      throws InferenceException {
    int n = states.size();
    VadState first = states.get(0);
    int ctx = first.contextSamples();
    int frame = first.frameSamples();
    int width = ctx + frame;
    float[] input = new float[n * width];
    float[] state = new float[2 * n * 128];
    for (int b = 0; b < n; b++) {
      VadState s = states.get(b);
      System.arraycopy(s.context, 0, input, b * width, ctx);
      System.arraycopy(frames.get(b), 0, input, b * width + ctx, frame);
      for (int layer = 0; layer < 2; layer++) { // state [2, batch, 128]
        System.arraycopy(s.rnn, layer * 128, state, (layer * n + b) * 128, 128);
      }
    }
    lifecycle.lockRun();
    try {
      ensureOpen();
      try (OnnxTensor tIn = OnnxTensor.createTensor(env, FloatBuffer.wrap(input),
              new long[] {n, width});
          OnnxTensor tState = OnnxTensor.createTensor(env, FloatBuffer.wrap(state),
              new long[] {2, n, 128});
          OrtSession.Result r = session.run(Map.of(INPUT, tIn, STATE, tState, SR,
              first.sampleRateHz() == 16_000 ? sr16k : sr8k))) {
        FloatBuffer prob = ((OnnxTensor) r.get(OUTPUT).orElseThrow()).getFloatBuffer();
        FloatBuffer next = ((OnnxTensor) r.get(STATE_OUT).orElseThrow()).getFloatBuffer();
        float[] out = new float[n];
        for (int b = 0; b < n; b++) {
          VadState s = states.get(b);
          out[b] = prob.get(b);
          for (int layer = 0; layer < 2; layer++) {
            next.get((layer * n + b) * 128, s.rnn, layer * 128, 128);
          }
          System.arraycopy(input, b * width + width - ctx, s.context, 0, ctx);
          s.frames++;
        }
        return out;
      }
    } catch (OrtException e) {
      throw new InferenceException("Silero VAD failed on " + n + " frames of " + frame
          + " samples at " + first.sampleRateHz() + " Hz: " + e.getMessage(), e, false);
    } finally {
      lifecycle.unlockRun();
    }
  }

  private void ensureOpen() {
    if (lifecycle.isClosed()) {
      throw new IllegalStateException("SileroVad " + source + " is closed");
    }
  }

  /** Waits for running calls, then releases the session. Idempotent. */
  @Override
  public void close() {
    lifecycle.closeOnce(this::releaseNative);
  }

  private void releaseNative() {
    try {
      sr8k.close();
      sr16k.close();
      session.close();
    } catch (OrtException e) {
      LOG.warn("closing the Silero VAD session failed: {}", e.getMessage());
    }
  }
}
