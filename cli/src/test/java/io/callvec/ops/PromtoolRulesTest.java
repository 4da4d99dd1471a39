package io.callvec.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alert rules and the dashboard's queries through Prometheus' own tools: {@code promtool check
 * rules} (PromQL syntax, rule structure, templates), {@code promtool test rules} (the alerts fire on
 * the synthetic series of callvec-alerts.test.yaml, and only there).
 */
class PromtoolRulesTest {

  @Test
  void alertRulesPassPromtoolCheck() throws Exception {
    Path promtool = ExternalTools.require("promtool", "PROMTOOL");
    ExternalTools.Result r = ExternalTools.run(RepoFiles.root(), 60,
        List.of(promtool.toString(), "check", "rules", "ops/monitoring/callvec-alerts.yaml"));
    assertEquals(0, r.exit(), r.output());
    int rules = MetricNamesTest.ruleExpressions().size();
    assertTrue(r.output().contains("SUCCESS: " + rules + " rules found"), r.output());
  }

  @Test
  void alertRuleUnitTestsPass() throws Exception {
    Path promtool = ExternalTools.require("promtool", "PROMTOOL");
    ExternalTools.Result r = ExternalTools.run(RepoFiles.path("ops/monitoring"), 120,
        List.of(promtool.toString(), "test", "rules", "callvec-alerts.test.yaml"));
    assertEquals(0, r.exit(), r.output());
    assertTrue(r.output().contains("SUCCESS"), r.output());
  }

  @Test
  void alertRuleUnitTestsCanFail(@TempDir Path dir) throws Exception {
    // The same tests against rules whose lag threshold was raised: the lag alert must then be missed.
    Path promtool = ExternalTools.require("promtool", "PROMTOOL");
    String rules = RepoFiles.text("ops/monitoring/callvec-alerts.yaml").replace("> 3000", "> 300000");
    Files.writeString(dir.resolve("callvec-alerts.yaml"), rules);
    Files.copy(RepoFiles.path("ops/monitoring/callvec-alerts.test.yaml"), dir.resolve("t.yaml"));
    ExternalTools.Result r = ExternalTools.run(dir, 120, List.of(promtool.toString(), "test", "rules", "t.yaml"));
    assertNotEquals(0, r.exit(), r.output());
    assertTrue(r.output().contains("alertname: CallvecConsumerLagGrowing"), r.output());
  }

  @Test
  void dashboardQueriesAreValidPromql(@TempDir Path dir) throws Exception {
    Path promtool = ExternalTools.require("promtool", "PROMTOOL");
    // Each query becomes a recording rule, with Grafana's variables replaced by values of their kind.
    StringBuilder sb = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    int i = 0;
    for (Map.Entry<String, String> e : MetricNamesTest.dashboardExpressions().entrySet()) {
      String expr = e.getValue()
          .replace("$__rate_interval", "5m")
          .replace("$namespace", "prod").replace("$pod", "callvec-0").replace("$topic", "callvec.audio-chunks");
      if (expr.startsWith("label_values(")) {
        expr = expr.substring("label_values(".length(), expr.lastIndexOf(','));
      }
      assertTrue(!expr.contains("$"), "unreplaced variable in " + e.getKey() + ": " + expr);
      sb.append("      - record: dashboard:query_").append(i++).append("\n        expr: '").append(expr.replace("'", "''")).append("'\n");
    }
    Path file = dir.resolve("dashboard-rules.yaml");
    Files.writeString(file, sb.toString());
    ExternalTools.Result r = ExternalTools.run(dir, 60, List.of(promtool.toString(), "check", "rules", file.toString()));
    assertEquals(0, r.exit(), r.output() + "\n" + sb);
    assertTrue(r.output().contains("SUCCESS: " + i + " rules found"), r.output());

    // And promtool rejects a broken query the same way.
    Files.writeString(file, "groups:\n  - name: d\n    rules:\n      - record: x:y\n        expr: 'sum by (pod (rate(x[5m]))'\n");
    assertNotEquals(0, ExternalTools.run(dir, 60, List.of(promtool.toString(), "check", "rules", file.toString())).exit());
  }
}
