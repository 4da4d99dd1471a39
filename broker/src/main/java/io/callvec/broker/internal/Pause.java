package io.callvec.broker.internal;

import io.callvec.broker.LocalKafkaException;

/** The pause between two checks of a wait loop (a broker or a registry coming up). */
public final class Pause {

  private Pause() {}

  /**
   * Sleeps {@code ms} milliseconds. An interrupt ends the wait: the thread's interrupt flag is set
   * again and a {@link LocalKafkaException} says "interrupted while waiting for {@code waitingFor}".
   */
  public static void ms(long ms, String waitingFor) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LocalKafkaException("interrupted while waiting for " + waitingFor, e);
    }
  }
}
