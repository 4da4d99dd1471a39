package io.callvec.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * A window's embedding must not depend on the other windows of its batch: full windows, short
 * final windows and the shortest legal window, alone vs inside mixed and equal-length batches.
 */
class BatchInvarianceTest {
  private static final double MIN_COSINE = 0.99999;
  private static final int FULL = 16_000;
  /** Full windows, short final windows (not multiples of the stride), the 400-sample minimum. */
  private static final int[] LENGTHS = {FULL, 7013, FULL, 400, 12_345, FULL, 719, FULL};

  private static List<float[]> windows() {
    List<float[]> ws = new ArrayList<>();
    for (int i = 0; i < LENGTHS.length; i++) {
      ws.add(Fixtures.signal(100 + i, LENGTHS[i]));
    }
    return ws;
  }

  private static EmbeddingModel load(String variant) throws ModelLoadException {
    return EmbeddingModel.load(
        Fixtures.model(variant),
        ModelOptions.builder()
            .provider(ExecutionProvider.cpu())
            .intraOpThreads(2)
            .pooling(Pooling.MEAN_STD)
            .build());
  }

  @ParameterizedTest
  @ValueSource(strings = {Fixtures.NO_MASK, Fixtures.MASK})
  void windowAloneEqualsWindowInMixedBatch(String variant) throws Exception {
    try (EmbeddingModel m = load(variant)) {
      List<float[]> ws = windows();
      float[][] batch = m.embedBatch(ws);
      assertEquals(ws.size(), batch.length);
      double worst = 1;
      for (int i = 0; i < ws.size(); i++) {
        float[] alone = m.embed(ws.get(i));
        assertEquals(m.dimension(), batch[i].length);
        double cos = Similarity.cosine(alone, batch[i]);
        worst = Math.min(worst, cos);
        assertTrue(cos >= MIN_COSINE,
            variant + " window " + i + " (" + LENGTHS[i] + " samples): cosine " + cos);
      }
      // Reversed order: still each window's own vector, in the caller's order.
      List<float[]> reversed = new ArrayList<>(ws);
      java.util.Collections.reverse(reversed);
      float[][] rev = m.embedBatch(reversed);
      for (int i = 0; i < ws.size(); i++) {
        assertTrue(Similarity.cosine(batch[i], rev[ws.size() - 1 - i]) >= MIN_COSINE);
      }
      LoggerFactory.getLogger(BatchInvarianceTest.class).info(
          "batch invariance {}: worst cosine alone vs mixed batch 1 - {}", variant,
          String.format("%.2e", 1 - worst));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {Fixtures.NO_MASK, Fixtures.MASK})
  void paddedFramesAreExcludedFromTheShortWindow(String variant) throws Exception {
    try (EmbeddingModel m = load(variant)) {
      float[] shortWindow = Fixtures.signal(7, 5_000);
      float[][][] mixed = m.frameFeatures(List.of(Fixtures.signal(8, FULL), shortWindow));
      float[][] alone = m.frameFeatures(List.of(shortWindow))[0];
      assertEquals((5_000 - 400) / 320 + 1, mixed[1].length);
      assertEquals(alone.length, mixed[1].length);
      double err = Fixtures.maxAbsDiff(Fixtures.flatten(alone), Fixtures.flatten(mixed[1]));
      double scale = Fixtures.maxAbs(Fixtures.flatten(alone));
      assertTrue(err <= 1e-4 * scale, variant + ": frame error " + err + " at scale " + scale);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {Fixtures.NO_MASK, Fixtures.MASK})
  void equalLengthBatchesAreInvariantToBatchSize(String variant) throws Exception {
    try (EmbeddingModel m = load(variant)) {
      List<float[]> ws = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        ws.add(Fixtures.signal(40 + i, FULL));
      }
      float[][] five = m.embedBatch(ws);
      float[][] two = m.embedBatch(ws.subList(3, 5));
      for (int i = 0; i < 2; i++) {
        assertTrue(Similarity.cosine(five[3 + i], two[i]) >= MIN_COSINE);
      }
      // Different windows give different vectors (the comparison above is not vacuous).
      assertTrue(Similarity.cosine(five[0], five[1]) < 0.9999);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {Fixtures.NO_MASK, Fixtures.MASK})
  void inputArraysAreNotModified(String variant) throws Exception {
    try (EmbeddingModel m = load(variant)) {
      float[] w = Fixtures.signal(3, 9_000);
      float[] copy = w.clone();
      m.embedBatch(List.of(w, Fixtures.signal(4, FULL)));
      assertArrayEquals(copy, w);
    }
  }
}
