package io.callvec.cli;

import io.callvec.app.CallvecConfig;
import io.callvec.app.TopicPlan;
import io.callvec.app.TopicPlan.Topic;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code callvec topics create|describe}: provisions and checks the input, output and dead-letter
 * topics of a {@link TopicPlan}, with the same configuration sources as {@code callvec run} (a
 * properties file, {@code CALLVEC_*} environment variables, {@code --set}), so that topic names and
 * the Kafka client's security settings are written once.
 *
 * <p>{@code create} is idempotent: a topic that exists is reported, not an error; a partition
 * count, replication factor or topic config that differs from the plan is a warning (on stderr),
 * since changing them is an operator's decision. {@code --dry-run} asks the broker to validate the
 * creation ({@code validateOnly}) without creating anything.
 *
 * <p>Exit codes: 0 done (warnings included); 1 a topic could not be created, a topic is missing
 * ({@code describe}), or Kafka could not be reached; 2 bad usage.
 */
@Command(
    name = "topics",
    mixinStandardHelpOptions = true,
    description = "Create or check callvec's Kafka topics (input, segments, calls, dead letters).",
    subcommands = {TopicsCommand.Create.class, TopicsCommand.Describe.class, CommandLine.HelpCommand.class})
public final class TopicsCommand implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(TopicsCommand.class);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final Map<String, String> environment;

  /** With the process environment ({@code CALLVEC_*} variables apply). */
  public TopicsCommand() {
    this(System.getenv());
  }

  /** With an explicit environment (tests). */
  public TopicsCommand(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand: create or describe");
  }

  /** Options shared by {@code create} and {@code describe}. */
  abstract static class TopicOptions implements Callable<Integer> {
    @ParentCommand TopicsCommand parent;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @Mixin ConfigOptions configOptions;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,HOST:PORT...]",
        description = "Kafka bootstrap servers; wins over bootstrap.servers from --config, CALLVEC_BOOTSTRAP_SERVERS and --set.")
    String bootstrapServers;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "" + TopicPlan.DEFAULT_PARTITIONS,
        description = "Partitions of the input, segments and calls topics (default: ${DEFAULT-VALUE}). "
            + "At least max instances x num.stream.threads: a partition is worked on by one stream thread.")
    int partitions;

    @Option(names = "--dlq-partitions", paramLabel = "N", defaultValue = "" + TopicPlan.DEFAULT_DLQ_PARTITIONS,
        description = "Partitions of the dead-letter topic (default: ${DEFAULT-VALUE}).")
    int dlqPartitions;

    @Option(names = "--replication-factor", paramLabel = "R",
        description = "Replicas per partition (default: the broker's default.replication.factor; 3 in production). "
            + "With R >= 3 the topics get min.insync.replicas=2.")
    Short replicationFactor;

    @Option(names = "--timeout-s", paramLabel = "SECONDS", defaultValue = "30",
        description = "How long to wait for Kafka, in seconds (default: ${DEFAULT-VALUE}).")
    int timeoutS;

    CallvecConfig config;
    TopicPlan plan;

    @Override
    public final Integer call() throws Exception {
      if (timeoutS < 1) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--timeout-s must be >= 1, found " + timeoutS);
      }
      try {
        config = configOptions.build(parent.environment, Map.of());
        plan = TopicPlan.of(config, partitions, dlqPartitions, Optional.ofNullable(replicationFactor));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
      }
      Properties adminProps = adminProperties(config, bootstrapServers, timeoutS);
      try (Admin admin = Admin.create(adminProps)) {
        return execute(admin, spec.commandLine().getOut(), spec.commandLine().getErr());
      } catch (TimeoutException e) {
        spec.commandLine().getErr().println("error: Kafka at " + adminProps.getProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG)
            + " did not answer within " + timeoutS + " s");
        return 1;
      } catch (ExecutionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        spec.commandLine().getErr().println("error: " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
        return 1;
      } catch (KafkaException e) {
        spec.commandLine().getErr().println("error: cannot use Kafka at " + adminProps.getProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG)
            + ": " + e.getMessage() + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")"));
        return 1;
      }
    }

    abstract int execute(Admin admin, PrintWriter out, PrintWriter err) throws ExecutionException, TimeoutException, InterruptedException;

    /** Existing topics of the plan (missing ones are absent from the map). */
    Map<String, TopicDescription> describeExisting(Admin admin) throws ExecutionException, TimeoutException, InterruptedException {
      List<String> names = plan.topics().stream().map(Topic::name).toList();
      Map<String, KafkaFuture<TopicDescription>> futures = admin.describeTopics(names).topicNameValues();
      Map<String, TopicDescription> found = new LinkedHashMap<>();
      for (String name : names) {
        try {
          found.put(name, futures.get(name).get(timeoutS, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
            throw e;
          }
        }
      }
      return found;
    }

    /** Warnings for an existing topic that differs from the plan (empty when it matches). */
    List<String> differences(Admin admin, Topic planned, TopicDescription actual) throws ExecutionException, TimeoutException, InterruptedException {
      List<String> warnings = new ArrayList<>();
      int actualPartitions = actual.partitions().size();
      if (actualPartitions < planned.partitions()) {
        warnings.add(planned.name() + " has " + actualPartitions + " partitions, the plan says " + planned.partitions()
            + ": at most " + actualPartitions + " stream threads in all can work on it; adding partitions moves calls to other partitions, "
            + "do it only while no call is in progress");
      } else if (actualPartitions > planned.partitions()) {
        warnings.add(planned.name() + " has " + actualPartitions + " partitions, the plan says " + planned.partitions() + " (more is fine)");
      }
      int actualReplicas = replicationFactor(actual);
      if (planned.replicationFactor().isPresent() && actualReplicas != planned.replicationFactor().get()) {
        warnings.add(planned.name() + " has replication factor " + actualReplicas + ", the plan says " + planned.replicationFactor().get());
      }
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, planned.name());
      Config actualConfig = admin.describeConfigs(List.of(resource)).all().get(timeoutS, TimeUnit.SECONDS).get(resource);
      planned.configs().forEach((key, value) -> {
        ConfigEntry entry = actualConfig.get(key);
        String actualValue = entry == null ? null : entry.value();
        if (!value.equals(actualValue)) {
          warnings.add(planned.name() + " has " + key + "=" + actualValue + ", the plan says " + value
              + (key.equals("cleanup.policy") && planned.role() == TopicPlan.Role.CALLS
                  ? " (without compaction the calls topic keeps every old embedding instead of the latest per call x channel)" : ""));
        }
      });
      return warnings;
    }

    static int replicationFactor(TopicDescription d) {
      return d.partitions().isEmpty() ? 0 : d.partitions().get(0).replicas().size();
    }

    static String configsText(Topic t) {
      return t.configs().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
    }

    static String rfText(Optional<Short> rf) {
      return rf.map(String::valueOf).orElse("default");
    }
  }

  /** {@code callvec topics create}. */
  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create the topics that are missing; report the ones that exist and warn where they differ from the plan.")
  static final class Create extends TopicOptions {
    @Option(names = "--dry-run", description = "Let the broker validate the creation without creating anything.")
    boolean dryRun;

    @Override
    int execute(Admin admin, PrintWriter out, PrintWriter err) throws ExecutionException, TimeoutException, InterruptedException {
      Map<String, TopicDescription> existing = describeExisting(admin);
      List<Topic> missing = plan.topics().stream().filter(t -> !existing.containsKey(t.name())).toList();
      Map<String, String> status = new LinkedHashMap<>();
      List<String> warnings = new ArrayList<>();
      boolean failed = false;

      if (!missing.isEmpty()) {
        List<NewTopic> newTopics = missing.stream()
            .map(t -> new NewTopic(t.name(), Optional.of(t.partitions()), t.replicationFactor()).configs(t.configs()))
            .toList();
        CreateTopicsResult result = admin.createTopics(newTopics,
            new CreateTopicsOptions().validateOnly(dryRun).timeoutMs((int) TimeUnit.SECONDS.toMillis(timeoutS)));
        for (Topic t : missing) {
          try {
            result.values().get(t.name()).get(timeoutS, TimeUnit.SECONDS);
            status.put(t.name(), dryRun ? "would be created" : "created");
          } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
              status.put(t.name(), "exists"); // created by someone else meanwhile
            } else {
              failed = true;
              status.put(t.name(), "FAILED");
              err.println("error: cannot create " + t.name() + ": " + e.getCause().getMessage());
            }
          }
        }
        if (!dryRun) {
          awaitVisible(admin, status.entrySet().stream().filter(e -> !e.getValue().equals("FAILED")).map(Map.Entry::getKey).collect(Collectors.toSet()));
        }
      }
      Map<String, TopicDescription> now = dryRun ? existing : describeExisting(admin);
      for (Topic t : plan.topics()) {
        if (existing.containsKey(t.name()) || "exists".equals(status.get(t.name()))) {
          TopicDescription d = now.get(t.name());
          List<String> diffs = d == null ? List.of() : differences(admin, t, d);
          warnings.addAll(diffs);
          status.put(t.name(), diffs.isEmpty() ? "exists" : "exists, differs");
        }
      }

      out.printf("%-9s %-40s %-10s %-7s %-17s %s%n", "ROLE", "TOPIC", "PARTITIONS", "RF", "STATUS", "CONFIGS");
      for (Topic t : plan.topics()) {
        TopicDescription d = now.get(t.name());
        String partitionsText = d == null ? String.valueOf(t.partitions()) : String.valueOf(d.partitions().size());
        String rf = d == null ? rfText(t.replicationFactor()) : String.valueOf(replicationFactor(d));
        out.printf("%-9s %-40s %-10s %-7s %-17s %s%n", t.role().label(), t.name(), partitionsText, rf, status.get(t.name()), configsText(t));
      }
      out.flush();
      for (String w : warnings) {
        err.println("warning: " + w);
      }
      err.flush();
      log.debug("topics create: {}", status);
      return failed ? 1 : 0;
    }

    /** Waits (at most the timeout) until new topics show up in the cluster's metadata. */
    private void awaitVisible(Admin admin, Set<String> names) throws InterruptedException, ExecutionException, TimeoutException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
      while (true) {
        Set<String> listed = admin.listTopics().names().get(timeoutS, TimeUnit.SECONDS);
        if (listed.containsAll(names)) {
          return;
        }
        if (System.nanoTime() > deadline) {
          throw new TimeoutException("created topics " + names + " are not listed after " + timeoutS + " s");
        }
        Thread.sleep(50);
      }
    }
  }

  /** {@code callvec topics describe}. */
  @Command(name = "describe", mixinStandardHelpOptions = true,
      description = "Show the topics of the plan as they are on the cluster; exit 1 if one is missing.")
  static final class Describe extends TopicOptions {
    @Override
    int execute(Admin admin, PrintWriter out, PrintWriter err) throws ExecutionException, TimeoutException, InterruptedException {
      Map<String, TopicDescription> existing = describeExisting(admin);
      List<String> warnings = new ArrayList<>();
      out.printf("%-9s %-40s %-10s %-7s %s%n", "ROLE", "TOPIC", "PARTITIONS", "RF", "STATUS");
      boolean missing = false;
      for (Topic t : plan.topics()) {
        TopicDescription d = existing.get(t.name());
        String statusText;
        String partitionsText;
        String rf;
        if (d == null) {
          missing = true;
          statusText = "MISSING";
          partitionsText = "-";
          rf = "-";
        } else {
          List<String> diffs = differences(admin, t, d);
          warnings.addAll(diffs);
          statusText = diffs.isEmpty() ? "ok" : "differs";
          partitionsText = String.valueOf(d.partitions().size());
          rf = String.valueOf(replicationFactor(d));
        }
        out.printf("%-9s %-40s %-10s %-7s %s%n", t.role().label(), t.name(), partitionsText, rf, statusText);
      }
      out.flush();
      for (String w : warnings) {
        err.println("warning: " + w);
      }
      if (missing) {
        err.println("error: topics are missing; create them with: callvec topics create");
      }
      err.flush();
      return missing ? 1 : 0;
    }
  }

  /**
   * The admin client's settings: the non-callvec keys of the configuration that the admin client
   * knows ({@code bootstrap.servers}, {@code security.protocol}, {@code sasl.*}, {@code ssl.*},
   * ...), then {@code admin.}-prefixed keys (Kafka Streams' convention) with the prefix removed,
   * then {@code --bootstrap-servers}.
   */
  static Properties adminProperties(CallvecConfig config, String bootstrapServers, int timeoutS) {
    Properties p = config.adminProperties();
    if (bootstrapServers != null && !bootstrapServers.isBlank()) {
      p.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers.trim());
    }
    int timeoutMs = (int) TimeUnit.SECONDS.toMillis(timeoutS);
    p.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(timeoutMs));
    p.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(Math.min(timeoutMs, 30_000)));
    p.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "callvec-topics");
    return p;
  }
}
