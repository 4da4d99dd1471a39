/**
 * The micro-batcher: one {@link io.callvec.model.batch.BatchingEngine} per model per JVM fills
 * model batches with windows from every stream thread.
 *
 * <pre>{@code
 * // At application start, once per model (one embedder per device; workers sharing one embedder
 * // share its session and device):
 * BatchingEngine engine = new BatchingEngine(model, BatchingOptions.builder()
 *     .modelName("wav2vec2-large-robust")
 *     .maxBatchWindows(8)                    // the model's batch dimension
 *     .maxDelay(Duration.ofMillis(10))       // latency a lone window may pay for companions
 *     .canaryWindowSamples(80_000)           // a window length the model always accepts
 *     .meterRegistry(registry)
 *     .build());
 *
 * // From a thread that may wait (up to submitTimeout):
 * CompletableFuture<float[]> vector = engine.submit(window16kHz);
 *
 * // From a thread that must not wait (a stream thread inside a transaction):
 * Admission a = engine.trySubmit(window16kHz, WindowTag.of(taskId, "call/channel/segment"));
 * if (!a.isAccepted()) {
 *   // keep the window (it is durable in the caller's store); retry when
 *   // engine.remainingCapacity() > 0
 * }
 *
 * // Or let a SubmitBacklog (one per task) keep the refused keys in order and submit them from
 * // the punctuator: backlog.submit(key, id, window) ... backlog.drain()
 *
 * // When a task is revoked: its queued windows are never inferred.
 * engine.cancel(taskId);
 *
 * // Probes: engine.health().isLive() / isReady() / isStalled(limit)
 *
 * // At application stop, after the Streams instance has closed:
 * engine.close();   // drains for drainTimeout, then fails what is left
 * model.close();    // unless ownsEmbedder(true)
 * }</pre>
 *
 * <p><b>Kafka Streams.</b> Futures complete on a batcher thread, in any order (lanes, workers and
 * split batches finish independently), and {@code ProcessorContext.forward} may only be called from
 * the stream thread that owns the task. A processor therefore has each future add its result to a
 * concurrent completion queue of the task and drains that queue on the stream thread (in {@code
 * process} and in a short wall-clock punctuation), forwarding each result as it comes. It must not
 * block on one future per record: a stream thread would then contribute one window per batch.
 *
 * <p>Exceptions: at submission {@link io.callvec.model.batch.QueueFullException} (backpressure;
 * {@code trySubmit} returns a refused {@link io.callvec.model.batch.Admission} instead), {@link
 * io.callvec.model.batch.EngineClosedException} (shutdown), {@link
 * io.callvec.model.batch.WorkerDiedException} (no worker left), {@link
 * io.callvec.model.batch.SubmitInterruptedException}. Futures fail with a {@link
 * io.callvec.model.batch.PoisonWindowException} (this window fails alone: dead-letter it and go
 * on), the embedder's {@link io.callvec.model.InferenceException} (model outage after its retries:
 * stop), a {@link io.callvec.model.batch.WorkerDiedException} or an {@link
 * io.callvec.model.batch.EngineClosedException}; {@code cancel(owner)} cancels them. Meters: {@link
 * io.callvec.model.batch.BatcherMetricNames}.
 */
package io.callvec.model.batch;
