package io.callvec.schemas.registry;

import io.callvec.schemas.AvroTrust;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A Kafka serde for a generated Avro record class in the Confluent Schema Registry wire format
 * ({@link ConfluentFraming}: {@code 00}, 4-byte big-endian schema id, Avro binary).
 *
 * <p><b>Writing</b> uses the class's current schema under the TopicNameStrategy subject {@code
 * <topic>-value} ({@code <topic>-key} for a key serde): registered on first use when {@code
 * auto.register.schemas=true} (the default), else looked up, failing with {@link
 * RegistryRequestException} if it is not registered. The id is cached per subject, so after the
 * first record of a topic the registry is not called again.
 *
 * <p><b>Reading</b> takes the writer schema by id from the registry (cached) and resolves it to the
 * class's current schema with Avro's resolution rules, so producers on an older or newer
 * compatible schema are read. Errors, all {@link SerializationException}s so that a {@code
 * DeserializationExceptionHandler} sees them:
 *
 * <ul>
 *   <li>{@link WrongMagicByteException}: not Confluent-framed (bad data);
 *   <li>{@link UnknownSchemaIdException}: the registry does not know the id (bad data);
 *   <li>{@link RegistryUnavailableException}: no registry answered within the retry budget
 *       (retryable: do not dead-letter);
 *   <li>a plain {@link SerializationException}: writer schema not readable as the record, another
 *       record name, corrupt or truncated body, trailing bytes, null value (bad data).
 * </ul>
 *
 * <p>Null: serializing {@code null} gives {@code null}; deserializing {@code null} fails unless the
 * serde was made with {@link #allowingNull()}. Thread-safe; {@link #configure} and {@link #close}
 * do nothing (the client is shared and has no resources to release).
 *
 * @param <T> the generated record class
 */
public final class ConfluentAvroSerde<T extends SpecificRecord> implements Serde<T> {

  private final Class<T> type;
  private final Schema schema;
  private final SpecificData model;
  private final RegistryClient client;
  private final boolean isKey;
  private final boolean nullAllowed;
  private final ConcurrentMap<String, Integer> idBySubject = new ConcurrentHashMap<>();
  private final ConcurrentMap<Integer, DatumReader<T>> readers = new ConcurrentHashMap<>();
  private final SpecificDatumWriter<T> writer;
  private final Serializer<T> serializer = new Writer();
  private final Deserializer<T> deserializer = new Reader();

  private ConfluentAvroSerde(Class<T> type, RegistryClient client, boolean isKey, boolean nullAllowed) {
    AvroTrust.install();
    this.type = type;
    this.model = SpecificData.getForClass(type);
    this.schema = model.getSchema(type);
    if (schema.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException("not a generated Avro record class: " + type.getName());
    }
    this.client = client;
    this.isKey = isKey;
    this.nullAllowed = nullAllowed;
    this.writer = new SpecificDatumWriter<>(schema, model);
  }

  /** The value serde of {@code type} on the registry of {@code client}. */
  public static <T extends SpecificRecord> ConfluentAvroSerde<T> of(Class<T> type, RegistryClient client) {
    return new ConfluentAvroSerde<>(type, client, false, false);
  }

  /** As {@link #of(Class, RegistryClient)}, with a new client for the keys in {@code config}. */
  public static <T extends SpecificRecord> ConfluentAvroSerde<T> of(Class<T> type, Map<String, ?> config) {
    return of(type, RegistryClient.fromConfig(config));
  }

  /** The same serde, except that deserializing {@code null} gives {@code null}. */
  public ConfluentAvroSerde<T> allowingNull() {
    return new ConfluentAvroSerde<>(type, client, isKey, true);
  }

  /** The TopicNameStrategy subject of {@code topic}: {@code <topic>-value} (or {@code -key}). */
  public String subject(String topic) {
    return topic + (isKey ? "-key" : "-value");
  }

  /** The writer and reader schema: the class's current schema. */
  public Schema schema() {
    return schema;
  }

  public RegistryClient client() {
    return client;
  }

  /**
   * The id this serde writes with on {@code topic}: registers or looks up the schema (see the
   * class comment). Calling it at start fails fast on a missing registry or a refused schema.
   */
  public int schemaIdFor(String topic) {
    String subject = subject(topic);
    Integer id = idBySubject.get(subject);
    if (id != null) {
      return id;
    }
    int found;
    if (client.config().autoRegister()) {
      found = client.register(subject, schema);
    } else {
      found = client.lookup(subject, schema).orElseThrow(() -> new RegistryRequestException(404, 40403,
          "schema of " + type.getSimpleName() + " is not registered under subject " + subject + " and "
              + RegistryConfig.AUTO_REGISTER + "=false: register it first (e.g. callvec topics --register)"));
    }
    idBySubject.put(subject, found);
    return found;
  }

  @Override
  public Serializer<T> serializer() {
    return serializer;
  }

  @Override
  public Deserializer<T> deserializer() {
    return deserializer;
  }

  private DatumReader<T> readerFor(int id, String what) {
    DatumReader<T> r = readers.get(id);
    if (r != null) {
      return r;
    }
    Schema writerSchema = client.schemaById(id);
    if (!writerSchema.getFullName().equals(schema.getFullName())) {
      throw new SerializationException("schema id " + id + " in " + what + " is a " + writerSchema.getFullName()
          + ", expected " + schema.getFullName());
    }
    SchemaCompatibility.SchemaPairCompatibility c = SchemaCompatibility.checkReaderWriterCompatibility(schema, writerSchema);
    if (c.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      throw new SerializationException("writer schema id " + id + " in " + what + " cannot be read as the current "
          + schema.getFullName() + ": " + c.getDescription());
    }
    DatumReader<T> made = new SpecificDatumReader<>(writerSchema, schema, model);
    DatumReader<T> prev = readers.putIfAbsent(id, made);
    return prev == null ? made : prev;
  }

  private final class Writer implements Serializer<T> {
    @Override
    public byte[] serialize(String topic, T data) {
      if (data == null) {
        return null;
      }
      if (!type.isInstance(data)) {
        throw new SerializationException("cannot encode " + data.getClass().getName() + " on topic " + topic + ": expected " + type.getName());
      }
      int id = schemaIdFor(topic);
      ByteArrayOutputStream out = new ByteArrayOutputStream(256);
      out.write(ConfluentFraming.MAGIC);
      out.write(id >>> 24);
      out.write(id >>> 16);
      out.write(id >>> 8);
      out.write(id);
      try {
        BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
        writer.write(data, enc);
        enc.flush();
      } catch (IOException | RuntimeException e) {
        throw new SerializationException("cannot encode " + type.getSimpleName() + " on topic " + topic + " with schema id " + id
            + ": " + e.getMessage(), e);
      }
      return out.toByteArray();
    }
  }

  private final class Reader implements Deserializer<T> {
    @Override
    public T deserialize(String topic, byte[] data) {
      String what = type.getSimpleName() + " on topic " + topic;
      if (data == null) {
        if (nullAllowed) {
          return null;
        }
        throw new SerializationException("null value for " + what + ": expected a Confluent-framed Avro record (tombstones are not valid here)");
      }
      int id = ConfluentFraming.schemaId(data, what);
      DatumReader<T> reader = readerFor(id, what);
      BinaryDecoder body = DecoderFactory.get().binaryDecoder(data, ConfluentFraming.HEADER_BYTES,
          data.length - ConfluentFraming.HEADER_BYTES, null);
      T record;
      boolean atEnd;
      try {
        record = reader.read(null, body);
        atEnd = body.isEnd();
      } catch (IOException | RuntimeException e) {
        throw new SerializationException("corrupt or truncated " + what + " (" + data.length + " bytes, schema id " + id + "): " + e, e);
      }
      if (!atEnd) {
        throw new SerializationException("corrupt " + what + ": trailing bytes after the record (" + data.length + " bytes, schema id " + id + ")");
      }
      return record;
    }
  }

  @Override
  public String toString() {
    return "ConfluentAvroSerde[" + type.getSimpleName() + ", " + client.config() + (nullAllowed ? ", null allowed" : "") + "]";
  }
}
