package io.callvec.broker;

/** A local Kafka broker could not be formatted, started, reached or stopped. */
public class LocalKafkaException extends RuntimeException {

  public LocalKafkaException(String message) {
    super(message);
  }

  public LocalKafkaException(String message, Throwable cause) {
    super(message, cause);
  }
}
