package io.callvec.topology.internals;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.app.CallvecConfig;
import io.callvec.audio.AudioWindow;
import io.callvec.audio.Encoding;
import io.callvec.audio.G711;
import io.callvec.audio.WavFile;
import io.callvec.model.vad.SileroVad;
import io.callvec.schemas.AudioEncoding;
import io.callvec.topology.SpeechDetection;
import io.callvec.topology.TopologyMetrics;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.VadSettings;
import io.callvec.topology.chunks.OfflineWindows;
import io.callvec.topology.chunks.Recording;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The VAD's state survives a restart: a gate that starts from a copy of the store's entries (what
 * a new owner of the task restores from the changelog) decides every later window exactly as the
 * gate that ran on, with and without overlapping windows. Real speech (Asterisk prompts) and silence.
 */
class SpeechGateRestartTest {

  private static KeyValueStore<Bytes, byte[]> store() {
    KeyValueStore<Bytes, byte[]> s = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("callvec-vad"), Serdes.Bytes(), Serdes.ByteArray())
        .withLoggingDisabled().build();
    s.init(new MockProcessorContext<>().getStateStoreContext(), s);
    return s;
  }

  private static List<KeyValue<Bytes, byte[]>> entries(KeyValueStore<Bytes, byte[]> s) {
    List<KeyValue<Bytes, byte[]>> out = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = s.all()) {
      it.forEachRemaining(out::add);
    }
    return out;
  }

  private static float[] layout() throws Exception {
    Path dir = Path.of("/usr/share/asterisk/sounds/en_US_f_Allison");
    if (!Files.isDirectory(dir)) {
      dir = Path.of("/usr/share/asterisk/sounds/en");
    }
    if (!Files.isDirectory(dir)) {
      String what = "Asterisk prompts not found: apt-get install asterisk-core-sounds-en-wav (.ci/run does)";
      if (System.getenv("CI") != null) {
        throw new AssertionError(what);
      }
      Assumptions.abort(what);
    }
    List<Path> prompts;
    try (Stream<Path> s = Files.list(dir)) {
      prompts = s.filter(p -> p.toString().endsWith(".wav")).sorted().limit(12).toList();
    }
    List<float[]> parts = new ArrayList<>();
    int total = 0;
    for (int i = 0; i < prompts.size(); i++) {
      float[] p = WavFile.read(prompts.get(i)).decodeChannel(0);
      parts.add(p);
      parts.add(new float[(i % 3 + 1) * 2_000 * 8]); // 2, 4 or 6 s of silence
      total += p.length + (i % 3 + 1) * 16_000;
    }
    float[] out = new float[total];
    int at = 0;
    for (float[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(ints = {5000, 2500})
  void aRestoredGateDecidesLikeTheOneThatRanOn(int hopMs) throws Exception {
    SileroVad vad;
    try {
      vad = SileroVad.load();
    } catch (io.callvec.model.ModelLoadException e) {
      if (System.getenv("CI") != null) {
        throw new AssertionError(e.getMessage(), e);
      }
      Assumptions.abort(e.getMessage());
      return;
    }
    try (vad) {
      CallvecConfig cfg = CallvecConfig.builder().overrides(Map.of("callvec.vad.enabled", "true", "callvec.hop.ms", String.valueOf(hopMs))).build();
      TopologySettings settings = TopologySettings.from(cfg);
      SpeechDetection detection = new SpeechDetection(VadSettings.from(cfg), vad);
      TopologyMetrics metrics = new TopologyMetrics(new SimpleMeterRegistry());
      Recording rec = new Recording("restart", 0, "agent", AudioEncoding.MULAW, 8000, G711.encode(Encoding.MULAW, layout()));
      List<AudioWindow> windows = OfflineWindows.of(rec, settings.frontEnd());
      assertTrue(windows.size() >= 10, windows.size() + " windows");
      byte[] prefix = StoreKeys.channelPrefix("restart", 0);

      KeyValueStore<Bytes, byte[]> ranOnStore = store();
      SpeechGate ranOn = new SpeechGate(detection, metrics, settings.frontEnd().hopSamples());
      ranOn.init(ranOnStore);
      List<SpeechGate.Decision> continuous = new ArrayList<>();
      for (AudioWindow w : windows) {
        continuous.add(ranOn.window(prefix, StoreKeys.withLong(prefix, w.index()), w.startSample(), w.samples()));
      }
      int skipped = (int) continuous.stream().filter(SpeechGate.Decision::skip).count();
      assertTrue(skipped > 0 && skipped < windows.size(), "some windows skipped, not all: " + continuous);

      for (int cut : List.of(1, windows.size() / 2, windows.size() - 1)) {
        KeyValueStore<Bytes, byte[]> before = store();
        SpeechGate first = new SpeechGate(detection, metrics, settings.frontEnd().hopSamples());
        first.init(before);
        List<SpeechGate.Decision> got = new ArrayList<>();
        for (AudioWindow w : windows.subList(0, cut)) {
          got.add(first.window(prefix, StoreKeys.withLong(prefix, w.index()), w.startSample(), w.samples()));
        }
        KeyValueStore<Bytes, byte[]> restored = store(); // a new owner: the store as its changelog restores it
        for (KeyValue<Bytes, byte[]> kv : entries(before)) {
          restored.put(kv.key, kv.value.clone());
        }
        SpeechGate second = new SpeechGate(detection, metrics, settings.frontEnd().hopSamples());
        second.init(restored);
        for (AudioWindow w : windows.subList(cut, windows.size())) {
          got.add(second.window(prefix, StoreKeys.withLong(prefix, w.index()), w.startSample(), w.samples()));
        }
        assertEquals(continuous, got, "decisions after a restart at window " + cut);
        List<KeyValue<Bytes, byte[]>> a = entries(ranOnStore);
        List<KeyValue<Bytes, byte[]>> b = entries(restored);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
          assertEquals(a.get(i).key, b.get(i).key);
          assertArrayEquals(a.get(i).value, b.get(i).value, "entry " + i + " after a restart at window " + cut);
        }
      }
      assertEquals(skipped, ranOn.skippedSegments(prefix));
      ranOn.delete(prefix);
      assertEquals(0, entries(ranOnStore).size(), "delete removes the channel's state and its windows' counts");
    }
  }
}
