package io.callvec.it.support;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The four topics of one test's app, named from a unique prefix so that tests sharing a broker never
 * meet.
 */
public record AppTopics(String input, String segments, String calls, String dlq) {

  /** {@code <prefix>.chunks}, {@code .segments}, {@code .calls}, {@code .dlq}. */
  public static AppTopics of(String prefix) {
    return new AppTopics(prefix + ".chunks", prefix + ".segments", prefix + ".calls", prefix + ".dlq");
  }

  /** The callvec settings that name these topics. */
  public Map<String, String> settings() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("callvec.input.topic", input);
    m.put("callvec.segments.topic", segments);
    m.put("callvec.calls.topic", calls);
    m.put("callvec.dlq.topic", dlq);
    return m;
  }
}
