package io.callvec.it.support;

import io.callvec.app.CallvecConfig;
import io.callvec.topology.TopologySettings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * The app settings the reliability scenarios share: 2 s windows (more segments per second of audio
 * to check), one stream thread and one ONNX thread per instance (2-core CI machines), fast failure
 * detection (6 s consumer session timeout), an idle timeout far above any outage a test causes.
 */
public final class ScenarioSettings {
  /** Window and hop, ms. */
  public static final int WINDOW_MS = 2000;
  /** Consumer session timeout, ms: a killed instance's tasks move after at most this long. */
  public static final int SESSION_TIMEOUT_MS = 6000;
  /** Idle timeout, ms: far longer than a test's outages, so no call is ended early by one. */
  public static final int IDLE_TIMEOUT_MS = 120_000;

  private ScenarioSettings() {}

  /** {@code --set} values of an instance (without {@code state.dir} and the HTTP port). */
  public static Map<String, String> app(String bootstrapServers, String applicationId, AppTopics topics) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("bootstrap.servers", bootstrapServers);
    m.put("application.id", applicationId);
    m.putAll(topics.settings());
    m.put("callvec.window.ms", Integer.toString(WINDOW_MS));
    m.put("callvec.hop.ms", Integer.toString(WINDOW_MS));
    m.put("callvec.min.final.window.ms", "500");
    m.put("callvec.idle.timeout.ms", Integer.toString(IDLE_TIMEOUT_MS));
    m.put("callvec.model.intra.op.threads", "1");
    m.put("callvec.batch.max.delay.ms", "5");
    m.put("num.stream.threads", "1");
    m.put("session.timeout.ms", Integer.toString(SESSION_TIMEOUT_MS));
    m.put("heartbeat.interval.ms", "1500");
    return m;
  }

  /** A fresh name for one scenario's topics and application: {@code name-} and 8 random hex digits. */
  public static String uniquePrefix(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /**
   * {@link #app} of a scenario's one instance: application id {@code prefix-app}, state in {@code
   * stateDir}, the HTTP endpoint on {@code httpPort} (-1 off, 0 a free port); a mutable map, to add to.
   */
  public static Map<String, String> singleInstance(String bootstrapServers, String prefix, AppTopics topics, Path stateDir, int httpPort) {
    Map<String, String> m = new HashMap<>(app(bootstrapServers, prefix + "-app", topics));
    m.put("state.dir", stateDir.toString());
    m.put("callvec.http.port", Integer.toString(httpPort));
    return m;
  }

  /**
   * {@link #app} without the failure-detection and idle settings: the instances run with the shipped
   * defaults of {@code session.timeout.ms}, {@code heartbeat.interval.ms}, {@code
   * callvec.idle.timeout.ms} and every other failover setting.
   */
  public static Map<String, String> appWithFailoverDefaults(String bootstrapServers, String applicationId, AppTopics topics) {
    Map<String, String> m = app(bootstrapServers, applicationId, topics);
    m.remove("session.timeout.ms");
    m.remove("heartbeat.interval.ms");
    m.remove("callvec.idle.timeout.ms");
    return m;
  }

  /** The topology settings the instances run with (for the expected output). */
  public static TopologySettings topology(Map<String, String> app) {
    return TopologySettings.from(CallvecConfig.builder().overrides(app).build());
  }

  /** Input with {@code inputPartitions} partitions, outputs with 3, dead letters with 1; replication {@code rf}. */
  public static java.util.List<NewTopic> topics(AppTopics t, int inputPartitions, short rf) {
    return java.util.List.of(new NewTopic(t.input(), inputPartitions, rf), new NewTopic(t.segments(), 3, rf),
        new NewTopic(t.calls(), 3, rf), new NewTopic(t.dlq(), 1, rf));
  }
}
