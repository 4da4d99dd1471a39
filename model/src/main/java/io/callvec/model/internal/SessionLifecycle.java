package io.callvec.model.internal;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Open or closed state of an object that owns native ONNX Runtime resources: runs hold the shared
 * lock ({@link #lockRun()} / {@link #unlockRun()}) and check {@link #isClosed()} inside it;
 * {@link #closeOnce} waits for the running calls, then releases the resources exactly once.
 * Thread-safe.
 */
public final class SessionLifecycle {
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Takes the shared run lock; pair with {@link #unlockRun()} in a finally block. */
  public void lockRun() {
    lock.readLock().lock();
  }

  public void unlockRun() {
    lock.readLock().unlock();
  }

  /** True once {@link #closeOnce} has been called. */
  public boolean isClosed() {
    return closed.get();
  }

  /**
   * The first call marks the object closed, waits for running calls to end, then runs {@code
   * release}; later calls return at once.
   */
  public void closeOnce(Runnable release) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    lock.writeLock().lock();
    try {
      release.run();
    } finally {
      lock.writeLock().unlock();
    }
  }
}
