package io.callvec.player;

import io.callvec.audio.AudioFormatException;
import io.callvec.audio.Encoding;
import io.callvec.audio.Resampler;
import io.callvec.audio.WavFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recorded call audio read from a file, for the commands that replay or embed recordings: a WAV file
 * (16-bit PCM, 8-bit μ-law or A-law, any number of channels; see {@link WavFile}) or a raw,
 * headerless mono file of μ-law, A-law or 16-bit little-endian PCM samples.
 *
 * <p>The whole file is read into memory (a Java array holds at most 2 GiB: about 74 hours of 8 kHz
 * G.711 mono).
 */
public final class AudioFiles {
  private static final Logger LOG = LoggerFactory.getLogger(AudioFiles.class);

  /** Default sample rate of raw files, Hz (G.711 telephony). */
  public static final int DEFAULT_RAW_RATE_HZ = 8000;

  private AudioFiles() {}

  /** How a file's bytes are laid out. */
  public enum Format {
    /** A RIFF/WAVE file: encoding, rate and channels from its header. */
    WAV(null),
    /** Raw G.711 μ-law, 1 byte per sample, mono. */
    MULAW(Encoding.MULAW),
    /** Raw G.711 A-law, 1 byte per sample, mono. */
    ALAW(Encoding.ALAW),
    /** Raw signed 16-bit little-endian PCM, 2 bytes per sample, mono. */
    PCM16LE(Encoding.PCM_S16LE);

    private final Encoding rawEncoding;

    Format(Encoding rawEncoding) {
      this.rawEncoding = rawEncoding;
    }

    /** The samples' encoding of a raw format; null for {@link #WAV} (its header says). */
    public Encoding rawEncoding() {
      return rawEncoding;
    }

    /** The name the command line uses: {@code wav}, {@code mulaw}, {@code alaw}, {@code pcm16le}. */
    public String cliName() {
      return this == WAV ? "wav" : rawEncoding.cliName();
    }

    /**
     * Parses {@code wav} or any name {@link Encoding#parse} accepts (case-insensitive).
     *
     * @throws IllegalArgumentException naming the accepted forms otherwise
     */
    public static Format parse(String name) {
      Objects.requireNonNull(name, "name");
      String n = name.trim().toLowerCase(Locale.ROOT);
      if (n.equals("wav") || n.equals("wave")) {
        return WAV;
      }
      try {
        return switch (Encoding.parse(n)) {
          case MULAW -> MULAW;
          case ALAW -> ALAW;
          case PCM_S16LE -> PCM16LE;
        };
      } catch (AudioFormatException e) {
        throw new IllegalArgumentException("unknown format '" + name + "': expected wav, mulaw, alaw or pcm16le");
      }
    }

    /**
     * The format a file name implies: {@code .wav}/{@code .wave} → WAV; {@code .ul}, {@code .ulaw},
     * {@code .mulaw}, {@code .mu}, {@code .pcmu} → μ-law; {@code .al}, {@code .alaw}, {@code .pcma} →
     * A-law; {@code .s16}, {@code .sw}, {@code .s16le}, {@code .pcm} → 16-bit PCM; null for anything
     * else (notably {@code .raw}, which says nothing about the encoding).
     */
    public static Format fromFileName(Path file) {
      String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
      int dot = name.lastIndexOf('.');
      String ext = dot < 0 ? "" : name.substring(dot + 1);
      return switch (ext) {
        case "wav", "wave" -> WAV;
        case "ul", "ulaw", "mulaw", "mu", "pcmu" -> MULAW;
        case "al", "alaw", "pcma" -> ALAW;
        case "s16", "sw", "s16le", "pcm" -> PCM16LE;
        default -> null;
      };
    }
  }

  /**
   * One file's audio: one mono payload per channel.
   *
   * @param file where it came from
   * @param format the layout it was read as
   * @param encoding the samples' encoding
   * @param sampleRateHz the sample rate, Hz
   * @param channels the encoded samples of each channel (index = channel number), all the same length
   */
  public record Audio(Path file, Format format, Encoding encoding, int sampleRateHz, List<byte[]> channels) {
    public Audio {
      channels = List.copyOf(channels);
    }

    /** Number of channels (1 for raw files). */
    public int channelCount() {
      return channels.size();
    }

    /** Samples per channel. */
    public long samplesPerChannel() {
      return channels.get(0).length / encoding.bytesPerSample();
    }

    /** Duration of one channel, seconds. */
    public double durationSeconds() {
      return (double) samplesPerChannel() / sampleRateHz;
    }
  }

  /**
   * The format to read {@code file} as: {@code explicit} if given, else what its name implies, else
   * WAV if the file starts with a RIFF/WAVE header.
   *
   * @param explicit a format name ({@link Format#parse}) or null
   * @throws IllegalArgumentException if {@code explicit} is not a format, or no format can be told
   */
  public static Format formatOf(Path file, String explicit) throws IOException {
    if (explicit != null) {
      Format f = Format.parse(explicit);
      if (f != Format.WAV && looksLikeWav(file)) {
        LOG.warn("{} starts with a RIFF/WAVE header but is read as raw {} as --format says: the header will be heard as noise"
            + " (use --format wav)", file, f.cliName());
      }
      return f;
    }
    Format byName = Format.fromFileName(file);
    if (byName != null) {
      return byName;
    }
    if (looksLikeWav(file)) {
      return Format.WAV;
    }
    throw new IllegalArgumentException("cannot tell the format of " + file
        + " from its name: give --format wav, mulaw, alaw or pcm16le");
  }

  /** Whether the file's first 12 bytes are a RIFF/WAVE header. */
  static boolean looksLikeWav(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      return false;
    }
    byte[] head = new byte[12];
    int n;
    try (InputStream in = Files.newInputStream(file)) {
      n = in.readNBytes(head, 0, 12);
    }
    return n == 12
        && new String(head, 0, 4, StandardCharsets.ISO_8859_1).equals("RIFF")
        && new String(head, 8, 4, StandardCharsets.ISO_8859_1).equals("WAVE");
  }

  /**
   * Reads a file.
   *
   * @param rawRateHz the sample rate of a raw file, Hz ({@value #DEFAULT_RAW_RATE_HZ} if null); ignored
   *     for WAV, whose header gives it (the caller checks a rate the user gave against {@link
   *     Audio#sampleRateHz()})
   * @throws AudioFormatException if the file is not valid audio of that format: a malformed or
   *     unsupported WAV, a raw file that is not a whole number of samples, no audio at all, or a rate
   *     the front end cannot resample ({@link Resampler#MIN_INPUT_RATE_HZ} to {@link
   *     Resampler#MAX_INPUT_RATE_HZ} Hz)
   * @throws IOException if the file cannot be read
   */
  public static Audio read(Path file, Format format, Integer rawRateHz) throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(format, "format");
    Audio audio;
    if (format == Format.WAV) {
      WavFile wav = WavFile.read(file);
      List<byte[]> channels = new ArrayList<>(wav.channels());
      for (int ch = 0; ch < wav.channels(); ch++) {
        channels.add(wav.channelData(ch));
      }
      audio = new Audio(file, format, wav.encoding(), wav.sampleRateHz(), channels);
    } else {
      int rate = rawRateHz == null ? DEFAULT_RAW_RATE_HZ : rawRateHz;
      byte[] bytes = Files.readAllBytes(file);
      Encoding enc = format.rawEncoding();
      if (bytes.length % enc.bytesPerSample() != 0) {
        throw new AudioFormatException(AudioFormatException.Reason.PARTIAL_SAMPLE,
            file + " holds " + bytes.length + " bytes: not a whole number of " + enc.bytesPerSample() + "-byte " + enc + " samples");
      }
      audio = new Audio(file, format, enc, rate, List.of(bytes));
    }
    if (audio.channels().get(0).length == 0) {
      throw new AudioFormatException(AudioFormatException.Reason.EMPTY_PAYLOAD, file + " holds no audio samples");
    }
    if (audio.sampleRateHz() < Resampler.MIN_INPUT_RATE_HZ || audio.sampleRateHz() > Resampler.MAX_INPUT_RATE_HZ) {
      throw new AudioFormatException(AudioFormatException.Reason.UNSUPPORTED_SAMPLE_RATE,
          file + ": sample rate " + audio.sampleRateHz() + " Hz is outside the supported " + Resampler.MIN_INPUT_RATE_HZ
              + " to " + Resampler.MAX_INPUT_RATE_HZ + " Hz");
    }
    return audio;
  }

  /** Channel names the player gives the channels of a file: agent/customer for stereo, channel-N otherwise. */
  public static String channelName(int channel, int channelCount) {
    if (channelCount == 2) {
      return channel == 0 ? "agent" : "customer";
    }
    return "channel-" + channel;
  }
}
