package io.callvec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.callvec.app.TopicPlan;
import io.callvec.broker.LocalKafkaCluster;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code callvec topics create|describe} against a real in-JVM KRaft broker. */
class TopicsCommandTest {

  private static LocalKafkaCluster kafka;
  private static Admin admin;

  @BeforeAll
  static void start() {
    kafka = LocalKafkaCluster.startSingleNode();
    admin = kafka.createAdmin();
  }

  @AfterAll
  static void stop() {
    if (admin != null) {
      admin.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  private static CommandRun topics(Map<String, String> env, String... args) {
    return CommandRun.of(new CommandLine(new TopicsCommand(env)), args);
  }

  /** {@code --set} arguments naming four topics with a unique prefix, so that tests do not share topics. */
  private static List<String> names(String prefix) {
    return List.of(
        "--set", "callvec.input.topic=" + prefix + ".in",
        "--set", "callvec.segments.topic=" + prefix + ".segments",
        "--set", "callvec.calls.topic=" + prefix + ".calls",
        "--set", "callvec.dlq.topic=" + prefix + ".dlq");
  }

  private static String[] args(String sub, String prefix, String... more) {
    List<String> a = new ArrayList<>();
    a.add(sub);
    a.add("--bootstrap-servers");
    a.add(kafka.bootstrapServers());
    a.addAll(names(prefix));
    a.addAll(Arrays.asList(more));
    return a.toArray(String[]::new);
  }

  private static Set<String> listed() throws Exception {
    return admin.listTopics().names().get(10, TimeUnit.SECONDS);
  }

  private static Config topicConfig(String topic) throws Exception {
    ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    return admin.describeConfigs(List.of(r)).all().get(10, TimeUnit.SECONDS).get(r);
  }

  private static TopicDescription describe(String topic) throws Exception {
    return admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
  }

  @Test
  void createMakesFourTopicsWithThePlannedPartitionsAndConfigs() throws Exception {
    CommandRun r = topics(Map.of(), args("create", "t1", "--partitions", "6", "--dlq-partitions", "2", "--replication-factor", "1"));
    assertEquals(0, r.exit(), r.err());
    assertEquals("", r.err(), "no warnings expected");
    assertEquals(4, r.out().lines().filter(l -> l.contains(" created ")).count(), r.out());

    assertEquals(6, describe("t1.in").partitions().size());
    assertEquals(6, describe("t1.segments").partitions().size());
    assertEquals(6, describe("t1.calls").partitions().size());
    assertEquals(2, describe("t1.dlq").partitions().size());

    Config in = topicConfig("t1.in");
    assertEquals(Long.toString(TopicPlan.INPUT_RETENTION_MS), in.get("retention.ms").value());
    assertEquals("86400000", in.get("retention.ms").value(), "24 h in ms");
    assertEquals(Integer.toString(TopicPlan.MIN_INPUT_MAX_MESSAGE_BYTES), in.get("max.message.bytes").value());
    assertEquals("delete", in.get("cleanup.policy").value());
    assertEquals("1", in.get("min.insync.replicas").value());
    assertEquals("604800000", topicConfig("t1.segments").get("retention.ms").value(), "7 d in ms");
    assertEquals("compact", topicConfig("t1.calls").get("cleanup.policy").value());
    assertEquals("1209600000", topicConfig("t1.dlq").get("retention.ms").value(), "14 d in ms");
  }

  @Test
  void largePayloadLimitRaisesTheInputTopicsMessageSize() throws Exception {
    CommandRun r = topics(Map.of(), args("create", "t2", "--partitions", "1", "--set", "callvec.max.payload.bytes=2000000"));
    assertEquals(0, r.exit(), r.err());
    assertEquals(Integer.toString(2_000_000 + TopicPlan.RECORD_OVERHEAD_BYTES), topicConfig("t2.in").get("max.message.bytes").value());
  }

  @Test
  void secondCreateReportsExistingTopicsWithoutError() throws Exception {
    assertEquals(0, topics(Map.of(), args("create", "t3", "--partitions", "3")).exit());
    CommandRun again = topics(Map.of(), args("create", "t3", "--partitions", "3"));
    assertEquals(0, again.exit(), again.err());
    assertEquals(4, again.out().lines().filter(l -> l.contains(" exists ")).count(), again.out());
    assertFalse(again.out().contains("created"), again.out());
    assertEquals("", again.err());
  }

  @Test
  void existingTopicWithOtherPartitionsAndPolicyIsAWarningNotAnError() throws Exception {
    // Someone created the input topic with 2 partitions and the calls topic without compaction.
    admin.createTopics(List.of(
        new NewTopic("t4.in", 2, (short) 1),
        new NewTopic("t4.calls", 4, (short) 1).configs(Map.of("cleanup.policy", "delete")))).all().get(10, TimeUnit.SECONDS);

    CommandRun r = topics(Map.of(), args("create", "t4", "--partitions", "4"));
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.err().contains("warning: t4.in has 2 partitions, the plan says 4"), r.err());
    assertTrue(r.err().contains("warning: t4.calls has cleanup.policy=delete, the plan says compact"), r.err());
    assertEquals(2, describe("t4.in").partitions().size(), "an existing topic is never altered");
    assertEquals(4, describe("t4.segments").partitions().size(), "the missing ones are created");
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("input") && l.contains("exists, differs")), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("segments") && l.contains("created")), r.out());
  }

  @Test
  void dryRunValidatesOnTheBrokerAndCreatesNothing() throws Exception {
    CommandRun r = topics(Map.of(), args("create", "t5", "--dry-run"));
    assertEquals(0, r.exit(), r.err());
    assertEquals(4, r.out().lines().filter(l -> l.contains("would be created")).count(), r.out());
    assertTrue(listed().stream().noneMatch(t -> t.startsWith("t5.")), "dry run created topics: " + listed());

    // The broker rejects what it cannot do: 3 replicas on a 1-node cluster.
    CommandRun bad = topics(Map.of(), args("create", "t5", "--dry-run", "--replication-factor", "3"));
    assertEquals(1, bad.exit(), bad.out());
    assertTrue(bad.err().contains("error: cannot create t5.in"), bad.err());
    assertTrue(listed().stream().noneMatch(t -> t.startsWith("t5.")));
  }

  @Test
  void describeFailsWhileTopicsAreMissingAndPassesOnceCreated() throws Exception {
    CommandRun before = topics(Map.of(), args("describe", "t6"));
    assertEquals(1, before.exit());
    assertEquals(4, before.out().lines().filter(l -> l.contains("MISSING")).count(), before.out());
    assertTrue(before.err().contains("callvec topics create"), before.err());

    assertEquals(0, topics(Map.of(), args("create", "t6", "--partitions", "5")).exit());
    CommandRun after = topics(Map.of(), args("describe", "t6", "--partitions", "5"));
    assertEquals(0, after.exit(), after.err());
    assertTrue(after.out().lines().anyMatch(l -> l.startsWith("input") && l.contains("t6.in") && l.contains(" 5 ") && l.endsWith("ok")),
        after.out());

    CommandRun otherPlan = topics(Map.of(), args("describe", "t6", "--partitions", "8"));
    assertEquals(0, otherPlan.exit());
    assertTrue(otherPlan.err().contains("t6.in has 5 partitions, the plan says 8"), otherPlan.err());
  }

  @Test
  void topicNamesAndBootstrapComeFromFileAndEnvironmentLikeRun(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("callvec.properties");
    Files.writeString(file, String.join("\n",
        "bootstrap.servers=" + kafka.bootstrapServers(),
        "callvec.input.topic=t7.file.in",
        "callvec.segments.topic=t7.file.segments",
        "callvec.calls.topic=t7.file.calls",
        "callvec.dlq.topic=t7.file.dlq",
        "application.id=ignored-by-admin",
        ""));
    CommandRun r = topics(Map.of("CALLVEC_DLQ_TOPIC", "t7.env.dlq"), "create", "--config", file.toString(), "--partitions", "1");
    assertEquals(0, r.exit(), r.err());
    assertTrue(listed().containsAll(Set.of("t7.file.in", "t7.file.segments", "t7.file.calls", "t7.env.dlq")), listed().toString());
    assertFalse(listed().contains("t7.file.dlq"), "the environment wins over the file");
  }

  @Test
  void unreachableKafkaFailsWithinTheTimeout() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    long t0 = System.nanoTime();
    CommandRun r = topics(Map.of(), "describe", "--bootstrap-servers", "localhost:" + closedPort, "--timeout-s", "2");
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertEquals(1, r.exit(), r.out());
    assertTrue(r.err().startsWith("error: "), r.err());
    assertTrue(r.err().contains("localhost:" + closedPort) || r.err().contains("Timeout"), r.err());
    assertTrue(ms < 15_000, "took " + ms + " ms");
  }

  @Test
  void badUsageExitsWithTwo() {
    assertEquals(2, topics(Map.of(), "create", "--partitions", "0", "--bootstrap-servers", kafka.bootstrapServers()).exit());
    assertEquals(2, topics(Map.of(), "create", "--set", "callvec.no.such.key=1").exit());
    CommandRun sameName = topics(Map.of(), "create", "--bootstrap-servers", kafka.bootstrapServers(),
        "--set", "callvec.dlq.topic=callvec.audio-chunks");
    assertEquals(2, sameName.exit());
    assertTrue(sameName.err().contains("both input and dlq"), sameName.err());
    assertEquals(2, topics(Map.of()).exit(), "a subcommand is required");
  }

  @Test
  void registeredInTheCallvecCommandLine() {
    CommandLine cli = CallvecCli.newCommandLine();
    assertTrue(cli.getSubcommands().containsKey("topics"));
    assertTrue(cli.getSubcommands().get("topics").getSubcommands().keySet().containsAll(Set.of("create", "describe")));
  }
}
