package io.callvec.player;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.topology.chunks.ChunkMapping;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import java.util.ArrayList;
import java.util.List;
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
   * What a {@link #play} has sent so far.
   *
   * @param records records handed to the producer (duplicates and end-of-stream markers included)
   * @param duplicates records that repeat the one before them (per {@link Chunker.Options#duplicateRate()})
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
   * stream's {@link Chunker#chunks} list, with step {@code i} due {@code i * chunkMs / speed} ms after the
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
  public static PlayStats play(Producer<String, AudioChunk> producer, String topic, List<Recording> streams, Chunker.Options o, Progress progress)
      throws InterruptedException {
    List<Chunker.Cursor> cursors = new ArrayList<>(streams.size());
    for (Recording s : streams) {
      cursors.add(Chunker.cursor(s, o));
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
        Chunker.Cursor c = cursors.get(k);
        if (!c.hasNext()) {
          continue;
        }
        AudioChunk chunk = c.next();
        producer.send(new ProducerRecord<>(topic, chunk.getCallId(), chunk), onAck);
        sent++;
        if (c.lastWasDuplicate()) {
          duplicates++;
        } else {
          Recording s = streams.get(k);
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
  public static List<Recording> streams(AudioFiles.Audio audio, String callId) {
    AudioEncoding enc = ChunkMapping.wireEncoding(audio.encoding());
    List<Recording> out = new ArrayList<>();
    for (int ch = 0; ch < audio.channelCount(); ch++) {
      out.add(new Recording(callId, ch, AudioFiles.channelName(ch, audio.channelCount()), enc, audio.sampleRateHz(), audio.channels().get(ch)));
    }
    return out;
  }

  /** One stream per channel of a WAV file (PCM16, μ-law or A-law), call id {@code callId}. */
  public static List<Recording> wavStreams(java.nio.file.Path file, String callId) throws java.io.IOException {
    return streams(AudioFiles.read(file, AudioFiles.Format.WAV, null), callId);
  }

  /** {@code calls} synthetic two-channel calls (agent + customer), μ-law 8 kHz, each {@code durationMs} long. */
  public static List<Recording> syntheticCalls(String prefix, int calls, long durationMs, long seed) {
    List<Recording> out = new ArrayList<>();
    for (int c = 0; c < calls; c++) {
      String id = prefix + "-" + c;
      for (int ch = 0; ch < 2; ch++) {
        float[] pcm = io.callvec.audio.SyntheticSpeech.generate(seed * 1_000_003L + c * 2L + ch, 8000, durationMs);
        out.add(new Recording(id, ch, ch == 0 ? "agent" : "customer", AudioEncoding.MULAW, 8000, io.callvec.audio.G711.encode(io.callvec.audio.Encoding.MULAW, pcm)));
      }
    }
    return out;
  }
}
