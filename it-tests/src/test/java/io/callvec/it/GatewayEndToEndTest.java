package io.callvec.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.callvec.app.CallvecApp;
import io.callvec.app.CallvecConfig;
import io.callvec.audio.G711;
import io.callvec.gateway.GatewaySettings;
import io.callvec.gateway.IngestGateway;
import io.callvec.it.support.AppTopics;
import io.callvec.it.support.CallFixtures;
import io.callvec.it.support.CommittedOutput;
import io.callvec.model.Similarity;
import io.callvec.player.AudioFiles;
import io.callvec.player.CallPlayer;
import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.AudioEncoding;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;
import io.callvec.schemas.Vectors;
import io.callvec.schemas.serde.CallvecSerdes;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.Chunker;
import io.callvec.topology.chunks.Recording;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway in front of the app: the same real two-channel recording (asterisk-core-sounds-en-wav
 * prompts, μ-law) arrives three ways on one input topic: as {@code callvec replay} sends it
 * ({@link CallPlayer}), over Twilio Media Streams and over Genesys AudioHook, both through
 * {@link IngestGateway} with the JDK's WebSocket client. Every segment and call embedding of the two
 * gateway calls equals the replayed call's, which equals the model run directly on the audio.
 */
@RealKafka
class GatewayEndToEndTest {
  static final List<Path> SOUND_DIRS = List.of(Path.of("/usr/share/asterisk/sounds/en_US_f_Allison"), Path.of("/usr/share/asterisk/sounds/en"));
  static final int SECONDS = 12;

  @Test
  void gatewayCallsEmbedLikeTheReplayedCall(KafkaBroker broker, @TempDir Path state) throws Exception {
    String prefix = "gw-" + UUID.randomUUID().toString().substring(0, 8);
    Map<String, String> m = new HashMap<>();
    m.put("bootstrap.servers", broker.bootstrapServers());
    m.put("application.id", prefix + "-app");
    m.put("state.dir", state.toString());
    m.put("callvec.input.topic", prefix + ".chunks");
    m.put("callvec.segments.topic", prefix + ".segments");
    m.put("callvec.calls.topic", prefix + ".calls");
    m.put("callvec.dlq.topic", prefix + ".dlq");
    m.put("callvec.http.port", "-1");
    m.put("callvec.batch.max.delay.ms", "5");
    CallvecConfig cfg = CallvecConfig.builder().overrides(m).build();
    String input = cfg.raw("callvec.input.topic");
    broker.createTopics(4, input, cfg.raw("callvec.segments.topic"), cfg.raw("callvec.calls.topic"), cfg.raw("callvec.dlq.topic"));

    byte[][] audio = twoChannels();
    String replayId = prefix + "-replay";
    String twilioId = "CA" + prefix.replace("-", "");
    String audioHookId = UUID.randomUUID().toString();
    List<Recording> replayed = List.of(new Recording(replayId, 0, "agent", AudioEncoding.MULAW, 8000, audio[0]),
        new Recording(replayId, 1, "customer", AudioEncoding.MULAW, 8000, audio[1]));
    Map<String, float[]> direct = CallFixtures.expectedSegments(replayed, TopologySettings.from(cfg));

    Properties p = new Properties();
    p.putAll(broker.clientConfig());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (CallvecApp app = CallvecApp.start(cfg);
        KafkaProducer<String, AudioChunk> producer = new KafkaProducer<>(p, new StringSerializer(), CallvecSerdes.audioChunk().serializer())) {
      CallPlayer.play(producer, input, replayed, Chunker.Options.realTime().withSpeed(0), null);
      IngestGateway gateway = IngestGateway.start(
          new GatewaySettings("127.0.0.1", 0, -1, input, 20, 10, 64 * 1024, Duration.ofSeconds(30), 250, Duration.ofSeconds(10),
              new GatewaySettings.TwilioAuth(null, null, true), new GatewaySettings.AudioHookAuth(null, null, true), null),
          producer, registry);
      try {
        playTwilio(gateway.port(), twilioId, audio);
        playAudioHook(gateway.port(), audioHookId, audio);
      } finally {
        assertEquals(0, gateway.shutdown(), "every gateway record acknowledged");
      }
      CommittedOutput out = read(broker, cfg, 6, app);
      assertTrue(out.deadLetters.isEmpty(), "no dead letters: " + out.deadLetters);

      Map<String, float[]> replaySegments = segments(out, replayId);
      assertEquals(direct.size(), replaySegments.size(), "the replayed call has the model's segments");
      direct.forEach((k, v) -> assertTrue(Similarity.cosine(v, replaySegments.get(k.substring(replayId.length() + 1))) >= 0.9999, k));
      for (String id : List.of(twilioId, audioHookId)) {
        Map<String, float[]> got = segments(out, id);
        assertEquals(replaySegments.keySet(), got.keySet(), id + ": the same segments (channel, start, end) as the replayed call");
        replaySegments.forEach((k, v) -> assertTrue(Similarity.cosine(v, got.get(k)) >= 0.9999, id + " segment " + k));
        for (int ch = 0; ch < 2; ch++) {
          float[] want = callVector(out, replayId, ch);
          float[] have = callVector(out, id, ch);
          assertTrue(Similarity.cosine(want, have) >= 0.9999, id + " channel " + ch + " call embedding");
        }
      }
    } finally {
      registry.close();
    }
  }

  /** Two channels of real speech of equal length ({@value #SECONDS} s each, μ-law, 8 kHz). */
  static byte[][] twoChannels() throws Exception {
    List<Path> prompts = null;
    for (Path dir : SOUND_DIRS) {
      if (Files.isDirectory(dir)) {
        try (Stream<Path> s = Files.list(dir)) {
          prompts = s.filter(f -> f.getFileName().toString().endsWith(".wav")).sorted().toList();
        }
        break;
      }
    }
    if (prompts == null || prompts.size() < 20) {
      String msg = "no 8 kHz prompts in " + SOUND_DIRS + ": apt-get install asterisk-core-sounds-en-wav";
      if (System.getenv("CI") != null) {
        fail(msg);
      }
      Assumptions.abort(msg);
    }
    byte[][] out = new byte[2][];
    int next = 0;
    for (int ch = 0; ch < 2; ch++) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      while (b.size() < SECONDS * 8000) {
        AudioFiles.Audio a = AudioFiles.read(prompts.get(next), AudioFiles.Format.WAV, null);
        next += 7;
        ByteBuffer pcm = ByteBuffer.wrap(a.channels().get(0)).order(ByteOrder.LITTLE_ENDIAN);
        while (pcm.remaining() >= 2) {
          b.write(G711.pcm16ToMulaw(pcm.getShort()));
        }
      }
      out[ch] = Arrays.copyOf(b.toByteArray(), SECONDS * 8000);
    }
    return out;
  }

  /** A JDK WebSocket client that keeps the server's text messages. */
  static final class Listener implements WebSocket.Listener {
    final StringBuilder texts = new StringBuilder();
    /** Completed when the server's close frame arrives: the server has read every frame sent before ours. */
    final CompletableFuture<Integer> closed = new CompletableFuture<>();

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      closed.complete(statusCode);
      return null;
    }

    @Override
    public synchronized CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      texts.append(data).append(last ? "\n" : "");
      ws.request(1);
      return null;
    }

    synchronized boolean has(String s) {
      return texts.indexOf(s) >= 0;
    }

    void await(String s) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!has(s) && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(has(s), "server sent no " + s);
    }
  }

  /** Twilio's message sequence: connected, start (both tracks), media per 20 ms per track, stop. */
  static void playTwilio(int port, String callSid, byte[][] audio) throws Exception {
    Listener l = new Listener();
    WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + port + "/twilio"), l).join();
    String sid = "MZ" + callSid.substring(2);
    long seq = 0;
    ws.sendText("{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}", true).join();
    ws.sendText("{\"event\":\"start\",\"sequenceNumber\":\"" + (++seq) + "\",\"start\":{\"accountSid\":\"AC00000000000000000000000000000000\",\"streamSid\":\""
        + sid + "\",\"callSid\":\"" + callSid + "\",\"tracks\":[\"inbound\",\"outbound\"],\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\","
        + "\"sampleRate\":8000,\"channels\":1},\"customParameters\":{}},\"streamSid\":\"" + sid + "\"}", true).join();
    String[] tracks = {"inbound", "outbound"};
    for (int k = 0; k * 160 < audio[0].length; k++) {
      for (int ch = 0; ch < 2; ch++) {
        byte[] frame = Arrays.copyOfRange(audio[ch], k * 160, Math.min(audio[ch].length, (k + 1) * 160));
        ws.sendText("{\"event\":\"media\",\"sequenceNumber\":\"" + (++seq) + "\",\"media\":{\"track\":\"" + tracks[ch] + "\",\"chunk\":\"" + (k + 1)
            + "\",\"timestamp\":\"" + (k * 20) + "\",\"payload\":\"" + Base64.getEncoder().encodeToString(frame) + "\"},\"streamSid\":\"" + sid + "\"}",
            true).join();
      }
    }
    ws.sendText("{\"event\":\"stop\",\"sequenceNumber\":\"" + (++seq) + "\",\"streamSid\":\"" + sid + "\",\"stop\":{\"accountSid\":"
        + "\"AC00000000000000000000000000000000\",\"callSid\":\"" + callSid + "\"}}", true).join();
    ws.sendClose(1000, "").join();
    // The gateway reads frames in order and answers our close after the stop before it: wait for
    // that, or shutting the gateway down next could close the connection before it read them all.
    assertEquals(1000, l.closed.get(60, TimeUnit.SECONDS), "the gateway's answer to our close");
  }

  /** AudioHook's sequence: open, opened, stereo PCMU frames of 100 ms, ping/pong, close, closed. */
  static void playAudioHook(int port, String conversationId, byte[][] audio) throws InterruptedException {
    Listener l = new Listener();
    WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + port + "/audiohook"), l).join();
    String session = UUID.randomUUID().toString();
    long[] seq = {0};
    java.util.function.BiFunction<String, String, String> msg = (type, params) -> "{\"version\":\"2\",\"id\":\"" + session + "\",\"type\":\"" + type
        + "\",\"seq\":" + (++seq[0]) + ",\"serverseq\":0,\"position\":\"PT0S\",\"parameters\":" + params + "}";
    ws.sendText(msg.apply("open", "{\"organizationId\":\"d7934305-0972-4844-938e-9060eef73d05\",\"conversationId\":\"" + conversationId + "\","
        + "\"participant\":{\"id\":\"883efee8-3d6c-4537-b500-6d7ca4b92fa0\",\"ani\":\"+15555551234\",\"aniName\":\"\",\"dnis\":\"+18005556789\"},"
        + "\"media\":[{\"type\":\"audio\",\"format\":\"PCMU\",\"channels\":[\"external\",\"internal\"],\"rate\":8000}]}"), true).join();
    l.await("\"opened\"");
    for (int at = 0; at < audio[0].length; at += 800) {
      int n = Math.min(800, audio[0].length - at);
      byte[] frame = new byte[2 * n];
      for (int i = 0; i < n; i++) {
        frame[2 * i] = audio[0][at + i];
        frame[2 * i + 1] = audio[1][at + i];
      }
      ws.sendBinary(ByteBuffer.wrap(frame), true).join();
      if (at == 40 * 800) {
        ws.sendText(msg.apply("ping", "{}"), true).join();
      }
    }
    l.await("\"pong\"");
    ws.sendText(msg.apply("close", "{\"reason\":\"end\"}"), true).join();
    l.await("\"closed\"");
    ws.sendClose(1000, "").join();
  }


  /** Everything committed on the output topics, read until {@code calls} call embeddings arrived and then 3 s more. */
  static CommittedOutput read(KafkaBroker broker, CallvecConfig cfg, int calls, CallvecApp app) {
    AppTopics topics = new AppTopics(cfg.raw("callvec.input.topic"), cfg.raw("callvec.segments.topic"), cfg.raw("callvec.calls.topic"),
        cfg.raw("callvec.dlq.topic"));
    CommittedOutput out = CommittedOutput.read(broker.clientConfig(), topics, calls, Duration.ofSeconds(150), Duration.ofSeconds(3), () -> {
      if (app.failure() != null) {
        throw new AssertionError("the app failed", app.failure());
      }
    });
    assertEquals(calls, out.calls.size(), "call embeddings");
    return out;
  }

  /** A call's segments keyed {@code <channel>/<start>-<end>}, each exactly once. */
  static Map<String, float[]> segments(CommittedOutput out, String callId) {
    Map<String, float[]> m = new HashMap<>();
    for (SegmentEmbedding s : out.segments) {
      if (s.getCallId().equals(callId)) {
        String k = s.getChannel().getIndex() + "/" + s.getStartSample16k() + "-" + s.getEndSample16k();
        assertEquals(null, m.put(k, Vectors.fromBytes(s.getVector(), s.getDimension())), callId + " segment " + k + " twice");
      }
    }
    return m;
  }

  static float[] callVector(CommittedOutput out, String callId, int channel) {
    CallEmbedding c = out.calls.stream().filter(x -> x.getCallId().equals(callId) && x.getChannel().getIndex() == channel).findFirst().orElse(null);
    assertNotNull(c, "no call embedding for " + callId + "/" + channel);
    return Vectors.fromBytes(c.getVector(), c.getDimension());
  }
}
