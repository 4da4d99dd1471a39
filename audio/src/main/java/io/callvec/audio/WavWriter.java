package io.callvec.audio;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes a mono WAV file as a stream of float samples: 16-bit PCM (samples in [-1, 1) scaled by 32768,
 * rounded and clipped, so values decoded from 16-bit sources round-trip exactly) or 32-bit IEEE
 * float (bit-exact). The header's sizes are written on {@link #close()}. WAV limits data to 4 GiB.
 */
public final class WavWriter implements Closeable {

  /** Sample formats written. */
  public enum SampleFormat {
    /** 16-bit signed little-endian PCM (format tag 1). */
    PCM16,
    /** 32-bit IEEE float (format tag 3, with a 'fact' chunk). */
    FLOAT32
  }

  private static final long MAX_DATA_BYTES = 0xFFFFFFFFL - 64;

  private final FileChannel channel;
  private final SampleFormat format;
  private final int sampleRateHz;
  private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
  private final int headerBytes;
  private long samples;
  private boolean closed;

  private WavWriter(FileChannel channel, int sampleRateHz, SampleFormat format) throws IOException {
    this.channel = channel;
    this.sampleRateHz = sampleRateHz;
    this.format = format;
    writeHeader(0);
    this.headerBytes = buf.position();
    flushBuffer();
  }

  /**
   * Creates (or truncates) {@code file} and writes a header.
   *
   * @param sampleRateHz the sample rate, Hz (> 0)
   */
  public static WavWriter create(Path file, int sampleRateHz, SampleFormat format) throws IOException {
    if (sampleRateHz <= 0) {
      throw new IllegalArgumentException("sampleRateHz must be > 0, was " + sampleRateHz);
    }
    FileChannel ch = FileChannel.open(
        file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
    try {
      return new WavWriter(ch, sampleRateHz, java.util.Objects.requireNonNull(format, "format"));
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** Writes a whole mono file in one call. */
  public static void write(Path file, int sampleRateHz, SampleFormat format, float[] samples) throws IOException {
    try (WavWriter w = create(file, sampleRateHz, format)) {
      w.write(samples, 0, samples.length);
    }
  }

  private int bytesPerSample() {
    return format == SampleFormat.PCM16 ? 2 : 4;
  }

  private void writeHeader(long sampleCount) {
    long dataBytes = sampleCount * bytesPerSample();
    boolean fl = format == SampleFormat.FLOAT32;
    int fmtSize = fl ? 18 : 16;
    int riffSize = (int) (4 + (8 + fmtSize) + (fl ? 12 : 0) + 8 + dataBytes);
    buf.put(ascii("RIFF")).putInt(riffSize).put(ascii("WAVE"));
    buf.put(ascii("fmt ")).putInt(fmtSize)
        .putShort((short) (fl ? 3 : 1))
        .putShort((short) 1)
        .putInt(sampleRateHz)
        .putInt(sampleRateHz * bytesPerSample())
        .putShort((short) bytesPerSample())
        .putShort((short) (8 * bytesPerSample()));
    if (fl) {
      buf.putShort((short) 0);
      buf.put(ascii("fact")).putInt(4).putInt((int) sampleCount);
    }
    buf.put(ascii("data")).putInt((int) dataBytes);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  /** Appends samples. */
  public void write(float[] samples, int offset, int length) throws IOException {
    ensureOpen();
    java.util.Objects.checkFromIndexSize(offset, length, samples.length);
    if ((this.samples + length) * bytesPerSample() > MAX_DATA_BYTES) {
      throw new IOException("WAV data would exceed 4 GiB");
    }
    for (int i = 0; i < length; i++) {
      if (buf.remaining() < 4) {
        flushBuffer();
      }
      float x = samples[offset + i];
      if (format == SampleFormat.PCM16) {
        buf.putShort(toPcm16(x));
      } else {
        buf.putFloat(x);
      }
    }
    this.samples += length;
  }

  /** Appends {@code count} zero samples. */
  public void writeSilence(long count) throws IOException {
    float[] zeros = new float[4096];
    long left = count;
    while (left > 0) {
      int n = (int) Math.min(left, zeros.length);
      write(zeros, 0, n);
      left -= n;
    }
  }

  /** 16-bit value of a sample: round(x * 32768) clipped to [-32768, 32767]. */
  public static short toPcm16(float x) {
    long v = Math.round((double) x * 32768.0);
    return (short) Math.max(-32768, Math.min(32767, v));
  }

  /** Samples written so far. */
  public long samplesWritten() {
    return samples;
  }

  private void flushBuffer() throws IOException {
    buf.flip();
    while (buf.hasRemaining()) {
      channel.write(buf);
    }
    buf.clear();
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("WAV writer is closed");
    }
  }

  /** Writes the pending samples and the final header sizes, and closes the file. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try (FileChannel ch = channel) {
      flushBuffer();
      writeHeader(samples);
      if (buf.position() != headerBytes) {
        throw new IllegalStateException("header size changed");
      }
      buf.flip();
      long pos = 0;
      while (buf.hasRemaining()) {
        pos += ch.write(buf, pos);
      }
      buf.clear();
    }
  }
}
