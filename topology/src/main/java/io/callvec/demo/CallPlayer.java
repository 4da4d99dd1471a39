package io.callvec.demo;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.Channel;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

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

  /** The chunks of one stream in sending order (shuffled and duplicated per options), end-of-stream last. */
  public static List<AudioChunk> chunks(Stream s, Options o) {
    int samplesPerChunk = o.chunkMs() * s.sampleRateHz() / 1000;
    int bytesPerChunk = samplesPerChunk * s.bytesPerSample();
    if (bytesPerChunk <= 0) {
      throw new IllegalArgumentException("chunk of " + o.chunkMs() + " ms at " + s.sampleRateHz() + " Hz has no samples");
    }
    int n = (s.audio().length + bytesPerChunk - 1) / bytesPerChunk;
    List<AudioChunk> ordered = new ArrayList<>(n + 1);
    Channel channel = new Channel(s.channelIndex(), s.channelName());
    for (int i = 0; i < n; i++) {
      int from = i * bytesPerChunk;
      int to = Math.min(s.audio().length, from + bytesPerChunk);
      ordered.add(chunk(s, channel, o.firstSequence() + i, (long) i * o.chunkMs(), Arrays.copyOfRange(s.audio(), from, to), false));
    }
    SplittableRandom rnd = new SplittableRandom(o.seed() ^ s.callId().hashCode() * 31L ^ s.channelIndex());
    List<AudioChunk> out = new ArrayList<>(n + 2);
    int w = Math.max(1, o.shuffleWindowChunks());
    for (int g = 0; g < n; g += w) {
      List<AudioChunk> group = new ArrayList<>(ordered.subList(g, Math.min(n, g + w)));
      for (int i = group.size() - 1; i > 0; i--) {
        int j = rnd.nextInt(i + 1);
        AudioChunk t = group.get(i);
        group.set(i, group.get(j));
        group.set(j, t);
      }
      for (AudioChunk c : group) {
        out.add(c);
        if (o.duplicateRate() > 0 && rnd.nextDouble() < o.duplicateRate()) {
          out.add(c);
        }
      }
    }
    out.add(chunk(s, channel, o.firstSequence() + n, (long) n * o.chunkMs(), new byte[0], true));
    return out;
  }

  private static AudioChunk chunk(Stream s, Channel channel, long seq, long tsMs, byte[] payload, boolean eos) {
    return AudioChunk.newBuilder()
        .setCallId(s.callId())
        .setChannel(channel)
        .setSequenceNumber(seq)
        .setMediaTimestampMs(tsMs)
        .setEncoding(s.encoding())
        .setSampleRateHz(s.sampleRateHz())
        .setPayload(ByteBuffer.wrap(payload))
        .setEndOfStream(eos)
        .setMetadata(seq == 0 ? Map.of("source", "callvec-player") : null)
        .build();
  }

  /**
   * Sends every stream, interleaved by position, paced per {@code o.speed()}.
   *
   * @param progress called with the number of records sent so far, about every 100 ms of audio
   * @return records sent
   */
  public static long play(Producer<String, AudioChunk> producer, String topic, List<Stream> streams, Options o, LongConsumer progress)
      throws InterruptedException {
    List<List<AudioChunk>> all = new ArrayList<>();
    int longest = 0;
    for (Stream s : streams) {
      List<AudioChunk> c = chunks(s, o);
      all.add(c);
      longest = Math.max(longest, c.size());
    }
    long sent = 0;
    long startNs = System.nanoTime();
    for (int i = 0; i < longest; i++) {
      if (o.speed() > 0) {
        long dueNs = startNs + (long) (i * o.chunkMs() * 1e6 / o.speed());
        long waitNs = dueNs - System.nanoTime();
        if (waitNs > 0) {
          Thread.sleep(waitNs / 1_000_000, (int) (waitNs % 1_000_000));
        }
      }
      for (List<AudioChunk> c : all) {
        if (i < c.size()) {
          AudioChunk chunk = c.get(i);
          producer.send(new ProducerRecord<>(topic, chunk.getCallId(), chunk));
          sent++;
        }
      }
      if (progress != null && i % Math.max(1, 100 / o.chunkMs()) == 0) {
        progress.accept(sent);
      }
    }
    producer.flush();
    if (progress != null) {
      progress.accept(sent);
    }
    return sent;
  }

  /** One stream per channel of a WAV file (PCM16, μ-law or A-law), call id {@code callId}. */
  public static List<Stream> wavStreams(java.nio.file.Path file, String callId) throws java.io.IOException {
    io.callvec.audio.WavFile wav = io.callvec.audio.WavFile.read(file);
    AudioEncoding enc = switch (wav.encoding()) {
      case MULAW -> AudioEncoding.MULAW;
      case ALAW -> AudioEncoding.ALAW;
      case PCM_S16LE -> AudioEncoding.PCM_S16LE;
    };
    List<Stream> out = new ArrayList<>();
    for (int ch = 0; ch < wav.channels(); ch++) {
      String name = wav.channels() == 2 ? (ch == 0 ? "agent" : "customer") : "channel-" + ch;
      out.add(new Stream(callId, ch, name, enc, wav.sampleRateHz(), wav.channelData(ch)));
    }
    return out;
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
