package io.callvec.it;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives the annotated test class a real Kafka broker: declare a {@link KafkaBroker} parameter on a
 * test method, lifecycle method or constructor.
 *
 * <p>The broker is a Testcontainers {@code apache/kafka} container where a Docker engine is
 * reachable, otherwise an in-JVM KRaft broker ({@link io.callvec.broker.LocalKafkaCluster}); see
 * {@link KafkaBrokerExtension} for the system properties that force one. Brokers are shared (see
 * {@link #scope()}), so tests must use their own topic names, transactional ids and group ids.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(KafkaBrokerExtension.class)
public @interface RealKafka {

  /** How widely the broker is shared. */
  enum Scope {
    /** One broker for every test class of the JVM (the default): started once, stopped at the end. */
    JVM,
    /** A broker of this test class alone, stopped after its last test. */
    CLASS
  }

  /** How widely the broker is shared; default {@link Scope#JVM}. */
  Scope scope() default Scope.JVM;
}
