package io.callvec.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Guards the evolution rules of schemas/README.md. */
class SchemaHistoryTest {

  private static Schema current(String name) throws ClassNotFoundException {
    return org.apache.avro.specific.SpecificData.get().getSchema(Class.forName("io.callvec.schemas." + name));
  }

  @ParameterizedTest
  @ValueSource(strings = {"AudioChunk", "SegmentEmbedding", "CallEmbedding"})
  void newestHistoryEntryIsTheCurrentSchema(String name) throws Exception {
    List<Schema> versions = SchemaHistory.versions(name);
    assertFalse(versions.isEmpty(), "no history for " + name + " under " + SchemaHistory.RESOURCE_DIR);
    Schema newest = versions.get(versions.size() - 1);
    assertEquals(
        SchemaNormalization.toParsingForm(current(name)),
        SchemaNormalization.toParsingForm(newest),
        name + " changed: add its new full schema as " + SchemaHistory.resourcePath(name, versions.size() + 1));
    // Defaults are not part of the parsing form but matter for resolution: compare them too.
    for (Schema.Field f : current(name).getFields()) {
      Schema.Field old = newest.getField(f.name());
      assertEquals(String.valueOf(f.defaultVal()), String.valueOf(old.defaultVal()), name + "." + f.name() + " default");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"AudioChunk", "SegmentEmbedding", "CallEmbedding"})
  void everyVersionIsReadableWithTheCurrentSchemaAndHasNoGaps(String name) throws Exception {
    List<Schema> versions = SchemaHistory.versions(name);
    for (int i = 0; i < versions.size(); i++) {
      Schema writer = versions.get(i);
      assertEquals("io.callvec.schemas." + name, writer.getFullName());
      SchemaCompatibility.SchemaPairCompatibility c =
          SchemaCompatibility.checkReaderWriterCompatibility(current(name), writer);
      assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE, c.getType(),
          name + " v" + (i + 1) + ": " + c.getDescription());
    }
    assertNull(SchemaHistory.class.getClassLoader().getResource(SchemaHistory.resourcePath(name, versions.size() + 2)),
        "gap in the history of " + name);
  }

  @ParameterizedTest
  @ValueSource(strings = {"AudioChunk", "SegmentEmbedding", "CallEmbedding"})
  void everyFieldIsDocumented(String name) throws Exception {
    for (Schema.Field f : current(name).getFields()) {
      assertFalse(f.doc() == null || f.doc().isBlank(), name + "." + f.name() + " has no doc");
    }
  }
}
