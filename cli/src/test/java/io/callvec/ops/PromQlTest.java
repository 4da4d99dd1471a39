package io.callvec.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The selector extraction that {@link MetricNamesTest} relies on. */
class PromQlTest {

  @Test
  void findsMetricsButNotFunctionsKeywordsOrLabels() {
    PromQl.Refs r = PromQl.parse("""
        sum by (namespace, pod) (rate(callvec_dead_letters_total{reason="X", pod=~"$pod"}[5m]))
        / on (namespace) group_left (pod)
        (sum without (le) (increase(callvec_chunks_total[$__rate_interval] offset 1h)) + 1e3)
        and histogram_quantile(0.95, sum by (le) (rate(callvec_batcher_inference_seconds_bucket[10m:1m])))
        or vector(0) unless kafka_stream_client_state != bool 2
        """);
    assertEquals(List.of("callvec_dead_letters_total", "callvec_chunks_total", "callvec_batcher_inference_seconds_bucket", "kafka_stream_client_state"),
        List.copyOf(r.metrics()));
    assertEquals(Set.of("namespace", "pod", "le"), r.groupingLabels());
    assertEquals(List.of(new PromQl.Matcher("reason", "=", "X"), new PromQl.Matcher("pod", "=~", "$pod")), r.selectors().get(0).matchers());
  }

  @Test
  void readsNamelessSelectorsAndEscapedStrings() {
    PromQl.Refs r = PromQl.parse("count({__name__=\"up\", job=~\"a\\\"b\"}) > 0");
    assertEquals(List.of(new PromQl.Selector("up", List.of(new PromQl.Matcher("__name__", "=", "up"), new PromQl.Matcher("job", "=~", "a\"b")))),
        r.selectors());
  }

  @Test
  void aggregationWithClauseBeforeItsArgumentIsNotAMetric() {
    assertEquals(Set.of("x_total"), PromQl.parse("max without (pod) (x_total) > 3").metrics());
    assertEquals(Set.of("y"), PromQl.parse("topk(3, y)").metrics());
  }

  @Test
  void rejectsBrokenExpressions() {
    assertThrows(IllegalArgumentException.class, () -> PromQl.parse("rate(x{a=\"b}[5m])"));
    assertThrows(IllegalArgumentException.class, () -> PromQl.parse("rate(x{a=\"b\"[5m])"));
    assertThrows(IllegalArgumentException.class, () -> PromQl.parse("x{a b}"));
  }
}
