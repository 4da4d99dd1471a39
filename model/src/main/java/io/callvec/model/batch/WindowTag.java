package io.callvec.model.batch;

/**
 * Who submitted a window and which window it is, for {@link BatchingEngine#cancel(String)} and for
 * the {@link PoisonWindowException} of a window that fails alone. The engine never interprets
 * either value; it compares owners with {@link String#equals}.
 *
 * @param owner the submitter to cancel by, e.g. a Kafka Streams task id ({@code "0_3"}); null: the
 *     window cannot be cancelled by owner
 * @param windowId a label naming the window in logs and failures (e.g. call, channel, segment
 *     index); null when the caller keeps track itself
 */
public record WindowTag(String owner, String windowId) {
  /** No owner, no label: what {@link BatchingEngine#submit(float[])} uses. */
  public static final WindowTag NONE = new WindowTag(null, null);

  /** A tag with an owner and a label (either may be null). */
  public static WindowTag of(String owner, String windowId) {
    return new WindowTag(owner, windowId);
  }

  @Override
  public String toString() {
    return "window " + (windowId == null ? "(unlabelled)" : windowId) + " of owner " + owner;
  }
}
