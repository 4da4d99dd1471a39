package io.callvec.app;

import io.callvec.model.batch.EngineHealth;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The verdicts of {@code /health/live} and {@code /health/ready}, from Kafka Streams' state and the
 * micro-batcher's {@link EngineHealth}.
 *
 * <ul>
 *   <li>Live: Kafka Streams is not in (or entering) ERROR, and the batcher is live (not shut down,
 *       every worker thread alive). A dead worker is never replaced, so a failed liveness probe asks
 *       for a restart.
 *   <li>Ready: Kafka Streams is RUNNING and the batcher is ready (live, and the model is not in an
 *       outage: the probe window failed too).
 * </ul>
 */
public final class HealthProbes {
  private HealthProbes() {}

  /** The liveness verdict. */
  public static boolean live(KafkaStreams.State streams, EngineHealth engine) {
    return streams != KafkaStreams.State.ERROR && streams != KafkaStreams.State.PENDING_ERROR && engine.isLive();
  }

  /** The readiness verdict. */
  public static boolean ready(KafkaStreams.State streams, EngineHealth engine) {
    return streams == KafkaStreams.State.RUNNING && engine.isReady();
  }
}
