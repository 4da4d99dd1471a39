package io.callvec.model;

/**
 * A model file could not be used: missing, unreadable, not ONNX, or not the graph callvec expects
 * (the message names what was expected and what was found).
 */
public class ModelLoadException extends Exception {
  public ModelLoadException(String message) {
    super(message);
  }

  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
