/**
 * The micro-batcher: one {@link io.callvec.model.batch.BatchingEngine} per model per JVM fills
 * model batches with windows from every stream thread.
 *
 * <pre>{@code
 * // At application start, once per model (one embedder per GPU, or one shared on CPU):
 * BatchingEngine engine = new BatchingEngine(model, BatchingOptions.builder()
 *     .modelName("wav2vec2-large-robust")
 *     .maxBatchWindows(8)                    // the model's batch dimension
 *     .maxDelay(Duration.ofMillis(10))       // latency a lone window may pay for companions
 *     .meterRegistry(registry)
 *     .build());
 *
 * // From any thread:
 * CompletableFuture<float[]> vector = engine.submit(window16kHz);
 *
 * // At application stop, after the Streams instance has closed:
 * engine.close();   // drains for drainTimeout, then fails what is left
 * model.close();    // unless ownsEmbedder(true)
 * }</pre>
 *
 * <p><b>Kafka Streams.</b> Futures complete on a batcher thread, and {@code
 * ProcessorContext.forward} may only be called from the stream thread that owns the task. A
 * processor therefore keeps its pending futures in submit order and, in {@code process} and in a
 * short wall-clock punctuation, forwards those at the head that are done. It must not block on one
 * future per record: a stream thread would then contribute one window per batch.
 *
 * <p>Exceptions: {@link io.callvec.model.batch.QueueFullException} (backpressure), {@link
 * io.callvec.model.batch.EngineClosedException} (shutdown), {@link
 * io.callvec.model.batch.SubmitInterruptedException}; inference failures reach the futures as
 * {@link io.callvec.model.InferenceException}. Meters: {@link
 * io.callvec.model.batch.BatcherMetricNames}.
 */
package io.callvec.model.batch;
