package io.callvec.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Structure of the alert rules and the Grafana dashboard (their metrics: {@link MetricNamesTest}). */
class MonitoringFilesTest {

  @Test
  void everyAlertHasASeverityAndTheAnnotationsOperatorsNeed() throws Exception {
    Set<String> names = new HashSet<>();
    for (JsonNode group : RepoFiles.yaml("ops/monitoring/callvec-alerts.yaml").path("groups")) {
      for (JsonNode r : group.path("rules")) {
        String name = r.path("alert").asText();
        assertTrue(name.matches("Callvec[A-Z][A-Za-z]+"), "alert name " + name);
        assertTrue(names.add(name), "duplicate alert " + name);
        assertTrue(Set.of("critical", "warning", "info").contains(r.path("labels").path("severity").asText()), name + ": severity");
        for (String a : List.of("summary", "description", "runbook")) {
          assertFalse(r.path("annotations").path(a).asText().isBlank(), name + ": no " + a);
        }
        if (r.has("for")) {
          assertTrue(r.path("for").asText().matches("\\d+[smh]"), name + ": for " + r.path("for").asText());
        }
      }
    }
    assertTrue(names.containsAll(Set.of("CallvecConsumerLagGrowing", "CallvecDeadLetterRateHigh", "CallvecBatchFillLow",
        "CallvecInferenceErrors", "CallvecSegmentLatencyHigh", "CallvecInstanceNotReady")), names.toString());
  }

  @Test
  void dashboardIsAWellFormedGrafanaDashboard() throws Exception {
    JsonNode d = RepoFiles.json("ops/monitoring/callvec-dashboard.json");
    assertEquals("callvec", d.path("uid").asText());
    assertTrue(d.path("schemaVersion").asInt() >= 36, "schemaVersion");
    List<JsonNode> panels = new ArrayList<>();
    d.path("panels").forEach(panels::add);
    assertTrue(panels.size() >= 20, "panels: " + panels.size());
    Set<Integer> ids = new HashSet<>();
    Set<String> variables = new HashSet<>();
    d.path("templating").path("list").forEach(v -> variables.add(v.path("name").asText()));
    assertTrue(variables.containsAll(Set.of("datasource", "namespace", "pod", "topic")), variables.toString());
    for (JsonNode p : panels) {
      String title = p.path("title").asText();
      assertTrue(ids.add(p.path("id").asInt()), "duplicate panel id " + p.path("id"));
      JsonNode pos = p.path("gridPos");
      assertTrue(pos.path("w").asInt() > 0 && pos.path("x").asInt() + pos.path("w").asInt() <= 24, title + ": gridPos " + pos);
      if (p.path("type").asText().equals("row")) {
        continue;
      }
      assertTrue(Set.of("timeseries", "stat").contains(p.path("type").asText()), title + ": type " + p.path("type"));
      assertEquals("${datasource}", p.path("datasource").path("uid").asText(), title + ": data source variable");
      assertTrue(p.path("targets").size() >= 1, title + ": no query");
      Set<String> refIds = new HashSet<>();
      for (JsonNode t : p.path("targets")) {
        assertTrue(refIds.add(t.path("refId").asText()), title + ": duplicate refId");
        assertFalse(t.path("expr").asText().isBlank(), title + ": empty query");
      }
      assertFalse(p.path("description").asText().isBlank(), title + ": no description");
    }
  }
}
