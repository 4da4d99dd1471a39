package io.callvec.model.batch;

import io.callvec.model.InferenceException;

/**
 * A poison window: it failed on its own (its batch was split until it ran alone) while the model
 * embedded other windows, so the input, not the model, is at fault. Only this window's future fails
 * with it; the caller should dead-letter the window and go on. Never transient: running it again
 * fails again. The cause is the embedder's failure of the window alone.
 */
public class PoisonWindowException extends InferenceException {
  private final String model;
  private final WindowTag tag;
  private final int lengthSamples;

  public PoisonWindowException(String model, WindowTag tag, int lengthSamples, Throwable cause) {
    super(
        "poison window for model '"
            + model
            + "': "
            + tag
            + " ("
            + lengthSamples
            + " samples at 16 kHz) failed alone while the model embedded other windows: "
            + cause,
        cause,
        false);
    this.model = model;
    this.tag = tag;
    this.lengthSamples = lengthSamples;
  }

  /** The engine's model name. */
  public String model() {
    return model;
  }

  /** The tag the window was submitted with ({@link WindowTag#NONE} if none). */
  public WindowTag tag() {
    return tag;
  }

  /** Length of the window, in samples at 16 kHz. */
  public int lengthSamples() {
    return lengthSamples;
  }
}
