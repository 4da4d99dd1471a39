package io.callvec.it.support;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Several {@link AppInstance}s of one application id, in numbered slots: each slot has its own
 * state directory and its own log files (one per incarnation). Tracks which slots are meant to be
 * running, so that {@link #assertRunningAlive()} catches an instance that died on its own.
 */
public final class AppFleet implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AppFleet.class);

  private final Path workDir;
  private final int heapMb;
  private final IntFunction<Map<String, String>> settingsOfSlot;
  private final Map<Integer, AppInstance> running = new LinkedHashMap<>();
  private final List<AppInstance> all = new ArrayList<>();
  private final Map<Integer, Integer> incarnations = new LinkedHashMap<>();
  private final Map<Integer, String> stateDirs = new LinkedHashMap<>();

  /**
   * @param workDir where state directories ({@code state-<slot>-<incarnation>}) and logs go
   * @param heapMb each child JVM's maximum heap, MiB
   * @param settingsOfSlot the {@code --set} values of a slot, without {@code state.dir} (set here)
   */
  public AppFleet(Path workDir, int heapMb, IntFunction<Map<String, String>> settingsOfSlot) {
    this.workDir = workDir;
    this.heapMb = heapMb;
    this.settingsOfSlot = settingsOfSlot;
  }

  /**
   * Starts slot {@code slot} (not running).
   *
   * @param freshState true: a new, empty state directory (as on a new machine); false: the slot's
   *     previous one (as after a process restart)
   */
  public synchronized AppInstance start(int slot, boolean freshState) {
    if (running.containsKey(slot)) {
      throw new IllegalStateException("slot " + slot + " is running");
    }
    int n = incarnations.merge(slot, 1, Integer::sum);
    Map<String, String> s = new LinkedHashMap<>(settingsOfSlot.apply(slot));
    String stateName = freshState || !stateDirs.containsKey(slot) ? "state-" + slot + "-" + n : stateDirs.get(slot);
    stateDirs.put(slot, stateName);
    s.put("state.dir", workDir.resolve(stateName).toString());
    log.info("starting slot {} (incarnation {}) on {} state directory {}", slot, n, freshState ? "a fresh" : "its previous", stateName);
    AppInstance i = AppInstance.start("app-" + slot + "#" + n, workDir.resolve("app-" + slot + "-" + n + ".log"), heapMb, s);
    running.put(slot, i);
    all.add(i);
    return i;
  }

  /** The running instance of {@code slot}. */
  public synchronized AppInstance get(int slot) {
    AppInstance i = running.get(slot);
    if (i == null) {
      throw new IllegalStateException("slot " + slot + " is not running");
    }
    return i;
  }

  /** Slots meant to be running. */
  public synchronized List<Integer> runningSlots() {
    return List.copyOf(running.keySet());
  }

  /** {@code kill -9} of slot {@code slot}. */
  public void kill(int slot) throws InterruptedException {
    AppInstance i;
    synchronized (this) {
      i = running.remove(slot);
    }
    if (i == null) {
      throw new IllegalStateException("slot " + slot + " is not running");
    }
    i.kill();
  }

  /** {@code SIGTERM} of slot {@code slot}; returns its exit code. */
  public int stop(int slot, Duration timeout) throws InterruptedException {
    AppInstance i;
    synchronized (this) {
      i = running.remove(slot);
    }
    if (i == null) {
      throw new IllegalStateException("slot " + slot + " is not running");
    }
    return i.stop(timeout);
  }

  /** Waits until every running slot is ready. */
  public void awaitAllReady(Duration timeout) throws InterruptedException {
    for (AppInstance i : snapshot()) {
      i.awaitReady(timeout);
    }
  }

  /** Fails with the instance's log tail if a slot meant to be running has exited. */
  public void assertRunningAlive() {
    for (AppInstance i : snapshot()) {
      i.assertAlive();
    }
  }

  /** Sum of a Prometheus metric over the running instances that answer. */
  public double metricSum(String name) {
    double sum = 0;
    for (AppInstance i : snapshot()) {
      sum += i.metric(name).orElse(0);
    }
    return sum;
  }

  /** Every incarnation started so far, oldest first. */
  public synchronized List<AppInstance> allIncarnations() {
    return List.copyOf(all);
  }

  private synchronized List<AppInstance> snapshot() {
    return new ArrayList<>(running.values());
  }

  /** Stops every running slot gracefully (SIGTERM, 60 s each, in parallel), then kills leftovers. */
  @Override
  public void close() throws InterruptedException {
    List<AppInstance> left = snapshot();
    synchronized (this) {
      running.clear();
    }
    left.forEach(i -> {
      if (i.isAlive()) {
        log.info("stopping app instance {}", i.name());
      }
    });
    List<Thread> stoppers = new ArrayList<>();
    for (AppInstance i : left) {
      Thread t = new Thread(() -> {
        try {
          if (i.isAlive()) {
            i.stop(Duration.ofSeconds(60));
          }
        } catch (Throwable e) {
          log.warn("app instance {} did not stop cleanly: {}", i.name(), e.toString());
        }
      });
      t.start();
      stoppers.add(t);
    }
    for (Thread t : stoppers) {
      t.join(70_000);
    }
    for (AppInstance i : all) {
      i.close();
    }
  }
}
