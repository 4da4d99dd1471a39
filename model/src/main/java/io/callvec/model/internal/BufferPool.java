package io.callvec.model.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Reusable direct, native-order byte buffers for batch tensors, so that a steady stream of batches
 * allocates no new batch-sized memory. Thread-safe; a buffer is owned by one caller between
 * {@link #acquire} and {@link #release}. At most {@code maxPooled} idle buffers are kept (the
 * rest are left to the garbage collector); capacities are rounded up to 64 KiB so that batches of
 * slightly different sizes share buffers.
 */
public final class BufferPool {
  private static final int GRANULE_BYTES = 64 * 1024;

  private final int maxPooled;
  private final List<ByteBuffer> idle = new ArrayList<>();

  /** @param maxPooled idle buffers kept for reuse, >= 1 */
  public BufferPool(int maxPooled) {
    if (maxPooled < 1) {
      throw new IllegalArgumentException("maxPooled must be >= 1, got " + maxPooled);
    }
    this.maxPooled = maxPooled;
  }

  /**
   * A direct native-order buffer with position 0 and limit {@code bytes}; contents are undefined
   * (callers overwrite every byte they hand to ONNX Runtime).
   *
   * @throws IllegalArgumentException if {@code bytes} is negative or over 2 GiB - 64 KiB
   */
  public ByteBuffer acquire(long bytes) {
    if (bytes < 0 || bytes > Integer.MAX_VALUE - GRANULE_BYTES) {
      throw new IllegalArgumentException(
          "batch tensor of " + bytes + " bytes: expected 0 .. 2 GiB; split the batch");
    }
    ByteBuffer best = null;
    synchronized (idle) {
      int bestIndex = -1;
      for (int i = 0; i < idle.size(); i++) {
        ByteBuffer b = idle.get(i);
        if (b.capacity() >= bytes && (best == null || b.capacity() < best.capacity())) {
          best = b;
          bestIndex = i;
        }
      }
      if (bestIndex >= 0) {
        idle.remove(bestIndex);
      }
    }
    if (best == null) {
      int capacity = (int) ((bytes + GRANULE_BYTES - 1) / GRANULE_BYTES * GRANULE_BYTES);
      best = ByteBuffer.allocateDirect(Math.max(capacity, GRANULE_BYTES));
    }
    best.clear().limit((int) bytes);
    return best.order(ByteOrder.nativeOrder());
  }

  /** Returns a buffer from {@link #acquire}; the caller must not use it afterwards. */
  public void release(ByteBuffer buffer) {
    if (buffer == null) {
      return;
    }
    synchronized (idle) {
      if (idle.size() < maxPooled) {
        idle.add(buffer);
      } else {
        // Replace the smallest idle buffer if this one is larger: keeps the big ones warm.
        int smallest = 0;
        for (int i = 1; i < idle.size(); i++) {
          if (idle.get(i).capacity() < idle.get(smallest).capacity()) {
            smallest = i;
          }
        }
        if (idle.get(smallest).capacity() < buffer.capacity()) {
          idle.set(smallest, buffer);
        }
      }
    }
  }

  /** Idle buffers currently held (for tests). */
  public int idleCount() {
    synchronized (idle) {
      return idle.size();
    }
  }
}
