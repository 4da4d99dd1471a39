package io.callvec.it.support;

import io.callvec.it.KafkaBroker;
import io.callvec.topology.TopologySettings;
import io.callvec.topology.chunks.Recording;
import java.util.List;
import java.util.Map;

/**
 * What a scenario of several app instances runs on: fresh topics (created), the settings every
 * instance gets ({@link ScenarioSettings#app}), and the two-channel calls played with the segments
 * they must give.
 *
 * @param app the instances' {@code --set} values (application id {@code <prefix>-app})
 * @param settings the topology settings of {@code app}
 * @param expected {@link CallFixtures#expectedSegments} of {@code streams}
 */
public record FleetScenario(AppTopics topics, Map<String, String> app, TopologySettings settings, List<Recording> streams,
    Map<String, float[]> expected) {

  /**
   * Creates the topics of a fresh prefix from {@code name} (input with {@code inputPartitions}
   * partitions) and {@code calls} calls of {@link CallFixtures#twoChannelCalls} (call 0 lasts
   * {@code callMs}, each next one 400 ms more).
   */
  public static FleetScenario create(KafkaBroker broker, String name, int inputPartitions, int calls, int callMs) {
    String prefix = ScenarioSettings.uniquePrefix(name);
    AppTopics topics = AppTopics.of(prefix);
    broker.createTopics(ScenarioSettings.topics(topics, inputPartitions, (short) 1));
    Map<String, String> app = ScenarioSettings.app(broker.bootstrapServers(), prefix + "-app", topics);
    TopologySettings settings = ScenarioSettings.topology(app);
    List<Recording> streams = CallFixtures.twoChannelCalls(prefix, calls, callMs, 400);
    return new FleetScenario(topics, app, settings, streams, CallFixtures.expectedSegments(streams, settings));
  }
}
