package io.callvec.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The demo's default model on the class path is the committed no-mask fixture. */
class BundledFixtureTest {
  @Test
  void bundledModelIsTheFixtureAndLoadsFromTheClassPath() throws Exception {
    byte[] bundled = Fixtures.readResource(EmbeddingModel.BUNDLED_FIXTURE_RESOURCE);
    assertArrayEquals(Files.readAllBytes(Fixtures.model(Fixtures.NO_MASK)), bundled);
    ModelOptions o = ModelOptions.builder().provider(ExecutionProvider.cpu()).build();
    try (EmbeddingModel m = EmbeddingModel.loadBundledFixture(o);
        EmbeddingModel f = EmbeddingModel.load(Fixtures.model(Fixtures.NO_MASK), o)) {
      assertEquals("callvec/wav2vec2-tiny-random", m.info().modelId());
      assertEquals(f.info().contentSha256(), m.info().contentSha256());
      assertTrue(m.info().source().startsWith("classpath:"));
      float[] w = Fixtures.signal(5, 16_000);
      assertArrayEquals(f.embed(w), m.embed(w));
    }
  }
}
