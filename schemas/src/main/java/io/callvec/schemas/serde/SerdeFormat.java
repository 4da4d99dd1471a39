package io.callvec.schemas.serde;

import java.util.Locale;
import org.apache.kafka.common.config.ConfigException;

/** The wire format of the callvec topics, chosen with {@value #KEY}. */
public enum SerdeFormat {
  /** Avro single-object encoding ({@code C3 01} + fingerprint), no registry: the default. */
  SINGLE_OBJECT("single-object"),
  /** Confluent Schema Registry framing ({@code 00} + 4-byte schema id), needs {@code schema.registry.url}. */
  CONFLUENT("confluent");

  /** The configuration key. */
  public static final String KEY = "callvec.serde";

  private final String spelling;

  SerdeFormat(String spelling) {
    this.spelling = spelling;
  }

  /** How the format is written in the configuration. */
  public String spelling() {
    return spelling;
  }

  /**
   * The format spelled {@code value} ({@code single-object} or {@code confluent}, case-insensitive).
   *
   * @throws ConfigException naming {@value #KEY} for anything else
   */
  public static SerdeFormat parse(String value) {
    String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
    for (SerdeFormat f : values()) {
      if (f.spelling.equals(v)) {
        return f;
      }
    }
    throw new ConfigException(KEY, value, "expected single-object or confluent");
  }
}
