package io.callvec.broker;

import io.callvec.broker.internal.BrokerNode;
import io.callvec.broker.internal.ChildProcessNode;
import io.callvec.broker.internal.FreePorts;
import io.callvec.broker.internal.InProcessNode;
import io.callvec.broker.internal.KraftStorage;
import io.callvec.broker.internal.Pause;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka cluster on this machine: 1 to N KRaft brokers, in this JVM (combined broker +
 * controller nodes) or as child JVMs (brokers + one dedicated controller). For {@code callvec
 * demo}, the integration tests and {@code ops/broker}.
 *
 * <pre>{@code
 * try (LocalKafkaCluster kafka = LocalKafkaCluster.builder().build()) {   // 1 node, in-process, free port
 *   kafka.createTopics(4, "callvec.audio");
 *   producerProps.putAll(kafka.clientConfig());
 *   ...
 * }
 * }</pre>
 *
 * <p>Every node is configured so that Kafka Streams {@code exactly_once_v2}, transactions and
 * consumer groups work on a cluster of that size (internal topics' replication factor and
 * min.insync.replicas scaled to the node count), with small-footprint settings (2 MiB log cleaner
 * buffer, no initial rebalance delay). Topics are not auto-created: create them with {@link
 * #createTopics}. Override any broker setting with {@link Builder#brokerProperty}.
 *
 * <p>{@link #close()} stops all nodes in parallel (stopping KRaft nodes one after another makes the
 * last one wait minutes for a lost quorum) and deletes the data folder unless it was given. A
 * cluster of child JVMs is also closed by a JVM shutdown hook if this JVM exits without closing it,
 * so no broker process outlives its parent (unless the parent is killed with SIGKILL).
 *
 * <p>Security ({@link Builder#saslSsl}): by default every listener is PLAINTEXT. With a {@link
 * SaslSsl} spec the client listener (the port of {@link #bootstrapServers()}) requires {@code
 * SASL_SSL} (SCRAM-SHA-512 or PLAIN over TLS with a generated self-signed certificate), and {@link
 * #clientConfig()} carries the matching client keys. The inter-broker and KRaft controller
 * listeners stay PLAINTEXT on localhost (an extra port per broker, {@link #internalPort}): a process
 * on this machine that finds those ports can bypass authentication, which is fine for tests and
 * demos, not for production. No authorizer is set: an authenticated user may do anything.
 *
 * <p>Not thread-safe: start, stop and close from one thread; {@link #bootstrapServers()} and the
 * client helpers may be called from any thread.
 */
public final class LocalKafkaCluster implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LocalKafkaCluster.class);
  private static final String HOST = "localhost";
  private static final int START_ATTEMPTS_WITH_FREE_PORTS = 3;
  /** node.id of the dedicated controller of {@link Mode#CHILD_PROCESS} clusters. */
  public static final int CONTROLLER_NODE_ID = 1000;
  private static final long DEFAULT_BROKER_SESSION_TIMEOUT_MS = 3_000;

  /** Where the nodes run. */
  public enum Mode {
    /** {@code KafkaRaftServer}s inside this JVM: fastest start (≈ 3 s to first produce), no extra process. */
    IN_PROCESS,
    /**
     * One child JVM per broker ({@code kafka.Kafka server.properties} on this JVM's class path) plus
     * one child JVM for a dedicated KRaft controller (node id {@value LocalKafkaCluster#CONTROLLER_NODE_ID}),
     * so that a test can {@link LocalKafkaCluster#killNode kill -9} a broker and {@link
     * LocalKafkaCluster#startNode restart} it while the
     * controller keeps the cluster's metadata. Slower to start than in-process (8 to 14 s measured on a
     * busy 2-core machine, where in-process took 0.5 to 3 s); 512 MiB heap per broker by default.
     */
    CHILD_PROCESS
  }

  private final Mode mode;
  private final Duration startTimeout;
  private final Duration stopTimeout;
  private final Path dataDir;
  private final boolean deleteDataDirOnClose;
  private final String clusterId;
  private final List<BrokerNode> nodes;
  private final BrokerNode controller;
  private final long[] killedAtNanos;
  private final long fenceWaitMs;
  private final List<Integer> brokerPorts;
  private final List<Integer> internalPorts;
  private final SaslSsl saslSsl;
  private final String bootstrapServers;
  private final Thread shutdownHook;
  private boolean closed;

  private LocalKafkaCluster(
      Builder spec,
      Path dataDir,
      boolean deleteDataDirOnClose,
      String clusterId,
      List<BrokerNode> nodes,
      BrokerNode controller,
      List<Integer> brokerPorts,
      List<Integer> internalPorts) {
    this.mode = spec.mode;
    this.startTimeout = spec.startTimeout;
    this.stopTimeout = spec.stopTimeout;
    this.dataDir = dataDir;
    this.deleteDataDirOnClose = deleteDataDirOnClose;
    this.clusterId = clusterId;
    this.nodes = List.copyOf(nodes);
    this.controller = controller;
    this.killedAtNanos = new long[nodes.size()];
    this.fenceWaitMs = Long.parseLong(spec.brokerProperties.getOrDefault(
        "broker.session.timeout.ms", Long.toString(DEFAULT_BROKER_SESSION_TIMEOUT_MS))) + 1_000;
    this.brokerPorts = List.copyOf(brokerPorts);
    this.internalPorts = List.copyOf(internalPorts);
    this.saslSsl = spec.saslSsl;
    this.bootstrapServers = brokerPorts.stream().map(p -> HOST + ":" + p).collect(Collectors.joining(","));
    if (mode == Mode.CHILD_PROCESS) {
      this.shutdownHook = new Thread(this::close, "local-kafka-stop-children");
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    } else {
      this.shutdownHook = null;
    }
  }

  /** A builder with the defaults: 1 node, {@link Mode#IN_PROCESS}, free ports, temporary data folder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Starts a 1-node in-process cluster on a free port with a temporary data folder. */
  public static LocalKafkaCluster startSingleNode() {
    return builder().build();
  }

  /** {@code bootstrap.servers} for clients, e.g. {@code localhost:40123} (one entry per node). */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /**
   * Client settings that reach this cluster: {@code bootstrap.servers}, plus, when the cluster was
   * built with {@link Builder#saslSsl}, the security keys of {@link SaslSsl#clientSettings()}
   * (which hold the password). Add your own to a copy.
   */
  public Map<String, Object> clientConfig() {
    return clientConfig(bootstrapServers, saslSsl);
  }

  private static Map<String, Object> clientConfig(String bootstrap, SaslSsl saslSsl) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    if (saslSsl != null) {
      m.putAll(saslSsl.clientSettings());
    }
    return Collections.unmodifiableMap(m);
  }

  /** The client listener's security, if {@link Builder#saslSsl} was set. */
  public java.util.Optional<SaslSsl> saslSsl() {
    return java.util.Optional.ofNullable(saslSsl);
  }

  /**
   * The PLAINTEXT inter-broker port of node {@code nodeId} when the client listener is secured
   * ({@link Builder#saslSsl}); -1 otherwise (clients and brokers then share {@link #brokerPort}).
   */
  public int internalPort(int nodeId) {
    checkNode(nodeId);
    return internalPorts.isEmpty() ? -1 : internalPorts.get(nodeId);
  }

  /** Number of nodes (running or not). */
  public int nodeCount() {
    return nodes.size();
  }

  /** Where the nodes run. */
  public Mode mode() {
    return mode;
  }

  /** The data folder: one {@code node-<id>} folder per node with its log dir and, for child JVMs, its log. */
  public Path dataDir() {
    return dataDir;
  }

  /** The KRaft cluster id the storage was formatted with. */
  public String clusterId() {
    return clusterId;
  }

  /** The client port of node {@code nodeId} (0-based): PLAINTEXT, or SASL_SSL with {@link Builder#saslSsl}. */
  public int brokerPort(int nodeId) {
    checkNode(nodeId);
    return brokerPorts.get(nodeId);
  }

  /**
   * The replication factor new topics get from {@link #createTopics(int, String...)}: {@code
   * min(nodeCount, 3)}.
   */
  public short defaultReplicationFactor() {
    return (short) Math.min(nodes.size(), 3);
  }

  /** A new admin client for this cluster; the caller closes it. */
  public Admin createAdmin() {
    Map<String, Object> cfg = new LinkedHashMap<>(clientConfig());
    cfg.put(AdminClientConfig.CLIENT_ID_CONFIG, "local-kafka-admin");
    return Admin.create(cfg);
  }

  /**
   * Creates topics with {@code partitions} partitions each and {@link #defaultReplicationFactor()},
   * and waits until every partition has a leader.
   *
   * @param partitions partitions per topic, >= 1
   * @throws LocalKafkaException if a topic cannot be created (e.g. it exists) within 30 s
   */
  public void createTopics(int partitions, String... topics) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, found " + partitions);
    }
    List<NewTopic> list = new ArrayList<>();
    for (String t : topics) {
      list.add(new NewTopic(t, partitions, defaultReplicationFactor()));
    }
    createTopics(list);
  }

  /**
   * Creates the given topics and waits until every partition has a leader.
   *
   * @throws LocalKafkaException if a topic cannot be created (e.g. it exists) within 30 s
   */
  public void createTopics(Collection<NewTopic> topics) {
    try (Admin admin = createAdmin()) {
      createTopics(admin, topics);
    }
  }

  /**
   * Creates the given topics through {@code admin} (any cluster) and waits until every partition
   * has a leader.
   *
   * @throws LocalKafkaException if a topic cannot be created (e.g. it exists) within 30 s
   */
  public static void createTopics(Admin admin, Collection<NewTopic> topics) {
    Set<String> names = topics.stream().map(NewTopic::name).collect(Collectors.toCollection(TreeSet::new));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    try {
      admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
      while (true) {
        Map<String, TopicDescription> d;
        try {
          d = admin.describeTopics(names).allTopicNames().get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          d = Map.of(); // metadata not propagated yet
        }
        boolean ready = d.size() == names.size()
            && d.values().stream().flatMap(t -> t.partitions().stream()).map(TopicPartitionInfo::leader)
                .allMatch(l -> l != null && !l.isEmpty());
        if (ready) {
          return;
        }
        if (System.nanoTime() > deadline) {
          throw new LocalKafkaException("topics " + names + " were created but have no leader after 30 s");
        }
        Thread.sleep(50);
      }
    } catch (ExecutionException e) {
      throw new LocalKafkaException("cannot create topics " + names + ": " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new LocalKafkaException("creating topics " + names + " did not finish within 30 s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LocalKafkaException("interrupted while creating topics " + names, e);
    }
  }

  /**
   * Stops node {@code nodeId} gracefully (controlled shutdown) and waits for it, at most the
   * builder's stop timeout. Its data stays; {@link #startNode} starts it again.
   */
  public void stopNode(int nodeId) {
    checkNode(nodeId);
    nodes.get(nodeId).stop(stopTimeout);
  }

  /**
   * Kills node {@code nodeId} at once ({@code kill -9}): no controlled shutdown. Records acknowledged
   * with {@code acks=all} before the kill survive; {@link #startNode} starts it again.
   *
   * @throws UnsupportedOperationException unless the mode is {@link Mode#CHILD_PROCESS}
   */
  public void killNode(int nodeId) {
    checkNode(nodeId);
    nodes.get(nodeId).kill();
    killedAtNanos[nodeId] = System.nanoTime();
  }

  /**
   * Starts a stopped or killed node again on its data and ports, and waits until it has rejoined
   * the cluster (at most the builder's start timeout). After {@link #killNode} it first waits until
   * the controller has fenced the dead node: {@code broker.session.timeout.ms} (3 s) + 1 s after the
   * kill.
   *
   * @throws IllegalStateException if the node is running
   * @throws LocalKafkaException if it does not rejoin in time
   */
  public void startNode(int nodeId) {
    checkNode(nodeId);
    BrokerNode n = nodes.get(nodeId);
    if (n.isRunning()) {
      throw new IllegalStateException("node " + nodeId + " is running");
    }
    if (killedAtNanos[nodeId] != 0) {
      // Let the controller fence the dead incarnation first. A broker that restarts while the metadata
      // still names it leader acts on that stale leadership, and its transaction coordinator can then
      // complete a commit without writing the markers, leaving the partitions' last stable offset
      // stuck (seen with Kafka 4.4.0 when the controller died with the broker).
      long waitMs = fenceWaitMs - (System.nanoTime() - killedAtNanos[nodeId]) / 1_000_000;
      if (waitMs > 0) {
        LOG.info("waiting {} ms for the controller to fence killed node {} before restarting it", waitMs, nodeId);
        try {
          Thread.sleep(waitMs);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new LocalKafkaException("interrupted while restarting node " + nodeId, e);
        }
      }
      killedAtNanos[nodeId] = 0;
    }
    n.start();
    awaitBrokers(nodes, clientConfig(), startTimeout);
  }

  /** Whether node {@code nodeId} is running. */
  public boolean isNodeRunning(int nodeId) {
    checkNode(nodeId);
    return nodes.get(nodeId).isRunning();
  }

  private void checkNode(int nodeId) {
    if (nodeId < 0 || nodeId >= nodes.size()) {
      throw new IllegalArgumentException("node id must be in [0, " + nodes.size() + "), found " + nodeId);
    }
  }

  /**
   * Stops all nodes in parallel (each at most the builder's stop timeout), then deletes the data
   * folder if it was temporary. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    long t0 = System.nanoTime();
    stopAll(nodes, controller, stopTimeout);
    if (shutdownHook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException alreadyShuttingDown) {
        // the hook is running or ran; nothing to remove
      }
    }
    if (deleteDataDirOnClose) {
      KraftStorage.deleteRecursively(dataDir);
    }
    LOG.info("local Kafka ({} node(s), {}) stopped in {} ms", nodes.size(), mode, (System.nanoTime() - t0) / 1_000_000);
  }

  /**
   * Stops the nodes in parallel, then the dedicated controller (if any): brokers need a controller
   * for their controlled shutdown.
   */
  private static void stopAll(List<BrokerNode> nodes, BrokerNode controller, Duration timeout) {
    for (BrokerNode n : nodes) {
      n.beginStop();
    }
    for (BrokerNode n : nodes) {
      n.stop(timeout);
    }
    if (controller != null) {
      controller.stop(timeout);
    }
  }

  @Override
  public String toString() {
    return "LocalKafkaCluster[" + bootstrapServers + ", " + nodes.size() + " node(s), " + mode + ", " + dataDir + "]";
  }

  // ---------------------------------------------------------------------------------------------

  private static LocalKafkaCluster start(Builder b) {
    Path root;
    boolean temporary = b.dataDir == null;
    try {
      root = temporary ? Files.createTempDirectory("callvec-kafka-") : Files.createDirectories(b.dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the Kafka data folder", e);
    }
    int attempts = b.brokerPort == 0 ? START_ATTEMPTS_WITH_FREE_PORTS : 1;
    for (int attempt = 1; ; attempt++) {
      try {
        return tryStart(b, root, temporary);
      } catch (LocalKafkaException e) {
        boolean portTaken = isPortConflict(e);
        if (attempt >= attempts || !portTaken) {
          if (temporary) {
            KraftStorage.deleteRecursively(root);
          }
          throw e;
        }
        LOG.warn("a port was taken while the local Kafka started (attempt {} of {}); retrying with new ports", attempt, attempts);
        if (temporary) {
          for (int i = 0; i < b.nodes; i++) {
            KraftStorage.deleteRecursively(root.resolve("node-" + i));
          }
        }
      }
    }
  }

  private static LocalKafkaCluster tryStart(Builder b, Path root, boolean temporary) {
    long t0 = System.nanoTime();
    int n = b.nodes;
    // IN_PROCESS: n combined broker+controller nodes. CHILD_PROCESS: n broker JVMs + 1 controller JVM,
    // so that a killed broker is fenced by a live controller before it restarts.
    boolean dedicatedController = b.mode == Mode.CHILD_PROCESS;
    int controllers = dedicatedController ? 1 : n;
    List<Integer> brokerPorts = new ArrayList<>(n);
    List<Integer> controllerPorts;
    List<Integer> internalPorts = List.of();
    if (b.brokerPort == 0) {
      int internal = b.saslSsl == null ? 0 : n;
      List<Integer> ports = FreePorts.take(n + controllers + internal);
      brokerPorts.addAll(ports.subList(0, n));
      controllerPorts = new ArrayList<>(ports.subList(n, n + controllers));
      internalPorts = List.copyOf(ports.subList(n + controllers, n + controllers + internal));
    } else {
      for (int i = 0; i < n; i++) {
        int port = b.brokerPort + i;
        if (!FreePorts.isFree(port)) {
          throw new LocalKafkaException("port " + port + " (node " + i + ") is in use: is another broker running?");
        }
        brokerPorts.add(port);
      }
      controllerPorts = new ArrayList<>(FreePorts.take(controllers));
      while (controllerPorts.removeAll(brokerPorts)) {
        controllerPorts.addAll(FreePorts.take(controllers - controllerPorts.size()));
      }
      if (b.saslSsl != null) {
        List<Integer> internal = new ArrayList<>();
        while (internal.size() < n) {
          for (int p : FreePorts.take(n - internal.size())) {
            if (!brokerPorts.contains(p) && !controllerPorts.contains(p) && !internal.contains(p)) {
              internal.add(p);
            }
          }
        }
        internalPorts = List.copyOf(internal);
      }
    }
    List<Integer> controllerIds = new ArrayList<>();
    for (int i = 0; i < controllers; i++) {
      controllerIds.add(dedicatedController ? CONTROLLER_NODE_ID + i : i);
    }
    StringBuilder voters = new StringBuilder();
    for (int i = 0; i < controllers; i++) {
      voters.append(i == 0 ? "" : ",").append(controllerIds.get(i)).append('@').append(HOST).append(':').append(controllerPorts.get(i));
    }
    String clusterId = KraftStorage.clusterIdOf(root.resolve("node-0").resolve("data"))
        .orElseGet(() -> Uuid.randomUuid().toString());

    List<BrokerNode> nodes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Path nodeDir = root.resolve("node-" + i);
      Properties props = dedicatedController
          ? nodeConfig(b, i, brokerPorts.get(i), internalPorts.isEmpty() ? -1 : internalPorts.get(i), -1, voters.toString(),
              nodeDir.resolve("data"))
          : nodeConfig(b, i, brokerPorts.get(i), internalPorts.isEmpty() ? -1 : internalPorts.get(i), controllerPorts.get(i),
              voters.toString(), nodeDir.resolve("data"));
      nodes.add(prepareNode(b, i, nodeDir, props, clusterId));
    }
    BrokerNode controller = null;
    if (dedicatedController) {
      Path dir = root.resolve("controller");
      Properties props = nodeConfig(b, CONTROLLER_NODE_ID, -1, -1, controllerPorts.get(0), voters.toString(), dir.resolve("data"));
      controller = prepareNode(b, CONTROLLER_NODE_ID, dir, props, clusterId);
    }

    String bootstrap = brokerPorts.stream().map(p -> HOST + ":" + p).collect(Collectors.joining(","));
    List<BrokerNode> all = new ArrayList<>(nodes);
    if (controller != null) {
      all.add(controller);
    }
    try {
      startAll(all);
      awaitBrokers(nodes, clientConfig(bootstrap, b.saslSsl), b.startTimeout);
    } catch (RuntimeException e) {
      stopAll(nodes, controller, b.stopTimeout);
      throw e;
    }
    LocalKafkaCluster cluster = new LocalKafkaCluster(b, root, temporary, clusterId, nodes, controller, brokerPorts, internalPorts);
    LOG.info("local Kafka ready at {} ({} node(s), {}, client listener {}) in {} ms", bootstrap, n, b.mode,
        b.saslSsl == null ? "PLAINTEXT" : "SASL_SSL " + b.saslSsl.mechanism(), (System.nanoTime() - t0) / 1_000_000);
    return cluster;
  }

  /** Writes the node's server.properties, formats its storage if new, and makes the node. */
  private static BrokerNode prepareNode(Builder b, int id, Path nodeDir, Properties props, String clusterId) {
    Path logDir = Path.of(props.getProperty("log.dirs"));
    Path propsFile = nodeDir.resolve("server.properties");
    try {
      Files.createDirectories(nodeDir);
      try (OutputStream out = Files.newOutputStream(propsFile)) {
        props.store(out, "callvec local Kafka node " + id);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + propsFile, e);
    }
    var existing = KraftStorage.clusterIdOf(logDir);
    if (existing.isEmpty()) {
      KraftStorage.format(propsFile, clusterId, b.saslSsl == null ? List.of() : b.saslSsl.formatArguments());
    } else if (!existing.get().equals(clusterId)) {
      throw new LocalKafkaException(
          "node " + id + " data in " + logDir + " belongs to cluster " + existing.get() + ", expected " + clusterId);
    }
    return b.mode == Mode.IN_PROCESS
        ? new InProcessNode(id, props)
        : new ChildProcessNode(id, propsFile, nodeDir.resolve("broker.log"), b.childJvmOptions, b.childClasspath);
  }

  /** Starts the nodes; in-process nodes in parallel, since a KRaft node's startup waits for its quorum. */
  private static void startAll(List<BrokerNode> nodes) {
    if (nodes.size() == 1) {
      nodes.get(0).start();
      return;
    }
    List<Thread> threads = new ArrayList<>();
    List<RuntimeException> failures = Collections.synchronizedList(new ArrayList<>());
    for (BrokerNode node : nodes) {
      Thread t = new Thread(() -> {
        try {
          node.start();
        } catch (RuntimeException e) {
          failures.add(e);
        }
      }, "kafka-node-" + node.nodeId() + "-startup");
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LocalKafkaException("interrupted while starting the local Kafka", e);
      }
    }
    if (!failures.isEmpty()) {
      RuntimeException first = failures.get(0);
      failures.subList(1, failures.size()).forEach(first::addSuppressed);
      throw first;
    }
  }

  /** Waits until the metadata of the cluster lists every running node as a broker. */
  private static void awaitBrokers(List<BrokerNode> nodes, Map<String, Object> clientConfig, Duration timeout) {
    Set<Integer> expected = nodes.stream().filter(BrokerNode::isRunning).map(BrokerNode::nodeId)
        .collect(Collectors.toCollection(TreeSet::new));
    String bootstrap = (String) clientConfig.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    Map<String, Object> cfg = new LinkedHashMap<>(clientConfig);
    cfg.put(AdminClientConfig.CLIENT_ID_CONFIG, "local-kafka-readiness");
    cfg.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
    cfg.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000);
    cfg.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 100);
    cfg.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 100);
    cfg.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
    long deadline = System.nanoTime() + timeout.toNanos();
    // First wait for the listeners to accept connections: an admin client polling a closed port logs a warning per try.
    for (String hostPort : bootstrap.split(",")) {
      int colon = hostPort.lastIndexOf(':');
      InetSocketAddress address = new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
      while (!accepts(address)) {
        checkAlive(nodes, expected);
        if (System.nanoTime() > deadline) {
          break; // the admin loop below reports the failure with diagnostics
        }
        Pause.ms(50, "the local Kafka");
      }
    }
    Set<Integer> seen = Set.of();
    String lastError = "no answer yet";
    try (Admin admin = Admin.create(cfg)) {
      while (true) {
        checkAlive(nodes, expected);
        try {
          DescribeClusterResult r = admin.describeCluster();
          seen = r.nodes().get(3, TimeUnit.SECONDS).stream().map(Node::id).collect(Collectors.toCollection(TreeSet::new));
          Node controller = r.controller().get(3, TimeUnit.SECONDS);
          if (seen.containsAll(expected) && controller != null && !controller.isEmpty()) {
            return;
          }
          lastError = "brokers " + seen + " of " + expected;
        } catch (ExecutionException | TimeoutException e) {
          lastError = String.valueOf(e.getCause() == null ? e : e.getCause());
        }
        if (System.nanoTime() > deadline) {
          String diag = nodes.stream().map(x -> "node " + x.nodeId() + ": " + x.diagnostics()).collect(Collectors.joining("\n"));
          throw new LocalKafkaException("local Kafka at " + bootstrap + " not ready after " + timeout.toMillis()
              + " ms: expected brokers " + expected + ", metadata shows " + seen + " (" + lastError + ")\n" + diag);
        }
        Thread.sleep(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LocalKafkaException("interrupted while waiting for the local Kafka", e);
    }
  }

  private static void checkAlive(List<BrokerNode> nodes, Set<Integer> expected) {
    for (BrokerNode node : nodes) {
      if (expected.contains(node.nodeId()) && !node.isRunning()) {
        throw new LocalKafkaException("broker node " + node.nodeId() + " stopped while starting: " + node.diagnostics());
      }
    }
  }

  private static boolean accepts(InetSocketAddress address) {
    try (Socket s = new Socket()) {
      s.connect(address, 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean isPortConflict(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BindException || String.valueOf(t.getMessage()).contains("Address already in use")) {
        return true;
      }
      for (Throwable s : t.getSuppressed()) {
        if (isPortConflict(s)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * The server properties of node {@code id}; the builder's overrides last. A node with a broker
   * port is a broker, one with a controller port a controller, one with both a combined node.
   *
   * @param brokerPort client port (PLAINTEXT, or SASL_SSL with {@link Builder#saslSsl}), or -1 for a controller-only node
   * @param internalPort PLAINTEXT inter-broker port when the client port is SASL_SSL, else -1
   * @param controllerPort CONTROLLER port, or -1 for a broker-only node
   */
  static Properties nodeConfig(Builder b, int id, int brokerPort, int internalPort, int controllerPort, String voters, Path logDir) {
    int n = b.nodes;
    int rf = Math.min(n, 3);
    int minIsr = n >= 3 ? 2 : 1;
    boolean broker = brokerPort >= 0;
    boolean controller = controllerPort >= 0;
    Properties p = new Properties();
    p.setProperty("process.roles", broker && controller ? "broker,controller" : broker ? "broker" : "controller");
    p.setProperty("node.id", Integer.toString(id));
    p.setProperty("controller.quorum.voters", voters);
    List<String> listeners = new ArrayList<>();
    if (broker && b.saslSsl != null) {
      String advertised = "SASL_SSL://" + HOST + ":" + brokerPort + ",PLAINTEXT://" + HOST + ":" + internalPort;
      listeners.add(advertised);
      p.setProperty("advertised.listeners", advertised);
      p.setProperty("inter.broker.listener.name", "PLAINTEXT");
      b.saslSsl.brokerSettings("SASL_SSL").forEach(p::setProperty);
    } else if (broker) {
      listeners.add("PLAINTEXT://" + HOST + ":" + brokerPort);
      p.setProperty("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPort);
      p.setProperty("inter.broker.listener.name", "PLAINTEXT");
    }
    if (controller) {
      listeners.add("CONTROLLER://" + HOST + ":" + controllerPort);
    }
    p.setProperty("listeners", String.join(",", listeners));
    p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL");
    p.setProperty("controller.listener.names", "CONTROLLER");
    p.setProperty("log.dirs", logDir.toAbsolutePath().toString());
    // Internal topics sized for this cluster: exactly_once_v2 needs them creatable, else Streams waits forever.
    p.setProperty("offsets.topic.replication.factor", Integer.toString(rf));
    p.setProperty("offsets.topic.num.partitions", Integer.toString(n));
    p.setProperty("transaction.state.log.replication.factor", Integer.toString(rf));
    p.setProperty("transaction.state.log.min.isr", Integer.toString(minIsr));
    p.setProperty("transaction.state.log.num.partitions", Integer.toString(n));
    p.setProperty("share.coordinator.state.topic.replication.factor", Integer.toString(rf));
    p.setProperty("share.coordinator.state.topic.min.isr", Integer.toString(minIsr));
    p.setProperty("default.replication.factor", Integer.toString(rf));
    p.setProperty("min.insync.replicas", Integer.toString(minIsr));
    p.setProperty("num.partitions", "1");
    p.setProperty("auto.create.topics.enable", "false");
    // Small and quick: no rebalance delay, 2 MiB cleaner buffer (heap 170 -> 42 MiB), few threads.
    p.setProperty("group.initial.rebalance.delay.ms", "0");
    p.setProperty("log.cleaner.dedupe.buffer.size", "2097152");
    p.setProperty("num.network.threads", "2");
    p.setProperty("num.io.threads", "4");
    p.setProperty("num.recovery.threads.per.data.dir", "1");
    // Fast failure detection for kill/restart tests: a dead broker is fenced after 3 s.
    p.setProperty("broker.session.timeout.ms", Long.toString(DEFAULT_BROKER_SESSION_TIMEOUT_MS));
    p.setProperty("broker.heartbeat.interval.ms", "500");
    b.brokerProperties.forEach(p::setProperty);
    return p;
  }

  /** Settings of a cluster to start; {@link #build()} starts it. */
  public static final class Builder {
    private int nodes = 1;
    private Mode mode = Mode.IN_PROCESS;
    private int brokerPort;
    private Path dataDir;
    private Duration startTimeout = Duration.ofSeconds(60);
    private Duration stopTimeout = Duration.ofSeconds(30);
    private final Map<String, String> brokerProperties = new LinkedHashMap<>();
    private List<String> childJvmOptions = List.of("-Xmx512m", "-Xms64m");
    private String childClasspath = System.getProperty("java.class.path");
    private SaslSsl saslSsl;

    private Builder() {}

    /**
     * Secures the client listener with SASL_SSL (see the class comment); null (default) keeps it
     * PLAINTEXT. Inter-broker and controller traffic stays PLAINTEXT on localhost.
     */
    public Builder saslSsl(SaslSsl spec) {
      this.saslSsl = spec;
      return this;
    }

    /** Number of combined broker + controller nodes, 1 (default) to 9; use an odd number. */
    public Builder nodes(int count) {
      if (count < 1 || count > 9) {
        throw new IllegalArgumentException("nodes must be in [1, 9], found " + count);
      }
      this.nodes = count;
      return this;
    }

    /** Where the nodes run; default {@link Mode#IN_PROCESS}. */
    public Builder mode(Mode mode) {
      this.mode = mode;
      return this;
    }

    /**
     * PLAINTEXT port of node 0; node i listens on {@code port + i}. 0 (default): free ports, and a
     * start that loses a port race is retried with new ones. Controller ports are always free ports.
     */
    public Builder brokerPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be in [0, 65535], found " + port);
      }
      this.brokerPort = port;
      return this;
    }

    /**
     * A data folder to use and keep (node-&lt;id&gt;/data, server.properties, broker.log); formatted on
     * first use, reused afterwards. Default: a temporary folder deleted on {@link #close()}.
     */
    public Builder dataDir(Path dir) {
      this.dataDir = dir;
      return this;
    }

    /** A broker setting for every node, applied after the defaults. */
    public Builder brokerProperty(String key, String value) {
      brokerProperties.put(key, value);
      return this;
    }

    /** How long {@link #build()} and {@link #startNode} wait for the brokers; default 60 s. */
    public Builder startTimeout(Duration timeout) {
      this.startTimeout = timeout;
      return this;
    }

    /** How long a node may take to stop before it is abandoned (in-process) or killed; default 30 s. */
    public Builder stopTimeout(Duration timeout) {
      this.stopTimeout = timeout;
      return this;
    }

    /** JVM options of child nodes, before {@code -cp}; default {@code -Xmx512m -Xms64m}. */
    public Builder childJvmOptions(List<String> options) {
      this.childJvmOptions = List.copyOf(options);
      return this;
    }

    /**
     * Class path of child nodes (kafka_2.13, kafka-server and a logging binding); default this JVM's
     * {@code java.class.path} (a jar's manifest Class-Path is followed there too).
     */
    public Builder childClasspath(String classpath) {
      this.childClasspath = classpath;
      return this;
    }

    /**
     * Formats storage, starts the nodes and waits until the cluster metadata lists every broker.
     *
     * @throws LocalKafkaException if the cluster is not ready within the start timeout (with the
     *     nodes' diagnostics), or a fixed port is in use
     */
    public LocalKafkaCluster build() {
      return start(this);
    }
  }
}
