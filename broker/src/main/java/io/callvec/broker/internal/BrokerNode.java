package io.callvec.broker.internal;

import java.time.Duration;

/** One combined broker + controller KRaft node, in this JVM or in a child JVM. */
public interface BrokerNode {

  /** The node id ({@code node.id}). */
  int nodeId();

  /**
   * Starts the node on its formatted storage. Returns once the node's servers are started; the
   * caller waits for it to join the cluster.
   *
   * @throws io.callvec.broker.LocalKafkaException if it cannot be started
   */
  void start();

  /** Whether the node runs (started and neither stopped nor crashed). */
  boolean isRunning();

  /**
   * Stops the node gracefully (controlled shutdown), waiting at most {@code timeout}; a node that
   * does not stop in time is killed where possible. Does nothing when not running.
   */
  void stop(Duration timeout);

  /**
   * Asks the node to stop without waiting (for stopping several nodes at once); {@link
   * #stop(Duration)} then waits.
   */
  void beginStop();

  /**
   * Kills the node at once, like {@code kill -9}: no controlled shutdown, no flush.
   *
   * @throws UnsupportedOperationException for a node inside this JVM
   */
  void kill();

  /** Text that helps explain a failure of this node (e.g. the end of its log), never null. */
  String diagnostics();
}
