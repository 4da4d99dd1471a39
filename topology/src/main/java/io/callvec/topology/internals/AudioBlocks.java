package io.callvec.topology.internals;

import io.callvec.audio.Encoding;
import io.callvec.audio.Resampler;
import io.callvec.audio.SampleCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The block store ({@code callvec-audio-blocks}): a stream's buffered audio, from the oldest window
 * still needed to the newest sample, and the 16 kHz audio of a window read back from it.
 *
 * <h2>Two layouts, told apart by each value</h2>
 *
 * <ul>
 *   <li><b>Source blocks</b> (written for every stream this version starts): the audio as the front
 *       end assembled it at the source rate (decoded chunks and gap-fill silence), stored losslessly
 *       in the smallest {@link SampleCodec} form: 1 byte per sample for G.711 (160 B per 20 ms of
 *       8 kHz μ-law, against 1,280 B of 16 kHz float32), 2 for PCM16, 0 for silence. Key: prefix +
 *       the block's first sample on the call's source-rate timeline. Value ({@value
 *       #SOURCE_HEADER_BYTES}-byte header, little-endian): {@code int64 (0xC7 << 56 | record
 *       timestamp in 56-bit two's complement)}, {@code int8 form}, {@code int32 source rate (Hz)},
 *       {@code int64 run start (16 kHz sample)}, {@code int64 run start (source sample)}, then the
 *       samples ({@code int32 count} for the silence form). A window's 16 kHz samples are computed
 *       when it is read, with {@link Resampler#render} over the source samples its filter reaches
 *       (K = 77 samples either side at 8 kHz): bit-identical to resampling every chunk.
 *   <li><b>16 kHz float blocks</b> (the previous version's layout, still read and written for the
 *       streams it started, so that a rolling upgrade finishes them unchanged; also the reference
 *       mode {@link CallProcessor#REFERENCE_BLOCKS_PROPERTY}): key prefix + the block's first 16 kHz
 *       sample; value {@code int64 record timestamp} + float32 LE samples. Their first byte is a
 *       timestamp's low byte, their eighth its top byte: 0x00 or 0xFF for any real timestamp, never
 *       0xC7.
 * </ul>
 *
 * <p>A stream's blocks all have one layout (the front end's mode is fixed when the stream starts).
 * Not thread-safe: the stream thread's.
 */
final class AudioBlocks {
  static final int LEGACY_HEADER_BYTES = 8;
  static final int SOURCE_HEADER_BYTES = 8 + 1 + 4 + 8 + 8;
  private static final long SOURCE_MARK = 0xC7L << 56;
  private static final long TIMESTAMP_MASK = (1L << 56) - 1;
  private static final int MARK_BYTE = 0xC7;

  private final KeyValueStore<Bytes, byte[]> store;
  /** Encoding scratch, grown on demand. */
  private byte[] scratch = new byte[4096];

  AudioBlocks(KeyValueStore<Bytes, byte[]> store) {
    this.store = store;
  }

  // ---------------------------------------------------------------- writing

  /** A 16 kHz float block (previous layout). */
  void writeFloat16k(byte[] prefix, long startSample16k, long recordTs, float[] samples, int offset, int length) {
    ByteBuffer b = ByteBuffer.allocate(LEGACY_HEADER_BYTES + 4 * length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(recordTs);
    b.asFloatBuffer().put(samples, offset, length);
    store.put(StoreKeys.withLong(prefix, startSample16k), b.array());
  }

  /**
   * A source block: {@code length} samples of the run starting at {@code runStartSource} (source
   * timeline) / {@code runStart16k}, from run sample {@code runOffset}.
   *
   * @throws IllegalArgumentException if the record timestamp does not fit 56 bits (beyond year 1 million)
   */
  void writeSource(
      byte[] prefix, Encoding encoding, int rateHz, long runStart16k, long runStartSource, long runOffset, long recordTs,
      float[] samples, int offset, int length) {
    if (recordTs < -(1L << 55) || recordTs >= (1L << 55)) {
      throw new IllegalArgumentException("record timestamp " + recordTs + " ms does not fit the block header's 56 bits");
    }
    if (scratch.length < 4 * length) {
      scratch = new byte[Math.max(4 * length, 2 * scratch.length)];
    }
    int form = SampleCodec.formFor(encoding, samples, offset, length, scratch);
    if (form == SampleCodec.FLOAT32) {
      SampleCodec.encode(SampleCodec.FLOAT32, samples, offset, length, scratch, 0);
    }
    int payload = form == SampleCodec.SILENCE ? 4 : length * SampleCodec.bytesPerSample(form);
    ByteBuffer b = ByteBuffer.allocate(SOURCE_HEADER_BYTES + payload).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(SOURCE_MARK | (recordTs & TIMESTAMP_MASK)).put((byte) form).putInt(rateHz).putLong(runStart16k).putLong(runStartSource);
    if (form == SampleCodec.SILENCE) {
      b.putInt(length);
    } else {
      b.put(scratch, 0, payload);
    }
    store.put(StoreKeys.withLong(prefix, runStartSource + runOffset), b.array());
  }

  // ---------------------------------------------------------------- reading

  /** A parsed source block. */
  private record SourceBlock(long start, long recordTs, int form, int rateHz, long runStart16k, long runStartSource, int samples, byte[] value) {
    long runOffset() {
      return start - runStartSource;
    }

    long runEnd() {
      return runOffset() + samples;
    }
  }

  static boolean isSourceBlock(byte[] value) {
    return value.length >= SOURCE_HEADER_BYTES && (value[7] & 0xFF) == MARK_BYTE;
  }

  private static SourceBlock parse(byte[] key, byte[] value) {
    if (!isSourceBlock(value)) {
      throw new IllegalStateException("a 16 kHz float block among the source blocks of " + StoreKeys.callId(key) + " at key " + StoreKeys.trailingLong(key));
    }
    ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    long ts = (b.getLong() << 8) >> 8;
    int form = b.get();
    int rate = b.getInt();
    long run16k = b.getLong();
    long runSource = b.getLong();
    int samples = form == SampleCodec.SILENCE ? b.getInt() : (value.length - SOURCE_HEADER_BYTES) / SampleCodec.bytesPerSample(form);
    return new SourceBlock(StoreKeys.trailingLong(key), ts, form, rate, run16k, runSource, samples, value);
  }

  /** The stream's first block (lowest key), or null. */
  private KeyValue<Bytes, byte[]> first(byte[] prefix) {
    try (KeyValueIterator<Bytes, byte[]> it = store.range(StoreKeys.withLong(prefix, Long.MIN_VALUE), StoreKeys.withLong(prefix, Long.MAX_VALUE))) {
      return it.hasNext() ? it.next() : null;
    }
  }

  /**
   * The window's 16 kHz audio; observes the record timestamps of the chunks that produced it (as the
   * 16 kHz layout did: for output {@code j}, the chunk whose audio made it computable).
   *
   * @throws IllegalStateException if audio the window needs is not in the store
   */
  float[] readWindow(byte[] prefix, PendingWindow w) {
    KeyValue<Bytes, byte[]> first = first(prefix);
    if (first == null) {
      throw new IllegalStateException("window " + w.segmentIndex() + " of " + StoreKeys.callId(prefix) + ": the block store holds no audio");
    }
    return isSourceBlock(first.value) ? readSource(prefix, w, parse(first.key.get(), first.value).rateHz()) : readFloat16k(prefix, w);
  }

  private float[] readFloat16k(byte[] prefix, PendingWindow w) {
    float[] out = new float[w.lengthSamples()];
    long end = w.startSample() + w.lengthSamples();
    int filled = 0;
    long expected = w.startSample();
    try (KeyValueIterator<Bytes, byte[]> it = store.range(StoreKeys.withLong(prefix, w.startSample()), StoreKeys.withLong(prefix, end - 1))) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        long blockStart = StoreKeys.trailingLong(kv.key.get());
        if (blockStart != expected) {
          throw new IllegalStateException("audio block missing at sample " + expected + " (next block starts at " + blockStart + ")");
        }
        ByteBuffer b = ByteBuffer.wrap(kv.value).order(ByteOrder.LITTLE_ENDIAN);
        long ts = b.getLong();
        w.observeChunkTimestamp(ts);
        int blockSamples = (kv.value.length - LEGACY_HEADER_BYTES) / 4;
        int n = (int) Math.min(blockSamples, end - blockStart);
        b.asFloatBuffer().get(out, filled, n);
        filled += n;
        expected = blockStart + blockSamples;
      }
    }
    if (filled != w.lengthSamples()) {
      throw new IllegalStateException("window " + w.segmentIndex() + " of " + StoreKeys.callId(prefix) + " needs " + w.lengthSamples()
          + " samples from " + w.startSample() + ", the block store holds " + filled);
    }
    return out;
  }

  /** Highest source-timeline key a block needed at or before 16 kHz sample {@code s16k} can have (filter reach included). */
  private static long keyBound(long s16k, int rateHz) {
    long k = Resampler.inputSpan(0, 1, rateHz)[1] - 1; // K
    return Math.floorDiv((s16k + 2) * rateHz, Resampler.OUTPUT_RATE_HZ) + k + 2;
  }

  private float[] readSource(byte[] prefix, PendingWindow w, int rate) {
    long w0 = w.startSample();
    long w1 = w0 + w.lengthSamples();
    List<SourceBlock> found = new ArrayList<>();
    long runStart16k = -1;
    long lo = 0;
    long hi = 0;
    try (KeyValueIterator<Bytes, byte[]> it = store.reverseRange(StoreKeys.withLong(prefix, Long.MIN_VALUE), StoreKeys.withLong(prefix, keyBound(w1, rate)))) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        SourceBlock b = parse(kv.key.get(), kv.value);
        if (runStart16k < 0) {
          if (b.runStart16k() > w0) {
            continue; // a later run's
          }
          runStart16k = b.runStart16k();
          long[] span = Resampler.inputSpan(w0 - runStart16k, w1 - runStart16k, rate);
          lo = Math.max(0, span[0]);
          hi = span[1];
        }
        if (b.runStart16k() != runStart16k || b.runEnd() <= lo) {
          break; // an earlier run's, or before what the window reaches
        }
        if (b.runOffset() < hi) {
          found.add(b);
        }
        if (b.runOffset() <= lo) {
          break;
        }
      }
    }
    Collections.reverse(found);
    if (found.isEmpty() || found.get(0).runOffset() > lo) {
      throw new IllegalStateException("window " + w.segmentIndex() + " of " + StoreKeys.callId(prefix) + " [" + w0 + ", " + w1
          + ") needs source samples from run offset " + lo + ", the block store holds them from "
          + (found.isEmpty() ? "nowhere" : String.valueOf(found.get(0).runOffset())));
    }
    long have = found.get(found.size() - 1).runEnd();
    int n = Math.toIntExact(Math.min(hi, have) - lo);
    float[] src = new float[n];
    float[] tmp = new float[0];
    long expected = found.get(0).runOffset();
    long j0 = w0 - runStart16k;
    long j1 = w1 - runStart16k;
    long producedFrom = Math.min(Resampler.inputSpan(j0, j0 + 1, rate)[1] - 1, have - 1); // input that made output j0 computable
    for (SourceBlock b : found) {
      if (b.runOffset() != expected) {
        throw new IllegalStateException("source block missing at run offset " + expected + " of " + StoreKeys.callId(prefix)
            + " (next block starts at " + b.runOffset() + ")");
      }
      expected = b.runEnd();
      if (tmp.length < b.samples()) {
        tmp = new float[b.samples()];
      }
      SampleCodec.decode(b.form(), b.value(), SOURCE_HEADER_BYTES, b.samples(), tmp, 0);
      long from = Math.max(lo, b.runOffset());
      long to = Math.min(lo + n, b.runEnd());
      if (to > from) {
        System.arraycopy(tmp, (int) (from - b.runOffset()), src, (int) (from - lo), (int) (to - from));
      }
      if (b.runEnd() > producedFrom) {
        w.observeChunkTimestamp(b.recordTs());
      }
    }
    if (have < hi && j1 > Resampler.outputLength(have, rate)) {
      throw new IllegalStateException("window " + w.segmentIndex() + " of " + StoreKeys.callId(prefix) + " ends at run output " + j1
          + ", but the run's " + have + " stored source samples give " + Resampler.outputLength(have, rate));
    }
    float[] out = new float[w.lengthSamples()];
    Resampler.render(rate, src, lo, n, j0, w.lengthSamples(), out, 0);
    return out;
  }

  // ---------------------------------------------------------------- pruning

  /** Deletes the blocks that no window starting at or after 16 kHz sample {@code keepFrom16k} needs. */
  void prune(byte[] prefix, long keepFrom16k) {
    KeyValue<Bytes, byte[]> first = first(prefix);
    if (first == null) {
      return;
    }
    if (!isSourceBlock(first.value)) {
      deleteBelow(prefix, keepFrom16k);
      return;
    }
    int rate = parse(first.key.get(), first.value).rateHz();
    long lowestKept = Long.MAX_VALUE;
    long below = Long.MIN_VALUE;
    long runStart16k = -1;
    long needed = 0;
    try (KeyValueIterator<Bytes, byte[]> it = store.reverseRange(StoreKeys.withLong(prefix, Long.MIN_VALUE), StoreKeys.withLong(prefix, keyBound(keepFrom16k, rate)))) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        SourceBlock b = parse(kv.key.get(), kv.value);
        if (runStart16k < 0) {
          if (b.runStart16k() > keepFrom16k) {
            lowestKept = b.start(); // a later run's: kept
            continue;
          }
          runStart16k = b.runStart16k();
          needed = Math.max(0, Resampler.inputSpan(keepFrom16k - runStart16k, keepFrom16k - runStart16k + 1, rate)[0]);
        }
        if (b.runStart16k() == runStart16k && b.runEnd() > needed) {
          lowestKept = b.start();
          continue;
        }
        below = lowestKept == Long.MAX_VALUE ? b.start() + 1 : lowestKept;
        break;
      }
    }
    deleteBelow(prefix, below);
  }

  /** Deletes all of the stream's blocks. */
  void deleteAll(byte[] prefix) {
    deleteBelow(prefix, Long.MAX_VALUE);
  }

  /** Deletes keys {@code prefix + [MIN, below)}. */
  private void deleteBelow(byte[] prefix, long below) {
    StoreKeys.deleteBelow(store, prefix, below);
  }
}
