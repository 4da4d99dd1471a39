package io.callvec.cli;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The options that say how a recording is read and fed in chunks, shared by {@code replay} and
 * {@code embed} (picocli mixin). {@link #validate} checks their ranges.
 */
public final class RecordingOptions {
  /** Longest chunk, ms of audio. */
  static final int MAX_CHUNK_MS = 60_000;

  @Option(names = "--format", paramLabel = "FORMAT",
      description = "wav | mulaw | alaw | pcm16le (raw, headerless). Default: from each file's name (.wav, .ul, .al, .s16, ...) or RIFF header.")
  String format;

  @Option(names = "--rate", paramLabel = "HZ",
      description = "Sample rate of raw files, Hz (default 8000). WAV files carry their own; embed checks that a given rate matches it.")
  Integer rateHz;

  @Option(names = "--chunk-ms", defaultValue = "20", paramLabel = "MS",
      description = "Chunk length, ms of audio (default ${DEFAULT-VALUE}: 160 bytes of 8 kHz mu-law, as telephony sources send).")
  int chunkMs;

  @Option(names = "--progress-s", defaultValue = "5", paramLabel = "S", description = "Seconds between progress lines on stderr (default ${DEFAULT-VALUE}).")
  double progressS;

  /**
   * Checks the ranges: {@code --chunk-ms} in [1, 60000], {@code --rate} > 0, {@code --progress-s} > 0.
   *
   * @throws CommandLine.ParameterException (exit code 2) naming the bad option
   */
  void validate(CommandLine cl) {
    if (chunkMs < 1 || chunkMs > MAX_CHUNK_MS) {
      throw new CommandLine.ParameterException(cl, "--chunk-ms must be in [1, " + MAX_CHUNK_MS + "], was " + chunkMs);
    }
    if (rateHz != null && rateHz <= 0) {
      throw new CommandLine.ParameterException(cl, "--rate must be > 0 Hz, was " + rateHz);
    }
    if (!(progressS > 0)) {
      throw new CommandLine.ParameterException(cl, "--progress-s must be > 0, was " + progressS);
    }
  }
}
