package io.ambit.deploy.observability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.ambit.controlplane.LocalControlPlane;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.client.NodeInfo;
import io.ambit.xds.client.XdsMeshSource;
import io.ambit.xds.client.XdsSettings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's xDS panels and the xDS alert against the real xDS client: Ambit's Delta ADS client
 * ({@link XdsMeshSource}, what {@code ambit ztunnel} runs) syncs from the local control plane (the same
 * protocol as istiod), its metrics registry is served on {@code /metrics} as the ztunnel serves it on
 * 15020, and a real Prometheus scrapes it. Then the control plane goes away: the stream ends, reconnects
 * fail, the termination panel shows why, and {@code AmbitXdsConnectionFailing} goes pending. On
 * 127.94.3.0/24.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class XdsPanelsLiveTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: web, namespace: shop, serviceAccount: web, workloadIps: ["127.94.3.11"], node: node-a,
               labels: {app: web}, services: {"shop/web.shop.svc.cluster.local": {80: 8080}}}
            - {name: client, namespace: shop, serviceAccount: client, workloadIps: ["127.94.3.12"], node: node-a}
            services:
            - {name: web, namespace: shop, hostname: web.shop.svc.cluster.local, vips: ["/127.94.3.21"], ports: {80: 8080}}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: web-allow-client, namespace: shop}
            spec:
              selector: {matchLabels: {app: web}}
              action: ALLOW
              rules:
              - from: [{source: {principals: ["cluster.local/ns/shop/sa/client"]}}]
            """;

    static final Duration AWAIT = Duration.ofSeconds(40);

    @TempDir
    static Path dir;

    static LocalControlPlane plane;
    static XdsMeshSource client;
    static HttpServer metrics;
    static PrometheusServer prometheus;

    @BeforeAll
    static void start() throws Exception {
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(file, MESH);
        plane = LocalControlPlane.start(LocalControlPlane.Config.of(
                file, new InetSocketAddress(InetAddress.getByName("127.94.3.1"), 0), dir.resolve("ca")));
        var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        client = XdsMeshSource.start(
                XdsSettings.of(plane.url(), plane.rootCert(), null, "Kubernetes"),
                NodeInfo.ztunnel("127.94.3.10", "ztunnel-test", "istio-system", "node-a", "Kubernetes", Map.of()),
                MeshConfig.DEFAULT,
                registry);
        client.ready().get(30, TimeUnit.SECONDS);
        // /metrics as the ztunnel serves it (the text format of the same registry)
        metrics = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.94.3.2"), 0), 8);
        metrics.createContext("/metrics", exchange -> {
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (var out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        metrics.start();
        Files.createDirectories(dir.resolve("prometheus"));
        prometheus = PrometheusServer.start(
                dir.resolve("prometheus"),
                "127.94.3.3",
                List.of("127.94.3.2:" + metrics.getAddress().getPort()),
                AlertRulesTest.RULES,
                Duration.ofSeconds(180));
        await("Prometheus to scrape the xDS client's messages", () -> Optional.of(
                        prometheus.query("istio_xds_message_total").path("data").path("result"))
                .filter(r -> r.size() >= 2));
        // istiod goes away: the stream that worked ends (Reconnect), then connecting fails (ConnectionError)
        plane.close();
        plane = null; // closed; a second close() would throw (LocalControlPlane.close is not idempotent)
    }

    @AfterAll
    static void stop() {
        if (prometheus != null) {
            prometheus.close();
        }
        if (client != null) {
            client.close();
        }
        if (metrics != null) {
            metrics.stop(0);
        }
        if (plane != null) {
            plane.close();
        }
    }

    /** Every dashboard query about xDS returns data from the real client's metrics. */
    @Test
    void everyXdsQueryOfTheDashboardReturnsData() throws Exception {
        var checked = new ArrayList<String>();
        for (var q : Dashboard.load().queries()) {
            if (MetricCatalog.sourceOf(q.expr()) != MetricCatalog.Source.XDS) {
                continue;
            }
            String promql = q.resolved("1m");
            await(q + " to return data: " + promql, () -> {
                JsonNode series = prometheus.query(promql).path("data").path("result");
                boolean finite = !series.isEmpty()
                        && StreamSupport.stream(series.spliterator(), false)
                                .allMatch(s -> Double.isFinite(DashboardLiveMeshTest.value(s)));
                return finite ? Optional.of(series) : Optional.empty();
            });
            checked.add(q.toString());
        }
        assertThat(checked).hasSizeGreaterThanOrEqualTo(3);
        System.out.println("Dashboard queries answered by the xDS client (" + checked.size() + "): " + checked);
    }

    @Test
    void updatesAreShownPerTypeUrl() throws Exception {
        String updates = DashboardLiveMeshTest.panelQuery("xDS updates by type", "A");
        assertThat(labelValues(updates, "url"))
                .contains(
                        "type.googleapis.com/istio.workload.Address",
                        "type.googleapis.com/istio.security.Authorization");
    }

    @Test
    void theControlPlaneGoingAwayShowsAsTerminationsAndRaisesTheXdsAlert() throws Exception {
        String terminations = DashboardLiveMeshTest.panelQuery("xDS stream terminations by reason", "A");
        await("terminations by reason Reconnect and ConnectionError", () -> Optional.of(
                        labelValues(terminations, "reason"))
                .filter(r -> r.containsAll(List.of("Reconnect", "ConnectionError"))));
        await("AmbitXdsConnectionFailing pending", () -> Optional.of(prometheus
                        .query("ALERTS{alertname=\"AmbitXdsConnectionFailing\", alertstate=\"pending\"}")
                        .path("data")
                        .path("result"))
                .filter(r -> r.size() == 1));
        assertThat(client.current().workloads())
                .as("the last state keeps serving")
                .hasSize(2);
    }

    static List<String> labelValues(String promql, String label) throws Exception {
        JsonNode r = prometheus.query(promql);
        assertThat(r.path("status").asText()).as(promql + ": " + r).isEqualTo("success");
        var values = new TreeSet<String>();
        r.path("data")
                .path("result")
                .forEach(s -> values.add(s.path("metric").path(label).asText()));
        return List.copyOf(values);
    }

    static <T> T await(String what, Callable<Optional<T>> probe) throws Exception {
        long deadline = System.nanoTime() + AWAIT.toNanos();
        for (int i = 0; i < 1000 && System.nanoTime() < deadline; i++) {
            var v = probe.call();
            if (v.isPresent()) {
                return v.get();
            }
            Thread.sleep(250);
        }
        throw new AssertionError("waited " + AWAIT + " for " + what + "; Prometheus log:\n"
                + (prometheus == null ? "(not started)" : prometheus.log()));
    }
}
