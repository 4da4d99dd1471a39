package io.callvec.schemas.serde;

import io.callvec.schemas.AvroTrust;
import io.callvec.schemas.SchemaHistory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A registry-free Kafka serde for a generated Avro record class, in Avro single-object encoding.
 *
 * <p>Wire format of each value: {@code C3 01} (2 header bytes), the 8-byte little-endian CRC-64-AVRO
 * fingerprint of the writer schema's parsing canonical form, then the Avro binary body. Writing
 * always uses the current schema of {@code T}. Reading accepts the current schema and every schema
 * in the record's {@link SchemaHistory} (plus any extra writer schemas given to {@link #of(Class,
 * Collection)}), resolved to the current schema by Avro's schema resolution rules.
 *
 * <p>Every decoding failure (null value, wrong header, unknown writer fingerprint, truncated or
 * corrupt body, trailing bytes) is a Kafka {@link SerializationException} that says what was
 * expected and what was found, so a Kafka Streams {@code DeserializationExceptionHandler} can log
 * the record or send it to a dead-letter topic. Encoding failures (e.g. a required field left
 * null) are {@link SerializationException}s too.
 *
 * <p>Null values: serializing {@code null} gives {@code null} (a tombstone; Kafka Streams stores
 * delete that way). Deserializing {@code null} fails unless the serde was made with {@link
 * #allowingNull()}: the callvec topics carry no tombstones.
 *
 * <p>Instances are immutable and thread-safe; {@link #configure} and {@link #close} do nothing.
 *
 * @param <T> the generated record class
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {

  /** Bytes before the Avro body: 2-byte header + 8-byte fingerprint. */
  public static final int PREFIX_BYTES = 10;

  private static final byte HEADER_0 = (byte) 0xC3;
  private static final byte HEADER_1 = (byte) 0x01;

  private final Class<T> type;
  private final Schema schema;
  private final List<Schema> readableWriterSchemas;
  private final SpecificData model;
  private final SchemaStore.Cache store = new SchemaStore.Cache();
  private final ConcurrentMap<Long, DatumReader<T>> readers = new ConcurrentHashMap<>();
  private final BinaryMessageEncoder<T> encoder;
  private final boolean nullAllowed;
  private final Serializer<T> serializer = new AvroSerializer();
  private final Deserializer<T> deserializer = new AvroDeserializer();

  private AvroSerde(Class<T> type, Schema schema, List<Schema> readable, boolean nullAllowed) {
    this.type = type;
    this.schema = schema;
    this.readableWriterSchemas = List.copyOf(readable);
    this.nullAllowed = nullAllowed;
    this.model = SpecificData.getForClass(type);
    this.encoder = new BinaryMessageEncoder<>(model, schema);
    for (Schema s : readable) {
      store.addSchema(s);
    }
  }

  /**
   * The resolving reader from writer schema {@code fp} to the current schema, made once per writer.
   * Decoding goes through an array-backed {@link BinaryDecoder} rather than {@code
   * BinaryMessageDecoder}'s stream: it rejects a length prefix larger than the message at once
   * (a 20-byte message claiming a 1 GiB string took 2.5 s through the stream) and tells whether
   * bytes trail the record.
   */
  private DatumReader<T> readerFor(long fp) {
    return readers.computeIfAbsent(fp, f -> new SpecificDatumReader<>(store.findByFingerprint(f), schema, model));
  }

  /**
   * The serde of {@code type}, reading its current schema and every version in its {@link
   * SchemaHistory}.
   *
   * @throws IllegalArgumentException if {@code type} is not a generated Avro record class
   */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
    return of(type, List.of());
  }

  /**
   * As {@link #of(Class)}, also reading records written with {@code extraWriterSchemas} (e.g. a
   * producer's schema that was never released here). Each must be resolvable to the current schema.
   *
   * @throws IllegalArgumentException if {@code type} is not a generated Avro record class, or an
   *     extra or history schema has another full name than the record or cannot be resolved to the
   *     current schema
   */
  public static <T extends SpecificRecord> AvroSerde<T> of(
      Class<T> type, Collection<Schema> extraWriterSchemas) {
    AvroTrust.install();
    Schema current = currentSchema(type);
    List<Schema> candidates = new ArrayList<>();
    candidates.add(current);
    candidates.addAll(SchemaHistory.versions(type.getSimpleName()));
    for (Schema s : extraWriterSchemas) {
      if (!s.getFullName().equals(current.getFullName())) {
        throw new IllegalArgumentException(
            "extra writer schema must be a version of " + current.getFullName() + ", found " + s.getFullName());
      }
      candidates.add(s);
    }
    // One entry per parsing canonical form (the current schema is normally also the newest history entry).
    Map<Long, Schema> unique = new LinkedHashMap<>();
    for (Schema s : candidates) {
      SchemaCompatibility.SchemaPairCompatibility c = SchemaCompatibility.checkReaderWriterCompatibility(current, s);
      if (c.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
        throw new IllegalArgumentException(String.format(
            "writer schema 0x%016X of %s cannot be read with the current schema: %s",
            SchemaHistory.fingerprint(s), current.getFullName(), c.getDescription()));
      }
      unique.putIfAbsent(SchemaHistory.fingerprint(s), s);
    }
    return new AvroSerde<>(type, current, new ArrayList<>(unique.values()), false);
  }

  /** The same serde, except that deserializing {@code null} bytes gives {@code null}. */
  public AvroSerde<T> allowingNull() {
    return nullAllowed ? this : new AvroSerde<>(type, schema, readableWriterSchemas, true);
  }

  /** The record class. */
  public Class<T> type() {
    return type;
  }

  /** The current (writer and reader) schema. */
  public Schema schema() {
    return schema;
  }

  /** The writer schemas this serde can read: the current schema first, then history and extras. */
  public List<Schema> readableWriterSchemas() {
    return readableWriterSchemas;
  }

  /**
   * Encodes {@code record} with the current schema.
   *
   * @throws SerializationException if the record cannot be encoded (e.g. a required field is null)
   */
  public byte[] encode(T record) {
    return serializer.serialize(null, record);
  }

  /**
   * Decodes one single-object message.
   *
   * @throws SerializationException on any decoding failure, see the class comment
   */
  public T decode(byte[] data) {
    return deserializer.deserialize(null, data);
  }

  @Override
  public Serializer<T> serializer() {
    return serializer;
  }

  @Override
  public Deserializer<T> deserializer() {
    return deserializer;
  }

  /**
   * The writer-schema fingerprint of a single-object message, without decoding it.
   *
   * @throws SerializationException if {@code data} has no single-object prefix
   */
  public static long writerFingerprint(byte[] data) {
    checkPrefix(data, "message", null);
    long fp = 0;
    for (int i = PREFIX_BYTES - 1; i >= 2; i--) {
      fp = (fp << 8) | (data[i] & 0xFF);
    }
    return fp;
  }

  private static Schema currentSchema(Class<?> type) {
    Schema s;
    try {
      s = SpecificData.get().getSchema(type);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a generated Avro record class: " + type.getName(), e);
    }
    if (s.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException(
          "not a generated Avro record class: " + type.getName() + " (schema type " + s.getType() + ")");
    }
    return s;
  }

  private static void checkPrefix(byte[] data, String what, String topic) {
    if (data.length < PREFIX_BYTES) {
      throw new SerializationException(
          "truncated " + what + where(topic) + ": " + data.length + " bytes, an Avro single-object message has at least "
              + PREFIX_BYTES + " (header C3 01 + 8-byte schema fingerprint) before the body");
    }
    if (data[0] != HEADER_0 || data[1] != HEADER_1) {
      String hint = data[0] == 0
          ? " (first byte 0x00 looks like the Confluent Schema Registry wire format, magic byte + 4-byte schema id;"
              + " callvec uses registry-free Avro single-object encoding)"
          : "";
      throw new SerializationException(
          "bad header in " + what + where(topic) + ": found " + hex(data, 0, 2)
              + ", expected C3 01 (Avro single-object encoding)" + hint);
    }
  }

  private static String where(String topic) {
    return topic == null ? "" : " on topic " + topic;
  }

  private static String hex(byte[] data, int from, int to) {
    return HexFormat.ofDelimiter(" ").withUpperCase().formatHex(data, from, Math.min(to, data.length));
  }

  private final class AvroSerializer implements Serializer<T> {
    @Override
    public byte[] serialize(String topic, T data) {
      if (data == null) {
        return null;
      }
      if (!type.isInstance(data)) {
        throw new SerializationException(
            "cannot encode " + data.getClass().getName() + where(topic) + ": expected " + type.getName());
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream(256);
      try {
        encoder.encode(data, out);
      } catch (IOException | RuntimeException e) {
        throw new SerializationException(
            "cannot encode " + type.getSimpleName() + where(topic) + " with schema "
                + String.format("0x%016X", SchemaHistory.fingerprint(schema)) + ": " + e.getMessage(), e);
      }
      return out.toByteArray();
    }
  }

  private final class AvroDeserializer implements Deserializer<T> {
    @Override
    public T deserialize(String topic, byte[] data) {
      if (data == null) {
        if (nullAllowed) {
          return null;
        }
        throw new SerializationException(
            "null value" + where(topic) + ": expected an Avro single-object encoded " + type.getSimpleName()
                + " (tombstones are not valid here)");
      }
      checkPrefix(data, type.getSimpleName(), topic);
      long fp = writerFingerprint(data);
      if (store.findByFingerprint(fp) == null) {
        throw new SerializationException(String.format(
            "unknown writer schema fingerprint 0x%016X for %s%s; known: %s. If a producer uses a newer schema, "
                + "add it to %s%s-v<N>.avsc",
            fp, type.getSimpleName(), where(topic), knownFingerprints(), SchemaHistory.RESOURCE_DIR, type.getSimpleName()));
      }
      DatumReader<T> reader = readerFor(fp);
      BinaryDecoder body = DecoderFactory.get().binaryDecoder(data, PREFIX_BYTES, data.length - PREFIX_BYTES, null);
      T record;
      boolean atEnd;
      try {
        record = reader.read(null, body);
        atEnd = body.isEnd();
      } catch (SecurityException e) {
        throw new SerializationException(
            "Avro refused to instantiate " + type.getName() + where(topic) + " (" + e.getMessage()
                + "); call io.callvec.schemas.AvroTrust.install() or start the JVM with -D"
                + AvroTrust.SERIALIZABLE_PACKAGES_PROPERTY + "=" + AvroTrust.TRUSTED_PACKAGE, e);
      } catch (IOException | RuntimeException e) {
        throw new SerializationException(
            "corrupt or truncated " + type.getSimpleName() + where(topic) + " (" + data.length
                + " bytes, writer schema " + String.format("0x%016X", fp) + "): " + e, e);
      }
      if (!atEnd) {
        throw new SerializationException(
            "corrupt " + type.getSimpleName() + where(topic) + ": trailing bytes after the record ("
                + data.length + " bytes, writer schema " + String.format("0x%016X", fp) + ")");
      }
      return record;
    }
  }

  private String knownFingerprints() {
    return readableWriterSchemas.stream()
        .map(SchemaHistory::fingerprint)
        .map(f -> String.format("0x%016X", f))
        .collect(Collectors.joining(", ", "[", "]"));
  }

  @Override
  public String toString() {
    return "AvroSerde[" + type.getSimpleName() + ", " + readableWriterSchemas.size() + " readable writer schemas"
        + (nullAllowed ? ", null allowed" : "") + "]";
  }
}
