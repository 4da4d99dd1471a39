package io.callvec.it.support;

import java.nio.file.Path;
import java.util.Map;

/** The settings of a test's in-JVM app ({@code CallvecApp.start}): its broker, ids, state folder and topics, a free HTTP port. */
public final class InJvmAppSettings {
  private InJvmAppSettings() {}

  /**
   * {@code bootstrap.servers}, {@code application.id = <prefix>-app}, {@code state.dir}, the topics of
   * {@link AppTopics#of(String)}, {@code callvec.http.port=0} and a 5 ms batch delay; a mutable map for
   * the test's own additions.
   */
  public static Map<String, String> of(String bootstrapServers, String prefix, Path stateDir) {
    Map<String, String> m = AppTopics.of(prefix).settings();
    m.put("bootstrap.servers", bootstrapServers);
    m.put("application.id", prefix + "-app");
    m.put("state.dir", stateDir.toString());
    m.put("callvec.http.port", "0");
    m.put("callvec.batch.max.delay.ms", "5");
    return m;
  }
}
