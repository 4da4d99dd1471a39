package io.callvec.demo;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;

/**
 * Plays recorded or synthetic call audio into Kafka as a telephony source would: every stream cut
 * into chunks of {@code chunkMs}, all streams interleaved by media time, optionally paced at real
 * time (or a multiple), optionally shuffled within a bounded window and duplicated, and closed by an
 * empty end-of-stream chunk. Records are keyed by call id.
 */
public final class CallPlayer {
  private CallPlayer() {}

  /**
   * One call × channel stream.
   *
   * @param audio the whole stream, encoded in {@code encoding} (1 byte per sample for G.711, 2 for PCM16)
   */
  public record Stream(String callId, int channelIndex, String channelName, AudioEncoding encoding, int sampleRateHz, byte[] audio) {
    public int bytesPerSample() {
      return encoding == AudioEncoding.PCM_S16LE ? 2 : 1;
    }

    /** Duration in milliseconds. */
    public long durationMs() {
      return (long) audio.length / bytesPerSample() * 1000 / sampleRateHz;
    }
  }

  /**
   * How to play.
   *
   * @param chunkMs chunk length, ms of audio (20 is typical)
   * @param speed 1.0 = real time, 2.0 = twice as fast, 0 = as fast as the producer goes
   * @param shuffleWindowChunks chunks of a stream are permuted within consecutive groups of this many (1 = in order)
   * @param duplicateRate fraction of chunks sent twice
   * @param seed seed of shuffling and duplication
   * @param firstSequence sequence number of each stream's first chunk
   */
  public record Options(int chunkMs, double speed, int shuffleWindowChunks, double duplicateRate, long seed, long firstSequence) {
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
  public static List<AudioChunk> chunks(Stream s, Options o) {
    Cursor c = new Cursor(s, o);
    List<AudioChunk> out = new ArrayList<>(c.chunkCount + 2);
    while (c.hasNext()) {
      out.add(c.next());
    }
    return out;
  }

  /**
   * The records of one stream in sending order, made lazily: only one shuffle group of chunks is in
   * memory at a time, so that many long streams can be played at once.
   */
  private static final class Cursor implements Iterator<AudioChunk> {
    private final Stream stream;
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
    /** Whether the record last returned by {@link #next} repeated the one before it. */
    boolean lastWasDuplicate;

    Cursor(Stream s, Options o) {
      if ((long) o.chunkMs() * s.sampleRateHz() < 1000) {
        throw new IllegalArgumentException("chunk of " + o.chunkMs() + " ms at " + s.sampleRateHz() + " Hz has no samples");
      }
      this.stream = s;
      this.options = o;
      this.channel = new Channel(s.channelIndex(), s.channelName());
      this.bytesPerSample = s.bytesPerSample();
      this.samples = s.audio().length / bytesPerSample;
      this.chunkCount = Math.toIntExact(chunkCount(samples, o.chunkMs(), s.sampleRateHz()));
      this.groupChunks = Math.max(1, o.shuffleWindowChunks());
      this.rnd = new SplittableRandom(o.seed() ^ s.callId().hashCode() * 31L ^ s.channelIndex());
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
          queue.add(chunk(stream, channel, options.firstSequence() + chunkCount, (long) chunkCount * options.chunkMs(), new byte[0], true,
              chunkCount == 0));
        }
        return;
      }
      int end = Math.min(chunkCount, nextChunk + groupChunks);
      List<AudioChunk> group = new ArrayList<>(end - nextChunk);
      for (int i = nextChunk; i < end; i++) {
        int from = (int) (chunkStartSample(i, options.chunkMs(), stream.sampleRateHz()) * bytesPerSample);
        int to = (int) (Math.min(samples, chunkStartSample(i + 1L, options.chunkMs(), stream.sampleRateHz())) * bytesPerSample);
        group.add(chunk(stream, channel, options.firstSequence() + i, (long) i * options.chunkMs(),
            Arrays.copyOfRange(stream.audio(), from, to), false, i == 0));
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
  }

  private static AudioChunk chunk(Stream s, Channel channel, long seq, long tsMs, byte[] payload, boolean eos, boolean first) {
    return AudioChunk.newBuilder()
        .setCallId(s.callId())
        .setChannel(channel)
        .setSequenceNumber(seq)
        .setMediaTimestampMs(tsMs)
        .setEncoding(s.encoding())
        .setSampleRateHz(s.sampleRateHz())
        .setPayload(ByteBuffer.wrap(payload))
        .setEndOfStream(eos)
        .setMetadata(first ? Map.of("source", "callvec-player") : null)
        .build();
  }

  /**
   * What a {@link #play} has sent so far.
   *
   * @param records records handed to the producer (duplicates and end-of-stream markers included)
   * @param duplicates records that repeat the one before them (per {@link Options#duplicateRate()})
   * @param endOfStreamMarkers end-of-stream records (one per finished stream)
   * @param audioSeconds audio in the records, seconds, summed over streams, duplicates not counted
   * @param elapsedSeconds wall-clock time since the first record, seconds
   */
  public record PlayStats(long records, long duplicates, long endOfStreamMarkers, double audioSeconds, double elapsedSeconds) {}

  /** Receives {@link PlayStats} while a {@link #play} runs. */
  @FunctionalInterface
  public interface Progress {
    void update(PlayStats soFar);
  }

  /**
   * Sends every stream, interleaved by position: at step {@code i} the {@code i}-th record of every
   * stream's {@link #chunks} list, with step {@code i} due {@code i * chunkMs / speed} ms after the
   * start (no pacing at speed 0). Records are keyed by call id. Returns after the producer has
   * flushed.
   *
   * <p>Nothing is lost silently: every send is checked; at the first failed send the player stops
   * sending and throws, after flushing what was sent.
   *
   * @param progress called about every 100 ms of audio and once at the end; may be null
   * @return what was sent
   * @throws org.apache.kafka.common.KafkaException if the producer failed to write a record (the
   *     message says how many; the cause is the first failure)
   */
  public static PlayStats play(Producer<String, AudioChunk> producer, String topic, List<Stream> streams, Options o, Progress progress)
      throws InterruptedException {
    List<Cursor> cursors = new ArrayList<>(streams.size());
    for (Stream s : streams) {
      cursors.add(new Cursor(s, o));
    }
    AtomicReference<Exception> firstFailure = new AtomicReference<>();
    AtomicLong failures = new AtomicLong();
    Callback onAck = (metadata, e) -> {
      if (e != null) {
        failures.incrementAndGet();
        firstFailure.compareAndSet(null, e);
      }
    };
    long sent = 0;
    long duplicates = 0;
    long eos = 0;
    double audioSeconds = 0;
    long startNs = System.nanoTime();
    int progressEvery = Math.max(1, 100 / o.chunkMs());
    boolean more = true;
    for (long i = 0; more && firstFailure.get() == null; i++) {
      if (o.speed() > 0) {
        long dueNs = startNs + (long) (i * o.chunkMs() * 1e6 / o.speed());
        long waitNs = dueNs - System.nanoTime();
        if (waitNs > 0) {
          Thread.sleep(waitNs / 1_000_000, (int) (waitNs % 1_000_000));
        }
      }
      more = false;
      for (int k = 0; k < cursors.size(); k++) {
        Cursor c = cursors.get(k);
        if (!c.hasNext()) {
          continue;
        }
        AudioChunk chunk = c.next();
        producer.send(new ProducerRecord<>(topic, chunk.getCallId(), chunk), onAck);
        sent++;
        if (c.lastWasDuplicate) {
          duplicates++;
        } else {
          Stream s = streams.get(k);
          audioSeconds += (double) chunk.getPayload().remaining() / s.bytesPerSample() / s.sampleRateHz();
        }
        if (chunk.getEndOfStream()) {
          eos++;
        }
        more |= c.hasNext();
      }
      if (progress != null && i % progressEvery == 0) {
        progress.update(new PlayStats(sent, duplicates, eos, audioSeconds, (System.nanoTime() - startNs) / 1e9));
      }
    }
    producer.flush();
    PlayStats done = new PlayStats(sent, duplicates, eos, audioSeconds, (System.nanoTime() - startNs) / 1e9);
    Exception failure = firstFailure.get();
    if (failure != null) {
      throw new KafkaException(failures.get() + " of " + sent + " records sent to " + topic + " were not written"
          + " (sending stopped at the first failure); first error: " + failure, failure);
    }
    if (progress != null) {
      progress.update(done);
    }
    return done;
  }

  /**
   * One stream per channel of a file's audio, all with call id {@code callId}: channel {@code n} has
   * index {@code n} and the name {@link AudioFiles#channelName}.
   */
  public static List<Stream> streams(AudioFiles.Audio audio, String callId) {
    AudioEncoding enc = avroEncoding(audio.encoding());
    List<Stream> out = new ArrayList<>();
    for (int ch = 0; ch < audio.channelCount(); ch++) {
      out.add(new Stream(callId, ch, AudioFiles.channelName(ch, audio.channelCount()), enc, audio.sampleRateHz(), audio.channels().get(ch)));
    }
    return out;
  }

  /** The Avro encoding of a front-end encoding. */
  public static AudioEncoding avroEncoding(io.callvec.audio.Encoding encoding) {
    return switch (encoding) {
      case MULAW -> AudioEncoding.MULAW;
      case ALAW -> AudioEncoding.ALAW;
      case PCM_S16LE -> AudioEncoding.PCM_S16LE;
    };
  }

  /** One stream per channel of a WAV file (PCM16, μ-law or A-law), call id {@code callId}. */
  public static List<Stream> wavStreams(java.nio.file.Path file, String callId) throws java.io.IOException {
    return streams(AudioFiles.read(file, AudioFiles.Format.WAV, null), callId);
  }

  /** {@code calls} synthetic two-channel calls (agent + customer), μ-law 8 kHz, each {@code durationMs} long. */
  public static List<Stream> syntheticCalls(String prefix, int calls, long durationMs, long seed) {
    List<Stream> out = new ArrayList<>();
    for (int c = 0; c < calls; c++) {
      String id = prefix + "-" + c;
      for (int ch = 0; ch < 2; ch++) {
        float[] pcm = SyntheticSpeech.generate(seed * 1_000_003L + c * 2L + ch, 8000, durationMs);
        out.add(new Stream(id, ch, ch == 0 ? "agent" : "customer", AudioEncoding.MULAW, 8000, io.callvec.audio.G711.encode(io.callvec.audio.Encoding.MULAW, pcm)));
      }
    }
    return out;
  }
}
