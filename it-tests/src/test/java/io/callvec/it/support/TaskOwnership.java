package io.callvec.it.support;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.StreamsGroupDescription;
import org.apache.kafka.clients.admin.StreamsGroupMemberDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;

/**
 * Which input partitions an app instance owns, from the broker's view of the application's
 * (classic protocol) consumer group: the members whose client id starts with the instance's Kafka
 * Streams client id ({@code <application id>-<process id>}), as its log's stream-thread names show
 * it ({@code [<client id>-StreamThread-1]}).
 */
public final class TaskOwnership {
  private TaskOwnership() {}

  /** The input partition a call's chunks go to (key = call id, the producer's default partitioner). */
  public static int partitionOf(String callId, int partitions) {
    return Utils.toPositive(Utils.murmur2(callId.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  /**
   * The partitions of {@code inputTopic} assigned to {@code instance} now.
   *
   * @throws AssertionError if its log names no stream thread yet
   */
  public static Set<Integer> inputPartitionsOf(Map<String, Object> clientConfig, String applicationId, String inputTopic, AppInstance instance)
      throws Exception {
    return inputPartitionsOf(clientConfig, applicationId, inputTopic, instance, false);
  }

  /**
   * As {@link #inputPartitionsOf(Map, String, String, AppInstance)}; with {@code streamsProtocol}
   * the application runs {@code group.protocol=streams} (KIP-1071) and its group is a streams group.
   */
  public static Set<Integer> inputPartitionsOf(Map<String, Object> clientConfig, String applicationId, String inputTopic, AppInstance instance,
      boolean streamsProtocol) throws Exception {
    Matcher m = Pattern.compile("\\[(" + Pattern.quote(applicationId) + "-[0-9a-f-]{36})-StreamThread-").matcher(instance.log());
    if (!m.find()) {
      throw new AssertionError("no '[" + applicationId + "-<process id>-StreamThread-' line in the log of " + instance.name());
    }
    String clientId = m.group(1);
    Set<Integer> out = new HashSet<>();
    try (Admin admin = Admin.create(clientConfig)) {
      if (streamsProtocol) {
        StreamsGroupDescription g = admin.describeStreamsGroups(List.of(applicationId)).all().get(30, TimeUnit.SECONDS).get(applicationId);
        for (StreamsGroupMemberDescription md : g.members()) {
          if (md.clientId().startsWith(clientId)) {
            // One sub-topology reads the input topic (no repartition): its task partitions are the input's.
            md.assignment().activeTasks().forEach(t -> out.addAll(t.partitions()));
          }
        }
        return out;
      }
      ConsumerGroupDescription g = admin.describeConsumerGroups(List.of(applicationId)).all().get(30, TimeUnit.SECONDS).get(applicationId);
      for (MemberDescription md : g.members()) {
        if (md.clientId().startsWith(clientId)) {
          for (TopicPartition tp : md.assignment().topicPartitions()) {
            if (tp.topic().equals(inputTopic)) {
              out.add(tp.partition());
            }
          }
        }
      }
    }
    return out;
  }
}
