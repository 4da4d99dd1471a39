package io.callvec.it;

import io.callvec.broker.LocalKafkaCluster;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/**
 * JUnit 5 extension behind {@link RealKafka}: starts a real broker before the test class and
 * resolves {@link KafkaBroker} parameters.
 *
 * <p>Which broker: with a reachable Docker engine ({@code DockerClientFactory.isDockerAvailable()}),
 * a Testcontainers {@code apache/kafka} container; otherwise an in-JVM KRaft broker. Both are
 * single-node, configured for transactions and {@code exactly_once_v2} (internal topics with
 * replication 1), no initial rebalance delay, no topic auto-creation. System properties:
 *
 * <ul>
 *   <li>{@value #MODE_PROPERTY} = {@code auto} (default) | {@code testcontainers} | {@code in-jvm}
 *   <li>{@value #IMAGE_PROPERTY} = the container image, default {@value #DEFAULT_IMAGE}
 * </ul>
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, ParameterResolver {

  /** System property choosing the broker: auto, testcontainers or in-jvm. */
  public static final String MODE_PROPERTY = "callvec.it.broker";
  /** System property naming the Kafka container image. */
  public static final String IMAGE_PROPERTY = "callvec.it.kafka.image";
  /** The default container image. */
  public static final String DEFAULT_IMAGE = "apache/kafka:4.4.0";

  private static final Logger LOG = LoggerFactory.getLogger(KafkaBrokerExtension.class);
  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(KafkaBrokerExtension.class);
  private static final String KEY = "broker";

  @Override
  public void beforeAll(ExtensionContext context) {
    broker(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == KafkaBroker.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    return broker(extensionContext);
  }

  private static KafkaBroker broker(ExtensionContext context) {
    Class<?> testClass = context.getRequiredTestClass();
    RealKafka.Scope scope = AnnotationSupport.findAnnotation(testClass, RealKafka.class)
        .map(RealKafka::scope).orElse(RealKafka.Scope.JVM);
    ExtensionContext owner = scope == RealKafka.Scope.JVM ? context.getRoot() : classContext(context);
    return owner.getStore(NAMESPACE).getOrComputeIfAbsent(KEY, k -> start(), StartedBroker.class);
  }

  private static ExtensionContext classContext(ExtensionContext context) {
    ExtensionContext c = context;
    while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
      c = c.getParent().get();
    }
    return c;
  }

  /** Which broker this JVM uses, from {@value #MODE_PROPERTY} and the Docker engine's presence. */
  public static KafkaBroker.Kind chosenKind() {
    String mode = System.getProperty(MODE_PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
    return switch (mode) {
      case "testcontainers" -> KafkaBroker.Kind.TESTCONTAINERS;
      case "in-jvm" -> KafkaBroker.Kind.IN_JVM;
      case "auto" -> DockerClientFactory.instance().isDockerAvailable() ? KafkaBroker.Kind.TESTCONTAINERS : KafkaBroker.Kind.IN_JVM;
      default -> throw new IllegalArgumentException(
          "-D" + MODE_PROPERTY + " must be auto, testcontainers or in-jvm, found '" + mode + "'");
    };
  }

  private static StartedBroker start() {
    KafkaBroker.Kind kind = chosenKind();
    long t0 = System.nanoTime();
    StartedBroker broker = kind == KafkaBroker.Kind.TESTCONTAINERS ? startContainer() : startInJvm();
    LOG.info("test broker ({}) ready at {} in {} ms", kind, broker.bootstrapServers(), (System.nanoTime() - t0) / 1_000_000);
    return broker;
  }

  private static StartedBroker startInJvm() {
    LocalKafkaCluster cluster = LocalKafkaCluster.builder().build();
    return new StartedBroker(KafkaBroker.Kind.IN_JVM, cluster.bootstrapServers(), cluster::close);
  }

  private static StartedBroker startContainer() {
    String image = System.getProperty(IMAGE_PROPERTY, DEFAULT_IMAGE);
    KafkaContainer container = new KafkaContainer(image)
        .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
        .withEnv("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", "1")
        .withEnv("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1")
        .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
        .withEnv("KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS", "1");
    container.start();
    return new StartedBroker(KafkaBroker.Kind.TESTCONTAINERS, container.getBootstrapServers(), container::stop);
  }

  /**
   * A started broker; closed by JUnit with the store that holds it.
   *
   * @param stopper stops the broker (the cluster's close, the container's stop)
   */
  record StartedBroker(KafkaBroker.Kind kind, String bootstrapServers, Runnable stopper) implements KafkaBroker, AutoCloseable {

    @Override
    public void createTopics(int partitions, String... topics) {
      List<NewTopic> list = new ArrayList<>();
      for (String t : topics) {
        list.add(new NewTopic(t, partitions, (short) 1));
      }
      createTopics(list);
    }

    @Override
    public void createTopics(Collection<NewTopic> topics) {
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers))) {
        LocalKafkaCluster.createTopics(admin, topics);
      }
    }

    @Override
    public void close() {
      LOG.info("stopping test broker ({}) at {}", kind, bootstrapServers);
      stopper.run();
    }

    @Override
    public String toString() {
      return "KafkaBroker[" + kind + ", " + bootstrapServers + "]";
    }
  }
}
