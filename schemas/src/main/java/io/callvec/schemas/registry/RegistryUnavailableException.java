package io.callvec.schemas.registry;

import org.apache.kafka.common.errors.SerializationException;

/**
 * No registry URL answered (connection refused, timeout, HTTP 5xx) within the retry budget
 * ({@code callvec.registry.retry.max.ms}). Retryable: the record itself is fine, so it must not be
 * dead-lettered; stop and retry later instead.
 */
public final class RegistryUnavailableException extends SerializationException {
  public RegistryUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  /** True if {@code t} or one of its causes is a {@link RegistryUnavailableException}. */
  public static boolean isCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof RegistryUnavailableException) {
        return true;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }
}
