package io.callvec.topology.internals;

import io.callvec.audio.Encoding;
import io.callvec.audio.Resampler;
import io.callvec.audio.SampleCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The block store ({@code callvec-audio-blocks}): a stream's buffered audio, from the oldest window
 * still needed to the newest sample, and the 16 kHz audio of a window read back from it.
 *
 * <h2>Three layouts, told apart by each value</h2>
 *
 * <ul>
 *   <li><b>Source blocks</b> (written for every stream this version starts): the audio as the front
 *       end assembled it at the source rate (decoded chunks and gap-fill silence), stored losslessly
 *       in the smallest {@link SampleCodec} form that holds it: 1 byte per sample for G.711 (160 B
 *       per 20 ms of 8 kHz μ-law, against 1,280 B of 16 kHz float32), 2 for PCM16, 0 for silence.
 *       A block holds the consecutive pieces of one run written while the record cache kept it
 *       (see {@link WriteDownCountingStore}): a new piece is appended to the stream's newest block
 *       unless that block has been written down (the cache flushed it at a commit, or evicted it),
 *       belongs to another run, does not end where the piece starts, cannot hold the piece in its
 *       form, or is full ({@value #MAX_PIECES} pieces or {@value #MAX_PAYLOAD_BYTES} bytes of
 *       samples). So a stream writes about one block per commit interval (100 ms under
 *       exactly-once) instead of one per 20 ms chunk, and the changelog carries one key, header and
 *       record overhead per block. Key: prefix + the block's first sample on the call's source-rate
 *       timeline. Value: {@code int64 LE (0xC8 << 56 | first piece's record timestamp in 56-bit
 *       two's complement)}, {@code int8 form}, then unsigned varints {@code source rate (Hz)},
 *       {@code run start (16 kHz sample)}, {@code run start (source sample)}, {@code pieces n}, then
 *       per piece {@code varint samples} and {@code zigzag varint (record timestamp − previous
 *       piece's, ms)}, then the samples of all pieces. A window's 16 kHz samples are computed when
 *       it is read, with {@link Resampler#render} over the source samples its filter reaches (K =
 *       77 samples either side at 8 kHz): bit-identical to resampling every chunk.
 *   <li><b>Single-piece source blocks</b> (the previous version's source layout, mark 0xC7; read, so
 *       that a rolling upgrade finishes the streams it started): one block per piece, header {@code
 *       int64 (0xC7 << 56 | record timestamp)}, {@code int8 form}, {@code int32 source rate (Hz)},
 *       {@code int64 run start (16 kHz sample)}, {@code int64 run start (source sample)}, then the
 *       samples ({@code int32 count} for the silence form). A stream may hold both source layouts:
 *       this version appends its blocks after the previous version's.
 *   <li><b>16 kHz float blocks</b> (the layout before source blocks, still read and written for the
 *       streams it started; also the reference mode {@link CallProcessor#REFERENCE_BLOCKS_PROPERTY}):
 *       key prefix + the block's first 16 kHz sample; value {@code int64 record timestamp} + float32
 *       LE samples. Their first byte is a timestamp's low byte, their eighth its top byte: 0x00 or
 *       0xFF for any real timestamp, never 0xC7 or 0xC8.
 * </ul>
 *
 * <p>A stream's blocks are either 16 kHz float blocks or source blocks (the front end's mode is
 * fixed when the stream starts). Not thread-safe: the stream thread's.
 */
final class AudioBlocks {
  static final int LEGACY_HEADER_BYTES = 8;
  /** Header of a single-piece source block (mark 0xC7, the previous version's). */
  static final int SINGLE_HEADER_BYTES = 8 + 1 + 4 + 8 + 8;
  /** At most this many pieces (front-end outputs, about one per chunk) in one source block. */
  static final int MAX_PIECES = 64;
  /** At most this many bytes of samples in one source block (0.5 s of 8 kHz G.711). */
  static final int MAX_PAYLOAD_BYTES = 4096;
  private static final int SINGLE_MARK = 0xC7;
  private static final int MARK = 0xC8;
  private static final long TIMESTAMP_MASK = (1L << 56) - 1;

  private final KeyValueStore<Bytes, byte[]> store;
  /** How many writes of this task's block store reached RocksDB and the changelog so far. */
  private final LongSupplier writeDowns;
  /** Per stream (prefix): its newest source block, while it may be appended to. */
  private final Map<Bytes, Newest> newest = new HashMap<>();
  /** Encoding scratch, grown on demand. */
  private byte[] scratch = new byte[4096];
  /** A source block's header while it is written: at most 9 + 4 varints (30 B) + 15 B per piece. */
  private final byte[] headScratch = new byte[9 + 30 + MAX_PIECES * 15];

  /**
   * A stream's newest source block as this instance last wrote it, parsed (its value array is the
   * one in the store: never changed after the put). Every write and delete of the block store goes through this
   * class, and the index is emptied whenever the store may have changed otherwise (task initialised,
   * restored, closed), so the index is what the store holds.
   */
  private record Newest(Bytes key, SourceBlock block, long writeDowns) {}

  /**
   * @param writeDowns the count of the store's writes that reached the changelog ({@link
   *     WriteDownCountingStore}); a count that changes on every read makes every piece a block of its own
   */
  AudioBlocks(KeyValueStore<Bytes, byte[]> store, LongSupplier writeDowns) {
    this.store = store;
    this.writeDowns = writeDowns;
  }

  /** Forgets the newest blocks (task initialised or closed: the store may have been restored). */
  void clear() {
    newest.clear();
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
   * A piece of source audio: {@code length} samples of the run starting at {@code runStartSource}
   * (source timeline) / {@code runStart16k}, from run sample {@code runOffset}; appended to the
   * stream's newest block where it can be (see the class comment), else the first piece of a new one.
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
    Bytes stream = Bytes.wrap(prefix);
    Newest open = newest.get(stream);
    SourceBlock block;
    Bytes key;
    if (open != null && appendable(open, rateHz, runStart16k, runStartSource, runOffset, length)
        && SampleCodec.encode(open.block().form(), samples, offset, length, scratch, 0)) {
      SourceBlock b = open.block();
      block = encode(b.start(), b.form(), rateHz, runStart16k, runStartSource, append(b.pieceSamples(), length), append(b.pieceTs(), recordTs),
          b.value(), b.payloadOffset(), b.samples() * SampleCodec.bytesPerSample(b.form()));
      key = open.key();
    } else {
      int form = SampleCodec.formFor(encoding, samples, offset, length, scratch);
      if (form == SampleCodec.FLOAT32) {
        SampleCodec.encode(SampleCodec.FLOAT32, samples, offset, length, scratch, 0);
      }
      block = encode(runStartSource + runOffset, form, rateHz, runStart16k, runStartSource, new int[] {length}, new long[] {recordTs}, null, 0, 0);
      key = StoreKeys.withLong(prefix, block.start());
    }
    store.put(key, block.value());
    newest.put(stream, new Newest(key, block, writeDowns.getAsLong()));
  }

  /** Whether a piece of this run starting at {@code runOffset} may be appended to the stream's newest block {@code n}. */
  private boolean appendable(Newest n, int rateHz, long runStart16k, long runStartSource, long runOffset, int length) {
    SourceBlock b = n.block();
    return n.writeDowns() == writeDowns.getAsLong()
        && b.rateHz() == rateHz && b.runStart16k() == runStart16k && b.runStartSource() == runStartSource && b.runEnd() == runOffset
        && b.pieceSamples().length < MAX_PIECES
        && (long) (b.samples() + length) * SampleCodec.bytesPerSample(b.form()) <= MAX_PAYLOAD_BYTES;
  }

  private static int[] append(int[] a, int v) {
    int[] out = java.util.Arrays.copyOf(a, a.length + 1);
    out[a.length] = v;
    return out;
  }

  private static long[] append(long[] a, long v) {
    long[] out = java.util.Arrays.copyOf(a, a.length + 1);
    out[a.length] = v;
    return out;
  }

  /**
   * A source block starting at source sample {@code start}: the pieces {@code pieceSamples}/{@code
   * pieceTs}, whose samples are {@code oldPayloadBytes} bytes of {@code old} from {@code oldOffset}
   * followed by the last piece's encoded samples in {@link #scratch}.
   */
  private SourceBlock encode(long start, int form, int rateHz, long runStart16k, long runStartSource, int[] pieceSamples, long[] pieceTs,
      byte[] old, int oldOffset, int oldPayloadBytes) {
    int pieces = pieceSamples.length;
    int newSamples = pieceSamples[pieces - 1];
    int newPayload = newSamples * SampleCodec.bytesPerSample(form);
    byte[] head = headScratch;
    long first = (MARK & 0xFFL) << 56 | (pieceTs[0] & TIMESTAMP_MASK);
    for (int i = 0; i < 8; i++) {
      head[i] = (byte) (first >>> (8 * i));
    }
    head[8] = (byte) form;
    int p = 9;
    p = Varint.put(head, p, rateHz);
    p = Varint.put(head, p, runStart16k);
    p = Varint.put(head, p, runStartSource);
    p = Varint.put(head, p, pieces);
    long prevTs = pieceTs[0];
    int samples = 0;
    for (int i = 0; i < pieces; i++) {
      p = Varint.put(head, p, pieceSamples[i]);
      p = Varint.put(head, p, Varint.zigzag(pieceTs[i] - prevTs));
      prevTs = pieceTs[i];
      samples += pieceSamples[i];
    }
    byte[] value = new byte[p + oldPayloadBytes + newPayload];
    System.arraycopy(head, 0, value, 0, p);
    if (old != null) {
      System.arraycopy(old, oldOffset, value, p, oldPayloadBytes);
    }
    System.arraycopy(scratch, 0, value, p + oldPayloadBytes, newPayload);
    return new SourceBlock(start, form, rateHz, runStart16k, runStartSource, samples, pieceSamples, pieceTs, value, p);
  }

  // ---------------------------------------------------------------- reading

  /**
   * A parsed source block of either source layout: its pieces' sample counts and record timestamps
   * (one piece in the single-piece layout), and where its samples start in {@code value}.
   */
  private record SourceBlock(long start, int form, int rateHz, long runStart16k, long runStartSource, int samples,
      int[] pieceSamples, long[] pieceTs, byte[] value, int payloadOffset) {
    long runOffset() {
      return start - runStartSource;
    }

    long runEnd() {
      return runOffset() + samples;
    }

    long recordTs() {
      return pieceTs[0];
    }
  }

  static boolean isSourceBlock(byte[] value) {
    if (value.length < 9) {
      return false;
    }
    int mark = value[7] & 0xFF;
    return mark == MARK || (mark == SINGLE_MARK && value.length >= SINGLE_HEADER_BYTES);
  }

  private static SourceBlock parse(byte[] key, byte[] value) {
    if (!isSourceBlock(value)) {
      throw new IllegalStateException("a 16 kHz float block among the source blocks of " + StoreKeys.callId(key) + " at key " + StoreKeys.trailingLong(key));
    }
    long start = StoreKeys.trailingLong(key);
    ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    long ts = (b.getLong() << 8) >> 8;
    int form = b.get();
    if ((value[7] & 0xFF) == SINGLE_MARK) {
      int rate = b.getInt();
      long run16k = b.getLong();
      long runSource = b.getLong();
      int samples = form == SampleCodec.SILENCE ? b.getInt() : (value.length - SINGLE_HEADER_BYTES) / SampleCodec.bytesPerSample(form);
      return new SourceBlock(start, form, rate, run16k, runSource, samples, new int[] {samples}, new long[] {ts}, value, SINGLE_HEADER_BYTES);
    }
    int[] at = {9};
    int rate = Math.toIntExact(Varint.get(value, at));
    long run16k = Varint.get(value, at);
    long runSource = Varint.get(value, at);
    int pieces = Math.toIntExact(Varint.get(value, at));
    if (pieces < 1 || pieces > MAX_PIECES) {
      throw new IllegalStateException("source block of " + StoreKeys.callId(key) + " at " + start + " has " + pieces + " pieces");
    }
    int[] pieceSamples = new int[pieces];
    long[] pieceTs = new long[pieces];
    int samples = 0;
    for (int i = 0; i < pieces; i++) {
      pieceSamples[i] = Math.toIntExact(Varint.get(value, at));
      ts += Varint.unzigzag(Varint.get(value, at));
      pieceTs[i] = ts;
      samples += pieceSamples[i];
    }
    if (value.length - at[0] != (long) samples * SampleCodec.bytesPerSample(form)) {
      throw new IllegalStateException("source block of " + StoreKeys.callId(key) + " at " + start + ": " + (value.length - at[0])
          + " bytes of samples for " + samples + " samples of form " + form);
    }
    return new SourceBlock(start, form, rate, run16k, runSource, samples, pieceSamples, pieceTs, value, at[0]);
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
      SampleCodec.decode(b.form(), b.value(), b.payloadOffset(), b.samples(), tmp, 0);
      long from = Math.max(lo, b.runOffset());
      long to = Math.min(lo + n, b.runEnd());
      if (to > from) {
        System.arraycopy(tmp, (int) (from - b.runOffset()), src, (int) (from - lo), (int) (to - from));
      }
      // Each piece as the chunk it came from: those the window's filter reaches, from the one whose
      // audio made output j0 computable on.
      long pieceStart = b.runOffset();
      for (int i = 0; i < b.pieceSamples().length; i++) {
        long pieceEnd = pieceStart + b.pieceSamples()[i];
        if (pieceStart < hi && pieceEnd > lo && pieceEnd > producedFrom) {
          w.observeChunkTimestamp(b.pieceTs()[i]);
        }
        pieceStart = pieceEnd;
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
    Bytes stream = Bytes.wrap(prefix);
    Newest n = newest.get(stream);
    if (n != null && n.block().start() < below) {
      newest.remove(stream);
    }
  }
}
