package io.callvec.it.support;

import io.callvec.model.InferenceException;
import io.callvec.model.WindowEmbedder;
import java.util.List;

/**
 * A deliberately slow model for overload tests: runs the real ONNX model (the one the app loaded)
 * on every batch, then sleeps {@code delayMsPerWindow} ms per window of the batch. With one batcher
 * worker the instance's capacity is therefore at most {@code 1000 / delayMsPerWindow} windows per
 * second, whatever the batch size, and it does not depend on how busy the machine's CPUs are (the
 * sleep takes no CPU; the model's own time only lowers the capacity further).
 *
 * <p>The vectors are the real model's, unchanged: the exactly-once check compares them with the
 * model run directly.
 */
public final class SlowModelEmbedder implements WindowEmbedder {
  private final WindowEmbedder model;
  private final long delayMsPerWindow;

  /**
   * @param model the real model
   * @param delayMsPerWindow added latency per window of a batch, ms (&ge; 0)
   */
  public SlowModelEmbedder(WindowEmbedder model, long delayMsPerWindow) {
    if (delayMsPerWindow < 0) {
      throw new IllegalArgumentException("delay per window must be >= 0 ms, got " + delayMsPerWindow);
    }
    this.model = model;
    this.delayMsPerWindow = delayMsPerWindow;
  }

  @Override
  public float[][] embedBatch(List<float[]> windows) throws InferenceException {
    float[][] out = model.embedBatch(windows);
    try {
      Thread.sleep(delayMsPerWindow * windows.size());
    } catch (InterruptedException e) {
      // The vectors are computed and correct: return them early, keeping the interrupt for the caller.
      Thread.currentThread().interrupt();
    }
    return out;
  }

  @Override
  public boolean acceptsMixedLengths() {
    return model.acceptsMixedLengths();
  }

  @Override
  public int dimension() {
    return model.dimension();
  }
}
