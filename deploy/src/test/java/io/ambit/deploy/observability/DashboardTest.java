package io.ambit.deploy.observability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.ambit.deploy.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's shape (the article's panels, a datasource variable, a grid without overlaps) and its
 * queries: valid PromQL by promtool, and only metrics whose exporter is known ({@link MetricCatalog}).
 * {@link DashboardLiveMeshTest} runs the same queries against a real Prometheus.
 */
class DashboardTest {

    @Test
    void theArticlesPanelsAreThere() throws Exception {
        var d = Dashboard.load();
        assertThat(d.panel("mTLS coverage").path("type").asText()).isEqualTo("stat");
        assertThat(d.panel("mTLS coverage").path("targets").get(0).path("expr").asText())
                .contains("connection_security_policy=\"mutual_tls\"");
        var denials = d.panel("Authorization denials by destination service");
        assertThat(denials.path("targets").findValuesAsText("expr"))
                .anySatisfy(e -> assertThat(e).contains("response_code=\"403\"").contains("destination_service_name"))
                .anySatisfy(e -> assertThat(e).contains("response_flags=\"DENY\""));
        var expiry = d.panel("Certificate expiry");
        assertThat(expiry.path("type").asText()).isEqualTo("table");
        assertThat(expiry.path("targets").get(0).path("expr").asText())
                .isEqualTo("istio_cert_expiry_timestamp - time()");
    }

    @Test
    void theIssuesOtherPanelsAreThere() throws Exception {
        var titles = Dashboard.load().panels().stream()
                .map(p -> p.path("title").asText())
                .toList();
        assertThat(titles)
                .contains(
                        "Throughput by destination service",
                        "Request latency percentiles (waypoint)",
                        "Decisions by policy",
                        "xDS stream terminations by reason",
                        "Certificate renewals and fetch failures");
    }

    @Test
    void everyPanelUsesTheDatasourceVariableAndSitsOnTheGridAlone() throws Exception {
        var d = Dashboard.load();
        var ids = new HashSet<Integer>();
        var all = new java.util.ArrayList<JsonNode>();
        d.json().get("panels").forEach(all::add);
        for (JsonNode p : all) {
            String title = p.path("title").asText();
            assertThat(ids.add(p.path("id").asInt(-1)))
                    .as("unique id of " + title)
                    .isTrue();
            JsonNode g = p.path("gridPos");
            assertThat(g.path("x").asInt() + g.path("w").asInt())
                    .as(title + " within 24 columns")
                    .isBetween(1, 24);
            assertThat(g.path("h").asInt()).as(title + " height").isPositive();
            for (JsonNode q : all) {
                if (q != p) {
                    assertThat(overlap(g, q.path("gridPos")))
                            .as(title + " overlaps " + q.path("title").asText())
                            .isFalse();
                }
            }
            if (!p.path("type").asText().equals("row")) {
                assertThat(p.path("datasource").path("uid").asText()).as(title).isEqualTo("${datasource}");
                assertThat(p.path("targets").size()).as(title + " targets").isPositive();
                var refIds = p.path("targets").findValuesAsText("refId");
                assertThat(refIds).as(title + " refIds").doesNotHaveDuplicates().doesNotContain("");
            }
        }
        assertThat(d.json().path("templating").path("list").findValuesAsText("name"))
                .contains("datasource", "namespace");
    }

    @Test
    void everyMetricHasAKnownExporter() throws Exception {
        for (var q : Dashboard.load().queries()) {
            assertThat(MetricCatalog.metricsIn(q.expr())).as(q.toString()).isNotEmpty();
            MetricCatalog.sourceOf(q.expr()); // throws naming an unknown metric
        }
        for (JsonNode rule : AlertRulesTest.alerts()) {
            MetricCatalog.sourceOf(rule.get("expr").asText());
        }
    }

    /** promtool parses each query as it parses rules: wrap them as recording rules and check the file. */
    @Test
    void everyQueryIsValidPromQL(@TempDir Path tmp) throws Exception {
        List<Dashboard.Query> queries = Dashboard.load().queries();
        String rules = queries.stream()
                .map(q -> "  - record: ambit_dashboard:q" + queries.indexOf(q) + "\n    expr: "
                        + quoted(q.resolved("5m")))
                .collect(Collectors.joining("\n", "groups:\n- name: dashboard\n  rules:\n", "\n"));
        Files.writeString(tmp.resolve("queries.yaml"), rules);
        var r = Tools.run(
                tmp,
                Duration.ofSeconds(60),
                List.of(Tools.require("promtool", "prometheus").toString(), "check", "rules", "queries.yaml"));
        assertThat(r.ok()).as(r.output()).isTrue();
        assertThat(r.output()).contains("SUCCESS: " + queries.size() + " rules found");
    }

    /** The check above is not blind: a query with a PromQL error fails it. */
    @Test
    void promtoolRejectsABrokenQuery(@TempDir Path tmp) throws Exception {
        Files.writeString(
                tmp.resolve("queries.yaml"),
                "groups:\n- name: dashboard\n  rules:\n  - record: ambit_dashboard:bad\n    expr: "
                        + quoted("sum by (reporter (rate(istio_tcp_connections_opened_total[5m]))") + "\n");
        var r = Tools.run(
                tmp,
                Duration.ofSeconds(60),
                List.of(Tools.require("promtool", "prometheus").toString(), "check", "rules", "queries.yaml"));
        assertThat(r.ok()).as(r.output()).isFalse();
    }

    private static boolean overlap(JsonNode a, JsonNode b) {
        int ax = a.path("x").asInt(),
                ay = a.path("y").asInt(),
                aw = a.path("w").asInt(),
                ah = a.path("h").asInt();
        int bx = b.path("x").asInt(),
                by = b.path("y").asInt(),
                bw = b.path("w").asInt(),
                bh = b.path("h").asInt();
        return ax < bx + bw && bx < ax + aw && ay < by + bh && by < ay + ah;
    }

    /** A YAML double-quoted scalar. */
    private static String quoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
