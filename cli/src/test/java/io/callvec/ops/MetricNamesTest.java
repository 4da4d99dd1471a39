package io.callvec.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.callvec.model.batch.BatcherMetricNames;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every metric and label that the alert rules ({@code ops/monitoring/callvec-alerts.yaml}) and the
 * Grafana dashboard ({@code ops/monitoring/callvec-dashboard.json}) use exists in what the app's
 * {@code /metrics} serves ({@link ExportedMetrics}: the app's meters on a real registry, Kafka
 * Streams on a real broker, scraped over the app's {@code HttpEndpoint}).
 */
class MetricNamesTest {

  /** Labels the scrape adds to every series (Prometheus, Kubernetes service discovery). */
  static final Set<String> TARGET_LABELS = Set.of("namespace", "pod", "job", "instance", "container", "service", "endpoint", "node");
  /** Series Prometheus itself makes for every target. */
  static final Set<String> PROMETHEUS_SERIES = Set.of("up");

  private static PrometheusText exported;

  @BeforeAll
  static void scrape(@TempDir Path dir) throws Exception {
    exported = PrometheusText.parse(ExportedMetrics.scrape(dir.resolve("state")));
  }

  /** Expressions of the alert rules, by alert name. */
  static Map<String, String> ruleExpressions() throws Exception {
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonNode group : RepoFiles.yaml("ops/monitoring/callvec-alerts.yaml").path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        String name = rule.has("alert") ? rule.get("alert").asText() : rule.path("record").asText();
        out.put("rule " + name, rule.path("expr").asText());
      }
    }
    return out;
  }

  private static final Pattern LABEL_VALUES = Pattern.compile("^\\s*label_values\\((.*),\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*\\)\\s*$", Pattern.DOTALL);

  /** Expressions of the dashboard's panels (rows included) and query variables. */
  static Map<String, String> dashboardExpressions() throws Exception {
    JsonNode d = RepoFiles.json("ops/monitoring/callvec-dashboard.json");
    Map<String, String> out = new LinkedHashMap<>();
    List<JsonNode> panels = new ArrayList<>();
    d.path("panels").forEach(panels::add);
    for (int i = 0; i < panels.size(); i++) {
      panels.get(i).path("panels").forEach(panels::add);
    }
    for (JsonNode p : panels) {
      for (JsonNode t : p.path("targets")) {
        out.put("panel '" + p.path("title").asText() + "' " + t.path("refId").asText(), t.path("expr").asText());
      }
    }
    for (JsonNode v : d.path("templating").path("list")) {
      if (v.path("type").asText().equals("query")) {
        JsonNode q = v.path("query");
        out.put("variable " + v.path("name").asText(), q.isTextual() ? q.asText() : q.path("query").asText());
      }
    }
    return out;
  }

  /** What is wrong with one expression against the exported series; empty when nothing is. */
  static List<String> problems(String where, String expr, PrometheusText metrics) {
    List<String> problems = new ArrayList<>();
    String promql = expr;
    Matcher lv = LABEL_VALUES.matcher(expr);
    if (lv.matches()) {
      promql = lv.group(1);
      PromQl.Refs inner = PromQl.parse(promql);
      String label = lv.group(2);
      if (!TARGET_LABELS.contains(label) && inner.metrics().stream().noneMatch(m -> metrics.labels(m).containsKey(label))) {
        problems.add(where + ": label_values label '" + label + "' is on none of " + inner.metrics());
      }
    }
    PromQl.Refs refs = PromQl.parse(promql);
    if (refs.selectors().isEmpty()) {
      problems.add(where + ": no metric in '" + expr + "'");
    }
    for (PromQl.Selector s : refs.selectors()) {
      if (PROMETHEUS_SERIES.contains(s.metric())) {
        continue;
      }
      if (!metrics.has(s.metric())) {
        problems.add(where + ": metric " + s.metric() + " is not exported");
        continue;
      }
      Map<String, Set<String>> labels = metrics.labels(s.metric());
      for (PromQl.Matcher m : s.matchers()) {
        if (TARGET_LABELS.contains(m.label()) || m.label().equals("__name__")) {
          continue;
        }
        if (!labels.containsKey(m.label())) {
          problems.add(where + ": " + s.metric() + " has no label '" + m.label() + "' (it has " + labels.keySet() + ")");
        } else if (m.op().equals("=") && !m.value().startsWith("$") && !labels.get(m.label()).contains(m.value())) {
          problems.add(where + ": " + s.metric() + " never has " + m.label() + "=\"" + m.value() + "\" (seen " + labels.get(m.label()) + ")");
        }
      }
    }
    for (String g : refs.groupingLabels()) {
      if (!TARGET_LABELS.contains(g) && refs.metrics().stream().noneMatch(m -> metrics.labels(m).containsKey(g))) {
        problems.add(where + ": groups by '" + g + "', a label of none of " + refs.metrics());
      }
    }
    return problems;
  }

  /** {@link #problems} of every expression (where → PromQL), against the exported series. */
  private List<String> problemsOfAll(Map<String, String> exprs) {
    List<String> problems = new ArrayList<>();
    exprs.forEach((where, expr) -> problems.addAll(problems(where, expr, exported)));
    return problems;
  }

  @Test
  void alertRulesUseOnlyExportedMetricsAndLabels() throws Exception {
    Map<String, String> exprs = ruleExpressions();
    assertTrue(exprs.size() >= 6, "expected at least six rules, found " + exprs.keySet());
    assertEquals(List.of(), problemsOfAll(exprs));
  }

  @Test
  void dashboardUsesOnlyExportedMetricsAndLabels() throws Exception {
    Map<String, String> exprs = dashboardExpressions();
    assertTrue(exprs.size() >= 20, "expected at least 20 queries, found " + exprs.size());
    assertEquals(List.of(), problemsOfAll(exprs));
  }

  @Test
  void rulesAndDashboardCoverTheSignalsOperatorsNeed() throws Exception {
    String rules = String.join("\n", ruleExpressions().values());
    String dashboard = String.join("\n", dashboardExpressions().values());
    for (String metric : List.of("kafka_consumer_fetch_manager_records_lag_max", "callvec_dead_letters_total", "callvec_batcher_batch_fill_sum",
        "callvec_batcher_windows_failed_windows_total", "callvec_segment_latency_seconds", "kafka_stream_client_state")) {
      assertTrue(PromQl.parse(rules).metrics().contains(metric) || rules.contains(metric), "no alert uses " + metric);
    }
    for (String metric : List.of("callvec_segments_total", "callvec_segment_latency_seconds", "kafka_consumer_fetch_manager_records_lag",
        "callvec_batcher_batch_fill_sum", "callvec_batcher_inference_seconds_bucket", "callvec_dead_letters_total", "kafka_stream_client_state")) {
      assertTrue(dashboard.contains(metric), "the dashboard does not show " + metric);
    }
  }

  @Test
  void theScrapeHoldsEveryBatcherAndTopologyMeter() {
    // Guards the harness: if it stopped registering a meter family, the checks above would pass vacuously.
    for (String meter : List.of(BatcherMetricNames.BATCH_FILL, BatcherMetricNames.INFERENCE, BatcherMetricNames.QUEUE_WAIT)) {
      String base = meter.replace('.', '_');
      assertTrue(exported.names().stream().anyMatch(n -> n.startsWith(base)), "no series for " + meter);
    }
    for (String name : List.of("callvec_segment_latency_seconds", "callvec_dead_letters_total", "callvec_chunks_total",
        "kafka_stream_client_state", "kafka_consumer_fetch_manager_records_lag_max", "kafka_stream_task_dropped_records_total", "jvm_memory_used_bytes")) {
      assertTrue(exported.has(name), "not exported: " + name);
    }
  }

  @Test
  void theCheckReportsUnknownMetricsLabelsAndValues() {
    List<String> p = problems("t", "sum by (pod, flavour) (rate(callvec_segmnets_total[5m])) + callvec_batcher_windows_failed_windows_total{reason=\"gpu\"}"
        + " + callvec_chunks_total{colour=\"red\"}", exported);
    String all = String.join("\n", p).toLowerCase(Locale.ROOT);
    assertTrue(all.contains("callvec_segmnets_total is not exported"), all);
    assertTrue(all.contains("never has reason=\"gpu\""), all);
    assertTrue(all.contains("has no label 'colour'"), all);
    assertTrue(all.contains("groups by 'flavour'"), all);
    assertEquals(4, p.size(), all);
    assertFalse(problems("t", "label_values(kafka_stream_client_state, pod)", exported).iterator().hasNext());
    assertEquals(1, problems("t", "label_values(kafka_stream_client_state, flavour)", exported).size());
  }
}
