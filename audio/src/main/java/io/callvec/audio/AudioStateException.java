package io.callvec.audio;

/**
 * A serialised front-end state blob (see {@code toBytes()}/{@code fromBytes()} of {@link Resampler},
 * {@link CallAssembler}, {@link Segmenter} and {@link ChannelFrontEnd}) that cannot be restored: not a
 * callvec state, a state of another kind, an unknown format version, truncated or inconsistent. The
 * message says what was expected and what was found. Unchecked.
 */
public final class AudioStateException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public AudioStateException(String message) {
    super(message);
  }
}
