package io.callvec.broker.internal;

import io.callvec.broker.LocalKafkaException;
import java.time.Duration;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A KRaft node ({@link KafkaRaftServer}) running inside this JVM. */
public final class InProcessNode implements BrokerNode {

  private static final Logger LOG = LoggerFactory.getLogger(InProcessNode.class);

  private final int nodeId;
  private final Properties config;
  private KafkaRaftServer server;
  private Thread stopper;
  private String lastFailure = "";

  public InProcessNode(int nodeId, Properties config) {
    this.nodeId = nodeId;
    this.config = config;
  }

  @Override
  public int nodeId() {
    return nodeId;
  }

  @Override
  public synchronized void start() {
    if (server != null) {
      throw new IllegalStateException("node " + nodeId + " is already running");
    }
    KafkaRaftServer s;
    try {
      s = new KafkaRaftServer(KafkaConfig.fromProps(config, false), Time.SYSTEM);
    } catch (RuntimeException e) {
      lastFailure = e.toString();
      throw new LocalKafkaException("invalid broker configuration for node " + nodeId + ": " + e.getMessage(), e);
    }
    try {
      s.startup();
    } catch (RuntimeException e) {
      lastFailure = e.toString();
      try {
        s.shutdown();
        s.awaitShutdown();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new LocalKafkaException("in-process broker node " + nodeId + " failed to start: " + e.getMessage(), e);
    }
    server = s;
  }

  @Override
  public synchronized boolean isRunning() {
    return server != null;
  }

  @Override
  public synchronized void beginStop() {
    if (server == null || stopper != null) {
      return;
    }
    KafkaRaftServer s = server;
    stopper = new Thread(() -> {
      try {
        s.shutdown();
        s.awaitShutdown();
      } catch (RuntimeException e) {
        LOG.warn("broker node {} failed while shutting down", nodeId, e);
      }
    }, "kafka-node-" + nodeId + "-shutdown");
    stopper.setDaemon(true);
    stopper.start();
  }

  @Override
  public void stop(Duration timeout) {
    beginStop();
    Thread t;
    synchronized (this) {
      t = stopper;
    }
    if (t == null) {
      return;
    }
    try {
      t.join(timeout.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (t.isAlive()) {
      LOG.warn("broker node {} did not stop within {} ms; leaving its shutdown thread behind", nodeId, timeout.toMillis());
    }
    synchronized (this) {
      server = null;
      stopper = null;
    }
  }

  @Override
  public void kill() {
    throw new UnsupportedOperationException(
        "node " + nodeId + " runs inside this JVM and cannot be killed; use LocalKafkaCluster.Mode.CHILD_PROCESS");
  }

  @Override
  public String diagnostics() {
    return lastFailure.isEmpty() ? "(in-process node " + nodeId + ", see this JVM's log)" : lastFailure;
  }
}
