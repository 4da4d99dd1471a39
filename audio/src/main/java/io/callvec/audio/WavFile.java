package io.callvec.audio;

import io.callvec.audio.AudioFormatException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A WAV file read into memory: 16-bit PCM, 8-bit mu-law or 8-bit A-law, any number of channels
 * (interleaved), as the front end's {@link Encoding}s. Also WAVE_FORMAT_EXTENSIBLE with one of those
 * sub-formats. Other formats (float, 24-bit, 8-bit unsigned PCM, ADPCM...) and RIFX/RF64 files are
 * rejected with {@link Reason#UNSUPPORTED_WAV_FORMAT}; malformed files with {@link Reason#BAD_WAV}.
 * Writing: {@link WavWriter}.
 *
 * <p>A data chunk whose declared size runs past the end of the file (a recording that was cut, or a
 * streamed WAV with size 0xFFFFFFFF) is read up to the last whole frame, with a warning.
 */
public final class WavFile {

  private static final Logger LOG = LoggerFactory.getLogger(WavFile.class);

  private static final int TAG_PCM = 1;
  private static final int TAG_IEEE_FLOAT = 3;
  private static final int TAG_ALAW = 6;
  private static final int TAG_MULAW = 7;
  private static final int TAG_EXTENSIBLE = 0xFFFE;

  private final Encoding encoding;
  private final int sampleRateHz;
  private final int channels;
  private final byte[] data;

  private WavFile(Encoding encoding, int sampleRateHz, int channels, byte[] data) {
    this.encoding = encoding;
    this.sampleRateHz = sampleRateHz;
    this.channels = channels;
    this.data = data;
  }

  /** Reads and parses a WAV file. */
  public static WavFile read(Path file) throws IOException {
    return parse(Files.readAllBytes(file), file.toString());
  }

  /**
   * Parses the bytes of a WAV file.
   *
   * @param name the file's name, for messages
   * @throws AudioFormatException if the bytes are not a WAV file this class reads
   */
  public static WavFile parse(byte[] bytes, String name) {
    if (bytes.length < 12) {
      throw bad(name, "only " + bytes.length + " bytes: too short for a RIFF/WAVE header");
    }
    String riff = fourcc(bytes, 0);
    if (riff.equals("RIFX") || riff.equals("RF64")) {
      throw new AudioFormatException(
          Reason.UNSUPPORTED_WAV_FORMAT, name + ": " + riff + " files are not supported (expected RIFF)");
    }
    if (!riff.equals("RIFF") || !fourcc(bytes, 8).equals("WAVE")) {
      throw bad(name, "not a RIFF/WAVE file: found '" + printable(riff) + "' / '" + printable(fourcc(bytes, 8)) + "'");
    }
    int fmtOffset = -1;
    int fmtSize = 0;
    int dataOffset = -1;
    long dataSize = 0;
    int pos = 12;
    while (pos + 8 <= bytes.length) {
      String id = fourcc(bytes, pos);
      long size = u32(bytes, pos + 4);
      int body = pos + 8;
      if (id.equals("fmt ") && fmtOffset < 0) {
        fmtOffset = body;
        fmtSize = (int) Math.min(size, bytes.length - body);
      } else if (id.equals("data") && dataOffset < 0) {
        dataOffset = body;
        dataSize = size;
        if (fmtOffset >= 0) {
          break; // everything needed; the data may run to the end of a streamed file
        }
      }
      long next = body + size + (size & 1);
      if (next > bytes.length) {
        break;
      }
      pos = (int) next;
    }
    if (fmtOffset < 0) {
      throw bad(name, "no 'fmt ' chunk");
    }
    if (fmtSize < 16) {
      throw bad(name, "'fmt ' chunk of " + fmtSize + " bytes: expected at least 16");
    }
    if (dataOffset < 0) {
      throw bad(name, "no 'data' chunk");
    }
    int tag = u16(bytes, fmtOffset);
    int channels = u16(bytes, fmtOffset + 2);
    long rate = u32(bytes, fmtOffset + 4);
    int blockAlign = u16(bytes, fmtOffset + 12);
    int bits = u16(bytes, fmtOffset + 14);
    if (tag == TAG_EXTENSIBLE) {
      if (fmtSize < 40) {
        throw bad(name, "WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk of " + fmtSize + " bytes: expected 40");
      }
      tag = u16(bytes, fmtOffset + 24); // first two bytes of the sub-format GUID
    }
    Encoding enc;
    if (tag == TAG_PCM && bits == 16) {
      enc = Encoding.PCM_S16LE;
    } else if (tag == TAG_MULAW && bits == 8) {
      enc = Encoding.MULAW;
    } else if (tag == TAG_ALAW && bits == 8) {
      enc = Encoding.ALAW;
    } else {
      throw new AudioFormatException(
          Reason.UNSUPPORTED_WAV_FORMAT,
          name + ": " + describeTag(tag) + " " + bits + "-bit audio is not supported: expected 16-bit PCM,"
              + " 8-bit mu-law or 8-bit A-law (convert with e.g. sox in.wav -e signed -b 16 out.wav)");
    }
    if (channels < 1) {
      throw bad(name, "channel count " + channels);
    }
    if (rate < 1 || rate > Integer.MAX_VALUE) {
      throw bad(name, "sample rate " + rate + " Hz");
    }
    int frameBytes = channels * enc.bytesPerSample();
    if (blockAlign != frameBytes) {
      throw bad(name, "block align " + blockAlign + " bytes, expected " + frameBytes + " for " + channels
          + " channel(s) of " + enc);
    }
    long available = bytes.length - dataOffset;
    long usable = Math.min(dataSize, available);
    usable -= usable % frameBytes;
    if (usable != dataSize) {
      LOG.warn("{}: data chunk declares {} bytes, {} are present; reading {} bytes ({} whole frames)",
          name, dataSize, available, usable, usable / frameBytes);
    }
    byte[] data = java.util.Arrays.copyOfRange(bytes, dataOffset, dataOffset + (int) usable);
    return new WavFile(enc, (int) rate, channels, data);
  }

  private static String describeTag(int tag) {
    return switch (tag) {
      case TAG_PCM -> "PCM (format 1)";
      case TAG_IEEE_FLOAT -> "IEEE float (format 3)";
      case TAG_ALAW -> "A-law (format 6)";
      case TAG_MULAW -> "mu-law (format 7)";
      default -> String.format("format 0x%04x", tag);
    };
  }

  private static AudioFormatException bad(String name, String what) {
    return new AudioFormatException(Reason.BAD_WAV, name + ": " + what);
  }

  private static String fourcc(byte[] b, int off) {
    return new String(b, off, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  private static String printable(String s) {
    return s.replaceAll("[^\\x20-\\x7e]", "?");
  }

  private static int u16(byte[] b, int off) {
    return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8;
  }

  private static long u32(byte[] b, int off) {
    return (b[off] & 0xFFL) | (b[off + 1] & 0xFFL) << 8 | (b[off + 2] & 0xFFL) << 16 | (b[off + 3] & 0xFFL) << 24;
  }

  /** The samples' encoding. */
  public Encoding encoding() {
    return encoding;
  }

  /** The sample rate, Hz. */
  public int sampleRateHz() {
    return sampleRateHz;
  }

  /** Channels (interleaved in {@link #data()}). */
  public int channels() {
    return channels;
  }

  /** Samples per channel. */
  public int frames() {
    return data.length / (channels * encoding.bytesPerSample());
  }

  /** Duration, seconds. */
  public double durationSeconds() {
    return (double) frames() / sampleRateHz;
  }

  /** The raw interleaved data bytes (a copy). */
  public byte[] data() {
    return data.clone();
  }

  /** The encoded bytes of one channel (0-based), as a mono payload. */
  public byte[] channelData(int channel) {
    if (channel < 0 || channel >= channels) {
      throw new IllegalArgumentException("channel " + channel + " does not exist: the file has " + channels);
    }
    if (channels == 1) {
      return data.clone();
    }
    int bps = encoding.bytesPerSample();
    int n = frames();
    byte[] out = new byte[n * bps];
    for (int i = 0; i < n; i++) {
      System.arraycopy(data, (i * channels + channel) * bps, out, i * bps, bps);
    }
    return out;
  }

  /** One channel decoded to floats in [-1, 1). */
  public float[] decodeChannel(int channel) {
    byte[] mono = channelData(channel);
    if (mono.length == 0) {
      return new float[0];
    }
    return AudioDecoder.decode(encoding, mono, mono.length);
  }
}
