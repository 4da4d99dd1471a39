package io.callvec.broker;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.admin.NewTopic;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs a {@link LocalKafkaCluster} until Ctrl-C or SIGTERM: {@code ops/broker/start-local.sh}.
 *
 * <p>Prints one line to stdout once the cluster is ready, {@code bootstrap.servers=localhost:9092},
 * and logs to stderr. Exit codes: 0 after a clean stop, 1 if the cluster cannot start, 2 bad usage.
 */
@Command(
    name = "local-kafka",
    mixinStandardHelpOptions = true,
    description = "Runs a real single- or multi-node KRaft Kafka cluster on this machine until Ctrl-C.")
public final class LocalKafkaMain implements Callable<Integer> {

  @Option(names = "--nodes", defaultValue = "1", description = "Brokers, 1 to 9 (default ${DEFAULT-VALUE}).")
  int nodes;

  @Option(names = "--port", defaultValue = "9092",
      description = "PLAINTEXT port of node 0; node i listens on port + i; 0 = free ports (default ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--data",
      description = "Data folder to keep between runs (formatted on first use). Default: a temporary folder deleted on stop.")
  Path data;

  @Option(names = "--mode", defaultValue = "IN_PROCESS",
      description = "IN_PROCESS (combined broker+controller nodes in this JVM) or CHILD_PROCESS (one JVM per broker"
          + " + a controller JVM). Default ${DEFAULT-VALUE}.")
  LocalKafkaCluster.Mode mode;

  @Option(names = "--topic", paramLabel = "NAME[:PARTITIONS]",
      description = "Create this topic on start (repeatable), default 1 partition; replication min(nodes, 3).")
  List<String> topics = new ArrayList<>();

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final CountDownLatch stopped = new CountDownLatch(1);

  @Override
  public Integer call() throws Exception {
    List<NewTopic> newTopics = new ArrayList<>();
    for (String t : topics) {
      String[] parts = t.split(":", 2);
      int partitions;
      try {
        partitions = parts.length == 2 ? Integer.parseInt(parts[1]) : 1;
      } catch (NumberFormatException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--topic " + t + ": partitions must be an integer");
      }
      if (parts[0].isEmpty() || partitions < 1) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--topic " + t + ": expected NAME[:PARTITIONS>=1]");
      }
      newTopics.add(new NewTopic(parts[0], partitions, (short) Math.min(nodes, 3)));
    }
    LocalKafkaCluster.Builder builder = LocalKafkaCluster.builder().nodes(nodes).brokerPort(port).mode(mode);
    if (data != null) {
      builder.dataDir(data);
    }
    LocalKafkaCluster cluster = builder.build();
    Thread hook = new Thread(() -> {
      try {
        cluster.close();
      } finally {
        stopped.countDown();
      }
    }, "local-kafka-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    if (!newTopics.isEmpty()) {
      cluster.createTopics(newTopics);
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println("bootstrap.servers=" + cluster.bootstrapServers());
    out.flush();
    stopped.await();
    return 0;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new LocalKafkaMain()).execute(args));
  }
}
