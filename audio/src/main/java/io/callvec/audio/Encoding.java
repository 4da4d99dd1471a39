package io.callvec.audio;

import java.util.Locale;

/** Sample encodings of call audio payloads. All are mono; multi-byte samples are little-endian. */
public enum Encoding {
  /** ITU-T G.711 mu-law, 1 byte per sample (North America, Japan; Twilio, Amazon Connect). */
  MULAW("mulaw"),
  /** ITU-T G.711 A-law, 1 byte per sample (Europe and most of the world). */
  ALAW("alaw"),
  /** Linear PCM, signed 16-bit little-endian, 2 bytes per sample. */
  PCM_S16LE("pcm16le");

  private final String cliName;

  Encoding(String cliName) {
    this.cliName = cliName;
  }

  /** Bytes per sample in a payload (1 for G.711, 2 for 16-bit PCM). */
  public int bytesPerSample() {
    return this == PCM_S16LE ? 2 : 1;
  }

  /** The short name used by the CLI ({@code mulaw}, {@code alaw}, {@code pcm16le}). */
  public String cliName() {
    return cliName;
  }

  /** A stable 1-byte code for serialised state (never the ordinal): 1, 2, 3. */
  int code() {
    return switch (this) {
      case MULAW -> 1;
      case ALAW -> 2;
      case PCM_S16LE -> 3;
    };
  }

  static Encoding fromCode(int code) {
    for (Encoding e : values()) {
      if (e.code() == code) {
        return e;
      }
    }
    throw new AudioStateException("unknown encoding code " + code + " (expected 1, 2 or 3)");
  }

  /**
   * Parses an encoding name, case-insensitively: {@code mulaw}, {@code ulaw}, {@code mu-law},
   * {@code pcmu}, {@code g711u} for {@link #MULAW}; {@code alaw}, {@code a-law}, {@code pcma},
   * {@code g711a} for {@link #ALAW}; {@code pcm16le}, {@code pcm_s16le}, {@code s16le} for
   * {@link #PCM_S16LE}, and the enum names themselves. (Big-endian "L16" of RTP is deliberately not
   * accepted.)
   *
   * @throws AudioFormatException with {@link AudioFormatException.Reason#UNKNOWN_ENCODING} otherwise
   */
  public static Encoding parse(String name) {
    if (name != null) {
      switch (name.trim().toLowerCase(Locale.ROOT)) {
        case "mulaw", "ulaw", "mu-law", "u-law", "pcmu", "g711u", "g711_ulaw":
          return MULAW;
        case "alaw", "a-law", "pcma", "g711a", "g711_alaw":
          return ALAW;
        case "pcm16le", "pcm_s16le", "s16le", "pcm16":
          return PCM_S16LE;
        default:
          break;
      }
    }
    throw new AudioFormatException(
        AudioFormatException.Reason.UNKNOWN_ENCODING,
        "unknown encoding '" + name + "': expected mulaw (ulaw, pcmu), alaw (pcma) or pcm16le (pcm_s16le)");
  }
}
