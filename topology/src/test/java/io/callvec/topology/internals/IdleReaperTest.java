package io.callvec.topology.internals;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.app.CallvecConfig;
import io.callvec.topology.Output;
import io.callvec.topology.TopologyMetrics;
import io.callvec.topology.TopologySettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * {@link IdleReaper} on in-memory stores and a {@link MockProcessorContext} whose wall clock and
 * stream time the test sets: the time-index rebuild after an upgrade from a layout without the
 * index (bounded in what it holds), and the end of an ending stream's wait on the input clock
 * after a restart.
 */
class IdleReaperTest {
  private static final long WALL_MS = 1_764_000_000_000L;

  private static final TopologySettings SETTINGS = TopologySettings.from(CallvecConfig.builder().overrides(Map.of()).build());

  private final MockProcessorContext<String, Output> context = new MockProcessorContext<>();
  private final KeyValueStore<Bytes, byte[]> channels = bytesStore("callvec-channels");
  private final KeyValueStore<Bytes, byte[]> index = bytesStore("callvec-time-index");
  private final KeyValueStore<Bytes, Long> ended = longStore("callvec-ended");
  private final TopologyMetrics metrics = new TopologyMetrics(new SimpleMeterRegistry());

  private KeyValueStore<Bytes, byte[]> bytesStore(String name) {
    KeyValueStore<Bytes, byte[]> s = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.Bytes(), Serdes.ByteArray())
        .withLoggingDisabled().build();
    s.init(context.getStateStoreContext(), s);
    return s;
  }

  private KeyValueStore<Bytes, Long> longStore(String name) {
    KeyValueStore<Bytes, Long> s = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.Bytes(), Serdes.Long())
        .withLoggingDisabled().build();
    s.init(context.getStateStoreContext(), s);
    return s;
  }

  private static ChannelState open(long lastSeenInputMs) {
    ChannelState s = new ChannelState();
    s.channelName = "agent";
    s.encodingOrdinal = 1;
    s.sampleRateHz = 8000;
    s.frontEnd = new byte[64];
    s.lastSeenInputMs = lastSeenInputMs;
    return s;
  }

  /** A state in layout 1 (the running sum inline, no last-seen time), spelled out as ChannelStateTest does. */
  private static byte[] layout1() {
    ChannelState s = open(0);
    s.vectorSum = new double[] {0.25, -0.5};
    byte[] v3 = s.toBytes();
    byte[] v1 = Arrays.copyOf(v3, v3.length - 12); // layout 1 ended after lastChunkTimestampMs
    v1[0] = 1;
    return v1;
  }

  /** Index entries of {@code kind}: prefix (as a key) → the second it is filed under. */
  private Map<Bytes, Long> entries(byte kind) {
    Map<Bytes, Long> out = new HashMap<>();
    try (KeyValueIterator<Bytes, byte[]> it = index.all()) {
      while (it.hasNext()) {
        byte[] k = it.next().key.get();
        if (k[0] == kind) {
          out.put(Bytes.wrap(Arrays.copyOfRange(k, 9, k.length)), java.nio.ByteBuffer.wrap(k).getLong(1) ^ Long.MIN_VALUE);
        }
      }
    }
    return out;
  }

  @Test
  void theTimeIndexRebuildIndexesEveryStreamWhileHoldingAtMostOneBatch() {
    int oldLayout = 3 * IdleReaper.REBUILD_BATCH + 17;
    int current = 250;
    int markers = 40;
    List<Bytes> oldKeys = new ArrayList<>();
    for (int i = 0; i < oldLayout; i++) {
      Bytes key = Bytes.wrap(StoreKeys.channelPrefix("old-" + i, i % 2));
      oldKeys.add(key);
      channels.put(key, layout1());
    }
    for (int i = 0; i < current; i++) {
      channels.put(Bytes.wrap(StoreKeys.channelPrefix("new-" + i, 0)), open(WALL_MS - 5_000 - i).toBytes());
    }
    ChannelState endingState = open(WALL_MS - 300);
    endingState.endSequence = 99;
    endingState.endWaitSinceInputMs = WALL_MS - 300;
    Bytes endingKey = Bytes.wrap(StoreKeys.channelPrefix("ending", 0));
    channels.put(endingKey, endingState.toBytes());
    for (int i = 0; i < markers; i++) {
      ended.put(Bytes.wrap(StoreKeys.channelPrefix("gone-" + i, 0)), WALL_MS - 60_000);
    }
    context.setCurrentSystemTimeMs(WALL_MS);
    context.setCurrentStreamTimeMs(WALL_MS - 100);

    IdleReaper reaper = new IdleReaper(SETTINGS, metrics);
    reaper.init(context, channels, ended, new TimeIndex(index));

    long input = reaper.inputClockMs();
    assertEquals(WALL_MS - 100, input, "the input clock is the restored stream time");
    Map<Bytes, Long> lastSeen = entries(TimeIndex.LAST_SEEN);
    assertEquals(oldLayout + current + 1, lastSeen.size(), "one last-seen entry per open stream");
    for (Bytes key : oldKeys) {
      ChannelState s = ChannelState.fromBytes(channels.get(key));
      assertEquals(input, s.lastSeenInputMs, "a layout-1 state counts as seen now");
      assertEquals(Math.floorDiv(input, TimeIndex.BUCKET_MS), lastSeen.get(key));
      assertTrue(Arrays.equals(new double[] {0.25, -0.5}, s.vectorSum), "its inline sum is kept");
    }
    assertEquals(Math.floorDiv(WALL_MS - 5_000 - 7, TimeIndex.BUCKET_MS), lastSeen.get(Bytes.wrap(StoreKeys.channelPrefix("new-7", 0))));
    assertEquals(Map.of(endingKey, Math.floorDiv(WALL_MS - 300, TimeIndex.BUCKET_MS)), entries(TimeIndex.END_WAIT), "the ending stream's wait");
    assertEquals(markers, entries(TimeIndex.ENDED).size(), "one entry per end marker");
    assertEquals(oldLayout + current + 1, channels.approximateNumEntries());

    assertEquals(IdleReaper.REBUILD_BATCH, reaper.rebuildPeakHeld(), "never more than one batch of states held");
  }

  @Test
  void anEndingStreamsWaitDoesNotCountTheTimeItsTaskWasAway() {
    // Before the outage: the end-of-stream chunk came at input-clock time T with an earlier chunk missing.
    long t = WALL_MS;
    ChannelState s = open(t);
    s.endSequence = 42;
    s.endWaitSinceInputMs = t;
    Bytes key = Bytes.wrap(StoreKeys.channelPrefix("call-e", 0));
    channels.put(key, s.toBytes());
    TimeIndex timeIndex = new TimeIndex(index);
    timeIndex.add(TimeIndex.LAST_SEEN, key.get(), t);
    timeIndex.add(TimeIndex.END_WAIT, key.get(), t);

    // The task comes back 10 minutes later (wall clock); its stream time is restored at T.
    context.setCurrentSystemTimeMs(t + 600_000);
    context.setCurrentStreamTimeMs(t);
    IdleReaper reaper = new IdleReaper(SETTINGS, metrics);
    reaper.init(context, channels, ended, timeIndex);
    StreamEnding ending = new StreamEnding(SETTINGS.frontEnd().reorderLatenessMs());
    ending.init(timeIndex);
    List<String> closed = new ArrayList<>();
    IdleReaper.Ender closer = (prefix, state) -> {
      closed.add(StoreKeys.callId(prefix));
      ending.closing(prefix, state);
    };

    reaper.scanEndWaits(ending, closer);
    assertEquals(List.of(), closed, "ten minutes away are not ten minutes of waiting");
    context.setCurrentSystemTimeMs(t + 600_000 + ending.waitMs() - 1);
    reaper.scanEndWaits(ending, closer);
    assertEquals(List.of(), closed, "1 ms before the lateness has passed on the input clock");
    context.setCurrentSystemTimeMs(t + 600_000 + ending.waitMs());
    reaper.scanEndWaits(ending, closer);
    assertEquals(List.of("call-e"), closed, "closed once the lateness has passed on the input clock");
    assertEquals(Map.of(), entries(TimeIndex.END_WAIT), "its wait entry is gone");
  }
}
