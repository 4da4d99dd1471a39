package io.callvec.audio;

import java.util.Objects;

/**
 * Audio that the front end cannot accept: an unknown encoding, a malformed payload, an unsupported
 * sample rate, a bad chunk timestamp or sequence number, or a WAV file it cannot read.
 *
 * <p>Unchecked, so that it can cross stream-processing lambdas. {@link #reason()} is a stable,
 * machine-readable code (for example for a dead-letter header, {@code reason().name()}); the message
 * says what was expected and what was found. Whoever throws it has not changed any state: the
 * offending input can be dead-lettered and processing can go on with the next one.
 */
public final class AudioFormatException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Why the input was rejected. Names are stable: they may be stored in headers and dashboards. */
  public enum Reason {
    /** The encoding name or value is not one of {@link Encoding}. */
    UNKNOWN_ENCODING,
    /** The sample rate is outside what the resampler supports. */
    UNSUPPORTED_SAMPLE_RATE,
    /** The payload has no bytes. */
    EMPTY_PAYLOAD,
    /** The payload's byte count is not a whole number of samples (e.g. odd for 16-bit PCM). */
    PARTIAL_SAMPLE,
    /** The payload is larger than the configured maximum payload size in bytes. */
    PAYLOAD_TOO_LARGE,
    /** A chunk's encoding or sample rate differs from the one the call x channel started with. */
    FORMAT_CHANGED,
    /** A chunk's media timestamp is negative or absurdly large. */
    BAD_TIMESTAMP,
    /** A chunk's sequence number is negative. */
    BAD_SEQUENCE_NUMBER,
    /** A WAV file is malformed (not RIFF/WAVE, truncated, missing chunks). */
    BAD_WAV,
    /** A WAV file is well formed but holds a format the front end does not read. */
    UNSUPPORTED_WAV_FORMAT
  }

  private final Reason reason;

  public AudioFormatException(Reason reason, String message) {
    super(Objects.requireNonNull(reason, "reason") + ": " + message);
    this.reason = reason;
  }

  /** The machine-readable cause; never null. */
  public Reason reason() {
    return reason;
  }
}
