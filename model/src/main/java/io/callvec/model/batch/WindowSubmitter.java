package io.callvec.model.batch;

/**
 * What a submitter that must never wait for room needs of the batcher (implemented by {@link
 * BatchingEngine}): queue a window if there is room now, learn when there is room, withdraw an
 * owner's queued windows. {@link SubmitBacklog} is built on it.
 */
public interface WindowSubmitter {
  /** As {@link BatchingEngine#trySubmit(float[], WindowTag)}: queues now or refuses, never waits for room. */
  Admission trySubmit(float[] window, WindowTag tag);

  /** As {@link BatchingEngine#remainingCapacity()}. */
  int remainingCapacity();

  /** As {@link BatchingEngine#cancel(String)}. */
  int cancel(String owner);
}
