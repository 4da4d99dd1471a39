package io.callvec.topology;

import io.callvec.schemas.AudioChunk;
import io.callvec.schemas.CallEmbedding;
import io.callvec.schemas.SegmentEmbedding;

/** What the call processor emits; the topology routes each kind to its topic. */
public sealed interface Output {
  /** One window's embedding, to the segments topic. */
  record Segment(SegmentEmbedding value) implements Output {}

  /** One call × channel's pooled embedding, to the calls topic. */
  record Call(CallEmbedding value) implements Output {}

  /** An input record that could not be used, to the dead-letter topic (reason in headers). */
  record DeadLetter(AudioChunk value) implements Output {}
}
