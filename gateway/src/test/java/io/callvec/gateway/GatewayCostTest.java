package io.callvec.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.callvec.broker.LocalKafkaCluster;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's CPU per audio second (its Jetty threads + the producer's I/O thread, from the JVM's
 * per-thread CPU clocks), 1 vs 16 concurrent Twilio calls, 20 vs 100 ms records; figures logged
 * ("gateway cost"), correctness asserted (every record arrives). Machine-dependent: compare the rows
 * of one run, not runs.
 */
class GatewayCostTest {
  private static final Logger log = LoggerFactory.getLogger(GatewayCostTest.class);
  static final String TOPIC = "cost-audio";

  @Test
  void cpuPerAudioSecond() throws Exception {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    List<String> names = GatewayFixture.promptNames();
    for (int i = 0; i < names.size() && all.size() < 8000 * 10; i += Math.max(1, names.size() / 12)) {
      all.writeBytes(GatewayFixture.prompt(names.get(i)));
    }
    byte[] audio = all.toByteArray();
    try (LocalKafkaCluster kafka = LocalKafkaCluster.startSingleNode()) {
      kafka.createTopics(4, TOPIC);
      // the first row warms the JIT up and is not a figure
      int[][] rows = {{20, 16}, {20, 1}, {20, 16}, {100, 1}, {100, 16}};
      for (int r = 0; r < rows.length; r++) {
        int chunkMs = rows[r][0];
        {
          int calls = rows[r][1];
          try (GatewayFixture f = new GatewayFixture(kafka, TOPIC, GatewaySettings.insecureDefaults(TOPIC).withChunkMs(chunkMs))) {
            Map<Long, Long> before = gatewayThreadCpu();
            List<CompletableFuture<Void>> running = new ArrayList<>();
            List<String> ids = new ArrayList<>();
            for (int c = 0; c < calls; c++) {
              String id = "CAcost" + r + "x" + calls + "c" + c;
              ids.add(id);
              TwilioMessages tw = new TwilioMessages(id, "MZ" + id);
              GatewayFixture.Client client = f.connect(IngestGateway.TWILIO_PATH, Map.of());
              List<String> messages = tw.call(audio, audio);
              running.add(CompletableFuture.runAsync(() -> messages.forEach(client::text)));
            }
            running.forEach(CompletableFuture::join);
            for (String id : ids) {
              TwilioGatewayTest.checkTrack(f.readCall(id, 2), 0, "inbound", audio, chunkMs);
            }
            Map<Long, Long> after = gatewayThreadCpu();
            long cpuNs = 0;
            for (Map.Entry<Long, Long> e : after.entrySet()) {
              cpuNs += e.getValue() - before.getOrDefault(e.getKey(), 0L);
            }
            double audioS = calls * 2.0 * audio.length / 8000;
            log.info(String.format(Locale.ROOT, (r == 0 ? "warm-up, " : "") + "gateway cost: chunk %d ms, %2d concurrent calls (%.0f s of audio, 2 tracks each): %.0f ms CPU,"
                + " %.2f ms CPU per audio second", chunkMs, calls, audioS, cpuNs / 1e6, cpuNs / 1e6 / audioS));
            assertEquals(calls * 2, (long) f.counter("callvec.gateway.streams.ended", "protocol", "twilio"));
          }
        }
      }
    }
  }

  /** CPU ns of the gateway's threads: Jetty's pool and the producer's I/O thread. */
  static Map<Long, Long> gatewayThreadCpu() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Map<Long, Long> out = new HashMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      String n = t.getName();
      if (n.startsWith("callvec-gateway-") && !n.startsWith("callvec-gateway-http") || n.contains(GatewayFixture.PRODUCER_CLIENT_ID)) {
        long cpu = mx.getThreadCpuTime(t.getId());
        if (cpu >= 0) {
          out.put(t.getId(), cpu);
        }
      }
    }
    return out;
  }
}
