package io.callvec.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import io.callvec.model.internal.Sha256;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Loading: metadata, defaults, and clear errors for every kind of unusable model. */
class ModelLoadTest {
  private static final ModelOptions CPU =
      ModelOptions.builder().provider(ExecutionProvider.cpu()).intraOpThreads(1).build();

  @TempDir Path tmp;

  private static ModelLoadException fails(Path file) {
    return assertThrows(ModelLoadException.class, () -> EmbeddingModel.load(file, CPU).close());
  }

  private static void assertMessage(ModelLoadException e, String... parts) {
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p),
          "message should contain '" + p + "': " + e.getMessage());
    }
  }

  @Test
  void metadataBecomesModelInfo() throws Exception {
    try (EmbeddingModel m = EmbeddingModel.load(Fixtures.model(Fixtures.MASK), CPU)) {
      ModelInfo i = m.info();
      assertEquals("callvec/wav2vec2-tiny-random", i.modelId());
      assertEquals("seed-1234", i.revision());
      assertEquals(64, i.contentSha256().length());
      assertEquals(32, i.hiddenSize());
      assertEquals(32, i.dimension());
      assertEquals(16_000, i.sampleRateHz());
      assertEquals(320, i.frameStrideSamples());
      assertEquals(400, i.receptiveFieldSamples());
      assertTrue(i.inputNormalized());
      assertTrue(i.attentionMask());
      assertTrue(i.metadataComplete());
      assertEquals("cpu", i.provider());
      assertEquals(Pooling.MEAN, i.pooling());
      assertEquals("last_hidden_state", i.outputName());
      assertTrue(i.source().endsWith(Fixtures.MASK));
    }
  }

  @Test
  void missingMetadataUsesDocumentedDefaultsAndHashesTheFile() throws Exception {
    Path file = Fixtures.bad("no-metadata.onnx");
    try (EmbeddingModel m = EmbeddingModel.load(file, CPU)) {
      ModelInfo i = m.info();
      assertFalse(i.metadataComplete());
      assertEquals("no-metadata.onnx", i.modelId());
      assertEquals("unknown", i.revision());
      assertEquals(Sha256.of(file), i.contentSha256());
      assertEquals(4, i.hiddenSize()); // from the graph's output shape
      assertEquals(320, i.frameStrideSamples());
      assertEquals(400, i.receptiveFieldSamples());
      assertTrue(i.inputNormalized());
      assertFalse(i.attentionMask());
      float[] v = m.embed(Fixtures.signal(1, 16_000));
      assertEquals(4, v.length);
      assertTrue(Fixtures.maxAbs(v) > 0);
    }
  }

  @Test
  void missingFile() {
    ModelLoadException e = fails(tmp.resolve("absent.onnx"));
    assertMessage(e, "model file not found", "absent.onnx", "export.py");
  }

  @Test
  void directoryInsteadOfFile() {
    assertMessage(fails(tmp), "not a readable file");
  }

  @Test
  void notAnOnnxFile() throws Exception {
    Path f = Files.writeString(tmp.resolve("notes.onnx"), "this is a text file, not a model\n",
        StandardCharsets.UTF_8);
    assertMessage(fails(f), "notes.onnx", "could not create a session", "valid ONNX model");
  }

  @Test
  void emptyFile() throws Exception {
    Path f = Files.createFile(tmp.resolve("empty.onnx"));
    assertMessage(fails(f), "empty.onnx", "0 bytes");
  }

  @Test
  void truncatedFile() throws Exception {
    byte[] full = Files.readAllBytes(Fixtures.model(Fixtures.NO_MASK));
    Path f = Files.write(tmp.resolve("truncated.onnx"), Arrays.copyOf(full, full.length / 2));
    assertMessage(fails(f), "truncated.onnx", "could not create a session",
        (full.length / 2) + " bytes");
  }

  @Test
  void unknownOutputRequestedByOptions() {
    ModelOptions o = CPU.toBuilder().outputName("hidden_states_7").build();
    ModelLoadException e = assertThrows(ModelLoadException.class,
        () -> EmbeddingModel.load(Fixtures.model(Fixtures.MASK), o));
    assertMessage(e, "'hidden_states_7'", "'last_hidden_state'", "'hidden_states_1'");
  }

  /** Bad fixture models (model/src/test/resources) and what their load error must say. */
  static Stream<Arguments> badModels() {
    return Stream.of(
        Arguments.of("wrong-input-name.onnx",
            List.of("expected a float32 input 'input_values'", "found inputs", "'audio' float32")),
        Arguments.of("wrong-rank.onnx",
            List.of("expected input 'input_values' float32 [batch, samples]", "[-1, -1, 1]")),
        Arguments.of("non-float-input.onnx",
            List.of("expected input 'input_values' float32 [batch, samples]", "int16")),
        Arguments.of("wrong-output-name.onnx",
            List.of("expected a float32 output 'last_hidden_state'", "'logits'")),
        Arguments.of("fixed-shape.onnx",
            List.of("expected dynamic batch and time axes", "[1, 16000]")),
        Arguments.of("wrong-sample-rate.onnx",
            List.of("16000 Hz", "callvec.sampling_rate_hz=8000")),
        // The graph strides 160 samples per frame; its metadata claims 320.
        Arguments.of("wrong-geometry.onnx",
            List.of("frame geometry", "frame stride 320", "receptive field 400",
                "predict [1, 3, 4] for a window of 1200 samples", "shape [1, 6, 4]")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badModels")
  void aBadModelFailsToLoadWithAClearMessage(String file, List<String> parts) {
    assertMessage(fails(Fixtures.bad(file)), parts.toArray(new String[0]));
  }

  @Test
  void validTinyGraphLoads() throws Exception {
    try (EmbeddingModel m = EmbeddingModel.load(Fixtures.bad("valid-geometry.onnx"), CPU)) {
      assertTrue(m.info().metadataComplete());
      assertEquals("callvec/test-geometry", m.info().modelId());
    }
  }

  @Test
  void windowsShorterThanTheReceptiveFieldAreRejected() throws Exception {
    try (EmbeddingModel m = EmbeddingModel.load(Fixtures.model(Fixtures.NO_MASK), CPU)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> m.embedBatch(List.of(new float[16_000], new float[399])));
      assertTrue(e.getMessage().contains("window 1 has 399 samples"), e.getMessage());
      assertTrue(e.getMessage().contains("at least 400"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> m.embedBatch(List.of()));
      float[] bad = Fixtures.signal(1, 1000);
      bad[10] = Float.NaN;
      IllegalArgumentException nan =
          assertThrows(IllegalArgumentException.class, () -> m.embed(bad));
      assertTrue(nan.getMessage().contains("NaN"), nan.getMessage());
    }
  }

  @Test
  void missingClassPathResource() {
    ModelLoadException e = assertThrows(ModelLoadException.class,
        () -> EmbeddingModel.loadResource("/io/callvec/model/nothing.onnx", CPU));
    assertMessage(e, "class-path resource not found", "/io/callvec/model/nothing.onnx");
  }

  @Test
  void gpuProvidersNeedTheGpuBuild() {
    Assumptions.assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA),
        "this ONNX Runtime build has CUDA: the CPU-jar error cannot occur");
    for (String p : new String[] {"cuda", "cuda:1", "tensorrt"}) {
      ModelOptions o = CPU.toBuilder().provider(p).build();
      ModelLoadException e = assertThrows(ModelLoadException.class,
          () -> EmbeddingModel.load(Fixtures.model(Fixtures.NO_MASK), o));
      assertMessage(e, "requested", "-Pgpu");
    }
  }

  @Test
  void autoPicksAWorkingProvider() throws Exception {
    // CPU jar: always cpu. GPU jar (-Pgpu): cuda:0 where a device works, else cpu.
    boolean cudaBuild = OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
    ModelOptions o = CPU.toBuilder().provider(ExecutionProvider.auto()).build();
    try (EmbeddingModel m = EmbeddingModel.load(Fixtures.model(Fixtures.NO_MASK), o)) {
      String p = m.info().provider();
      assertTrue(p.equals("cpu") || (cudaBuild && p.equals("cuda:0")), p);
      Fixtures.Window w = Fixtures.windows().get(0);
      assertTrue(Similarity.cosine(m.embed(w.input()), w.read("pooled_mean")) >= 0.999);
    }
  }

  @Test
  void autoFallsBackToCpuWithoutCuda() throws Exception {
    Assumptions.assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA),
        "this ONNX Runtime build has CUDA");
    ModelOptions o = CPU.toBuilder().provider(ExecutionProvider.auto()).build();
    try (EmbeddingModel m = EmbeddingModel.load(Fixtures.model(Fixtures.NO_MASK), o)) {
      assertEquals("cpu", m.info().provider());
    }
  }
}
