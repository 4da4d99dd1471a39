package io.callvec.topology.internals;

import io.callvec.model.ModelInfo;
import io.callvec.model.batch.WindowSubmitter;

/**
 * The processor's view of the shared micro-batcher (one per JVM, shared by every task): queue a
 * window if there is room now ({@link #trySubmit}, never waits for room), learn when there is
 * room, withdraw a task's queued windows, and what model the vectors come from. A refused window
 * stays durable in the pending store and is submitted again from a punctuator ({@link
 * WindowDispatch}).
 */
public interface InferenceClient extends WindowSubmitter {
  /** Provenance and dimension of the vectors. */
  ModelInfo modelInfo();
}
