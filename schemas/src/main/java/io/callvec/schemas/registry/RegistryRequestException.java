package io.callvec.schemas.registry;

import org.apache.kafka.common.errors.SerializationException;

/**
 * The registry answered a request with an error that retrying will not fix: HTTP 4xx such as 401
 * (credentials), 409 (incompatible schema), 422 (invalid schema) or 404 for a subject or schema
 * that is not registered. {@link #status()} is the HTTP status, {@link #errorCode()} the
 * registry's {@code error_code} (e.g. 40401 subject not found, 40403 schema not found; -1 if
 * absent).
 */
public final class RegistryRequestException extends SerializationException {
  private final int status;
  private final int errorCode;

  public RegistryRequestException(int status, int errorCode, String message) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }

  /** HTTP status. */
  public int status() {
    return status;
  }

  /** The registry's {@code error_code}, or -1. */
  public int errorCode() {
    return errorCode;
  }

  /** True for 404 answers (subject, version or schema not found). */
  public boolean isNotFound() {
    return status == 404;
  }
}
