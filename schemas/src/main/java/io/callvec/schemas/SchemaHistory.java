package io.callvec.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/**
 * Every released version of a record schema, kept as classpath resources so that records written
 * by older producers still decode.
 *
 * <p>Layout: {@code io/callvec/schemas/history/<Name>-v<N>.avsc}, N = 1, 2, ... without gaps, each a
 * self-contained schema (all named types inlined). When a schema in {@code src/main/avro} changes,
 * its new full form is added as the next version; old versions are never edited or removed. A test
 * checks that the current schema of every record equals its newest history entry.
 */
public final class SchemaHistory {

  /** Classpath folder of the history files. */
  public static final String RESOURCE_DIR = "io/callvec/schemas/history/";

  private SchemaHistory() {}

  /**
   * The released versions of {@code recordName} (simple name, e.g. {@code "AudioChunk"}), oldest
   * first; empty when there are none.
   *
   * @throws UncheckedIOException if a history file cannot be read
   * @throws org.apache.avro.SchemaParseException if a history file is not a valid schema
   */
  public static List<Schema> versions(String recordName) {
    List<Schema> out = new ArrayList<>();
    ClassLoader loader = SchemaHistory.class.getClassLoader();
    for (int v = 1; ; v++) {
      String path = resourcePath(recordName, v);
      try (InputStream in = loader.getResourceAsStream(path)) {
        if (in == null) {
          return out;
        }
        out.add(new Schema.Parser().parse(in));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read schema history resource " + path, e);
      }
    }
  }

  /** The resource path of version {@code version} (>= 1) of {@code recordName}. */
  public static String resourcePath(String recordName, int version) {
    return RESOURCE_DIR + recordName + "-v" + version + ".avsc";
  }

  /**
   * The 64-bit Rabin fingerprint of the parsing canonical form of {@code schema}: the 8 bytes an
   * Avro single-object message carries after its {@code C3 01} header (there little-endian).
   */
  public static long fingerprint(Schema schema) {
    return SchemaNormalization.parsingFingerprint64(schema);
  }
}
