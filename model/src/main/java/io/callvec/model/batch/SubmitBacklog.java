package io.callvec.model.batch;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The windows one submitter (e.g. one Kafka Streams task) could not queue yet, for a thread that
 * must never wait for room: {@link #submit} queues a window at once when the engine has room (and
 * nothing older is waiting), else remembers its key; {@link #drain} (call it from a punctuator)
 * submits remembered windows, oldest first, while the engine has room. Windows thus reach the
 * engine in the order they were offered.
 *
 * <p>Holds keys only: the audio of a remembered window is read again by the {@code loader} when it
 * is submitted, so memory stays at one key per deferred window and the audio stays wherever the
 * caller keeps it durable (a state store). All windows are submitted with this backlog's owner, so
 * {@link #cancelAll()} withdraws what is queued in the engine too.
 *
 * <p>Never waits for room (only for the engine's lock, see {@link BatchingEngine}). Not
 * thread-safe: one submitter thread.
 *
 * @param <K> the caller's key of a window (e.g. its pending-store key)
 */
public final class SubmitBacklog<K> {
  /** Receives each window's future once the engine has accepted it. */
  @FunctionalInterface
  public interface Sink<K> {
    void accepted(K key, CompletableFuture<float[]> future);
  }

  private record Deferred<K>(K key, String windowId) {}

  private final WindowSubmitter engine;
  private final String owner;
  private final Function<K, float[]> loader;
  private final Sink<K> sink;
  private final ArrayDeque<Deferred<K>> deferred = new ArrayDeque<>();

  /**
   * @param engine where windows go (a {@link BatchingEngine}, or an adapter of one)
   * @param owner owner tag of every window (e.g. the task id), for {@link #cancelAll()}
   * @param loader reads a deferred window's audio by key when it is submitted (16 kHz, as {@link
   *     BatchingEngine#submit(float[])} takes it)
   * @param sink told of every accepted window and its future
   */
  public SubmitBacklog(
      WindowSubmitter engine, String owner, Function<K, float[]> loader, Sink<K> sink) {
    this.engine = Objects.requireNonNull(engine, "engine");
    this.owner = Objects.requireNonNull(owner, "owner");
    this.loader = Objects.requireNonNull(loader, "loader");
    this.sink = Objects.requireNonNull(sink, "sink");
  }

  /**
   * Submits the window now if the engine has room and no older window of this backlog waits;
   * otherwise remembers its key (the window array is not kept).
   *
   * @param window the audio, or null to have the loader read it when it is submitted
   * @return true if the engine accepted it now
   * @throws EngineClosedException if the engine is shut down
   * @throws WorkerDiedException if the engine has no worker left
   */
  public boolean submit(K key, String windowId, float[] window) {
    Objects.requireNonNull(key, "key");
    if (deferred.isEmpty() && window != null) {
      Admission a = engine.trySubmit(window, WindowTag.of(owner, windowId));
      if (a.isAccepted()) {
        sink.accepted(key, a.future());
        return true;
      }
    }
    deferred.addLast(new Deferred<>(key, windowId));
    drain();
    return false;
  }

  /**
   * Submits remembered windows, oldest first, while {@link BatchingEngine#remainingCapacity()} is
   * positive; stops at the first refusal (another submitter took the room).
   *
   * @return how many were accepted
   * @throws EngineClosedException if the engine is shut down
   * @throws WorkerDiedException if the engine has no worker left
   */
  public int drain() {
    int accepted = 0;
    while (!deferred.isEmpty() && engine.remainingCapacity() > 0) {
      Deferred<K> d = deferred.peekFirst();
      Admission a = engine.trySubmit(loader.apply(d.key()), WindowTag.of(owner, d.windowId()));
      if (!a.isAccepted()) {
        break;
      }
      deferred.pollFirst();
      sink.accepted(d.key(), a.future());
      accepted++;
    }
    return accepted;
  }

  /** Windows remembered, not yet accepted by the engine (a gauge of the overload). */
  public int size() {
    return deferred.size();
  }

  /**
   * Forgets the remembered windows and withdraws this owner's windows still queued in the engine
   * ({@link BatchingEngine#cancel(String)}; their futures end cancelled). For a task that is closed
   * or revoked: its windows stay durable in the caller's store for the next owner.
   *
   * @return windows withdrawn from the engine
   */
  public int cancelAll() {
    deferred.clear();
    return engine.cancel(owner);
  }

  /** The owner tag of this backlog's windows. */
  public String owner() {
    return owner;
  }
}
