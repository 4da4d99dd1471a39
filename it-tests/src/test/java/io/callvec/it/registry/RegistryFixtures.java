package io.callvec.it.registry;

import io.callvec.schemas.registry.ConfluentFraming;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;

/** Test schemas, client settings and framed records for the registry tests (the records themselves: schemas' test Fixtures). */
final class RegistryFixtures {
  private RegistryFixtures() {}

  /** The test-only AudioChunk schemas of the schemas module (v0, future, incompatible). */
  static Schema testSchema(String file) {
    Path p = Path.of("../schemas/src/test/resources/io/callvec/schemas/testschemas", file);
    try {
      return new Schema.Parser().parse(Files.readString(p));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read test schema " + p.toAbsolutePath() + " (tests run from it-tests/)", e);
    }
  }

  /** Client settings for {@code url}, with a short retry budget. */
  static Map<String, Object> clientConfig(String url, long retryMaxMs) {
    Map<String, Object> c = new HashMap<>();
    c.put("schema.registry.url", url);
    c.put("callvec.registry.retry.max.ms", Long.toString(retryMaxMs));
    c.put("callvec.registry.retry.backoff.ms", "50");
    c.put("callvec.registry.retry.backoff.max.ms", "500");
    c.put("callvec.registry.request.timeout.ms", "2000");
    return c;
  }

  /** A generic record written with {@code writer} and framed with {@code id}: what another producer sends. */
  static byte[] framed(int id, Schema writer, GenericRecord record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
      new GenericDatumWriter<GenericRecord>(writer).write(record, enc);
      enc.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] body = out.toByteArray();
    return ConfluentFraming.frame(id, body, body.length);
  }
}
