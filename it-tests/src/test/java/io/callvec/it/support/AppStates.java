package io.callvec.it.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.callvec.app.CallvecApp;
import java.time.Duration;
import org.apache.kafka.streams.KafkaStreams;

/** Waits on the Kafka Streams state of an app started in this JVM. */
public final class AppStates {
  /** Longest wait for RUNNING: the first rebalance of a fresh group on a loaded 2-core machine. */
  private static final Duration RUNNING_TIMEOUT = Duration.ofSeconds(60);

  private AppStates() {}

  /**
   * Polls (every 50 ms) until {@code app}'s streams are RUNNING, for at most 60 s; then asserts that
   * they are, with {@code message}.
   */
  public static void awaitRunning(CallvecApp app, String message) throws InterruptedException {
    long deadline = System.nanoTime() + RUNNING_TIMEOUT.toNanos();
    while (app.streams().state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals(KafkaStreams.State.RUNNING, app.streams().state(), message);
  }
}
