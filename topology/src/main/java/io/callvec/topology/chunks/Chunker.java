package io.callvec.topology.chunks;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.Channel;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Cuts a {@link Recording} into the {@link AudioChunk} records a telephony source sends: chunks of
 * {@code chunkMs}, optionally shuffled within a bounded window and duplicated, closed by an empty
 * end-of-stream chunk. The one chunk builder of the CLI's player, the benchmarks and the tests.
 */
public final class Chunker {
  private Chunker() {}

  /**
   * How to cut and play.
   *
   * @param chunkMs chunk length, ms of audio (20 is typical)
   * @param speed pacing for players: 1.0 = real time, 2.0 = twice as fast, 0 = as fast as possible
   *     (the chunker itself does not pace)
   * @param shuffleWindowChunks chunks of a stream are permuted within consecutive groups of this many (1 = in order)
   * @param duplicateRate fraction of chunks sent twice, 0..1
   * @param seed seed of shuffling and duplication
   * @param firstSequence sequence number of each stream's first chunk
   */
  public record Options(int chunkMs, double speed, int shuffleWindowChunks, double duplicateRate, long seed, long firstSequence) {
    /** 20 ms chunks, in order, at real time, no duplicates, sequence numbers from 0. */
    public static Options realTime() {
      return new Options(20, 1.0, 1, 0, 1, 0);
    }

    public Options withSpeed(double s) {
      return new Options(chunkMs, s, shuffleWindowChunks, duplicateRate, seed, firstSequence);
    }

    public Options withShuffle(int window, double dupRate, long newSeed) {
      return new Options(chunkMs, speed, window, dupRate, newSeed, firstSequence);
    }
  }

  /**
   * Where chunk {@code chunkIndex} of a stream starts: {@code chunkIndex * chunkMs * sampleRateHz / 1000}
   * samples (rounded down), so that chunk boundaries never drift from the chunks' media timestamps
   * ({@code chunkIndex * chunkMs}) even where a chunk is not a whole number of samples (e.g. 20 ms at
   * 11025 Hz: chunks of 220 and 221 samples).
   */
  public static long chunkStartSample(long chunkIndex, int chunkMs, int sampleRateHz) {
    return chunkIndex * chunkMs * sampleRateHz / 1000;
  }

  /** Chunks of {@code chunkMs} that a stream of {@code samples} samples is cut into (the last may be short). */
  public static long chunkCount(long samples, int chunkMs, int sampleRateHz) {
    // the smallest k with chunkStartSample(k) >= samples
    return Math.floorDiv(samples * 1000 + (long) chunkMs * sampleRateHz - 1, (long) chunkMs * sampleRateHz);
  }

  /**
   * The chunks of one stream in sending order (shuffled and duplicated per options), end-of-stream
   * last. Chunk {@code k} has sequence number {@code firstSequence + k}, media timestamp {@code k *
   * chunkMs} and the samples from {@link #chunkStartSample} of {@code k} to that of {@code k + 1}; a
   * duplicate is the same instance again, right after the original.
   *
   * @throws IllegalArgumentException if a chunk of {@code chunkMs} holds less than one sample
   */
  public static List<AudioChunk> chunks(Recording s, Options o) {
    Cursor c = cursor(s, o);
    List<AudioChunk> out = new ArrayList<>(c.chunkCount + 2);
    while (c.hasNext()) {
      out.add(c.next());
    }
    return out;
  }

  /**
   * The records of {@link #chunks}, made lazily: only one shuffle group of chunks is in memory at a
   * time, so that many long streams can be played at once.
   *
   * @throws IllegalArgumentException if a chunk of {@code chunkMs} holds less than one sample
   */
  public static Cursor cursor(Recording s, Options o) {
    return new Cursor(s, o);
  }

  /** A lazy iterator over one stream's records in sending order. */
  public static final class Cursor implements Iterator<AudioChunk> {
    private final Recording stream;
    private final Options options;
    private final Channel channel;
    private final int bytesPerSample;
    private final long samples;
    private final int chunkCount;
    private final int groupChunks;
    private final SplittableRandom rnd;
    private final ArrayDeque<AudioChunk> queue = new ArrayDeque<>();
    /** Next chunk index to cut, 0..chunkCount. */
    private int nextChunk;
    private boolean endSent;
    private AudioChunk previous;
    private boolean lastWasDuplicate;

    private Cursor(Recording s, Options o) {
      if ((long) o.chunkMs() * s.sampleRateHz() < 1000) {
        throw new IllegalArgumentException("chunk of " + o.chunkMs() + " ms at " + s.sampleRateHz() + " Hz has no samples");
      }
      this.stream = s;
      this.options = o;
      this.channel = new Channel(s.channelIndex(), s.channelName());
      this.bytesPerSample = s.bytesPerSample();
      this.samples = s.samples();
      this.chunkCount = Math.toIntExact(chunkCount(samples, o.chunkMs(), s.sampleRateHz()));
      this.groupChunks = Math.max(1, o.shuffleWindowChunks());
      this.rnd = new SplittableRandom(o.seed() ^ s.callId().hashCode() * 31L ^ s.channelIndex());
    }

    /** Whether the record last returned by {@link #next} repeated the one before it (a duplicate). */
    public boolean lastWasDuplicate() {
      return lastWasDuplicate;
    }

    @Override
    public boolean hasNext() {
      return !queue.isEmpty() || nextChunk < chunkCount || !endSent;
    }

    @Override
    public AudioChunk next() {
      if (queue.isEmpty()) {
        fill();
      }
      AudioChunk c = queue.pollFirst();
      if (c == null) {
        throw new NoSuchElementException("stream " + stream.callId() + "/" + stream.channelIndex() + " is done");
      }
      lastWasDuplicate = c == previous;
      previous = c;
      return c;
    }

    private void fill() {
      if (nextChunk >= chunkCount) {
        if (!endSent) {
          endSent = true;
          queue.add(chunk(options.firstSequence() + chunkCount, (long) chunkCount * options.chunkMs(), new byte[0], true, chunkCount == 0));
        }
        return;
      }
      int end = Math.min(chunkCount, nextChunk + groupChunks);
      List<AudioChunk> group = new ArrayList<>(end - nextChunk);
      for (int i = nextChunk; i < end; i++) {
        int from = (int) (chunkStartSample(i, options.chunkMs(), stream.sampleRateHz()) * bytesPerSample);
        int to = (int) (Math.min(samples, chunkStartSample(i + 1L, options.chunkMs(), stream.sampleRateHz())) * bytesPerSample);
        group.add(chunk(options.firstSequence() + i, (long) i * options.chunkMs(), Arrays.copyOfRange(stream.audio(), from, to), false, i == 0));
      }
      nextChunk = end;
      for (int i = group.size() - 1; i > 0; i--) {
        int j = rnd.nextInt(i + 1);
        AudioChunk t = group.get(i);
        group.set(i, group.get(j));
        group.set(j, t);
      }
      for (AudioChunk c : group) {
        queue.add(c);
        if (options.duplicateRate() > 0 && rnd.nextDouble() < options.duplicateRate()) {
          queue.add(c); // the same instance, right after
        }
      }
    }

    private AudioChunk chunk(long seq, long tsMs, byte[] payload, boolean eos, boolean first) {
      return AudioChunk.newBuilder()
          .setCallId(stream.callId())
          .setChannel(channel)
          .setSequenceNumber(seq)
          .setMediaTimestampMs(tsMs)
          .setEncoding(stream.encoding())
          .setSampleRateHz(stream.sampleRateHz())
          .setPayload(ByteBuffer.wrap(payload))
          .setEndOfStream(eos)
          .setMetadata(first ? Map.of("source", "callvec-player") : null)
          .build();
    }
  }
}
