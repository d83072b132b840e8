package io.ambit.deploy.observability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.ambit.deploy.Tools;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.run.LocalMesh;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * End to end: a local mesh (the ztunnel's {@link LocalMesh}, as {@code ambit run} starts it) on
 * 127.94.0.0/16 with non-default ports, real {@code curl} traffic through it (allowed and denied over
 * SOCKS5 and HBONE, plaintext accepted by a PERMISSIVE namespace and refused by STRICT), and a real
 * Prometheus scraping both nodes and evaluating {@code prometheus-rules.yaml}. Then every dashboard
 * query about the ztunnel must return data, with values that match the traffic sent; the waypoint's and
 * xDS's queries must be valid PromQL here (their data is checked by {@link WaypointPanelsLiveTest} and
 * {@link XdsPanelsLiveTest}).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DashboardLiveMeshTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: sleep, namespace: default, serviceAccount: sleep, node: node-a, workloadIps: ["127.94.1.1"], labels: {app: sleep}}
            - {name: curl, namespace: default, serviceAccount: curl, node: node-a, workloadIps: ["127.94.1.2"], labels: {app: curl}}
            - name: httpbin-1
              namespace: default
              serviceAccount: httpbin
              node: node-b
              workloadIps: ["127.94.2.1"]
              labels: {app: httpbin, version: v1}
              canonicalName: httpbin
              canonicalRevision: v1
              services: {"default/httpbin.default.svc.cluster.local": {8000: 8080}}
            - name: ledger
              namespace: payments
              serviceAccount: ledger
              node: node-b
              workloadIps: ["127.94.2.3"]
              labels: {app: ledger}
              canonicalName: ledger
              services: {"payments/ledger.payments.svc.cluster.local": {9000: 9090}}
            - name: legacy-app
              namespace: legacy
              serviceAccount: legacy-app
              node: node-b
              workloadIps: ["127.94.2.4"]
              labels: {app: legacy-app}
              canonicalName: legacy-app
              services: {"legacy/legacy-app.legacy.svc.cluster.local": {7000: 7070}}
            services:
            - {name: httpbin, namespace: default, hostname: httpbin.default.svc.cluster.local, vips: ["/127.94.10.1"], ports: {8000: 8080}}
            - {name: ledger, namespace: payments, hostname: ledger.payments.svc.cluster.local, vips: ["/127.94.10.2"], ports: {9000: 9090}}
            - {name: legacy-app, namespace: legacy, hostname: legacy-app.legacy.svc.cluster.local, vips: ["/127.94.10.3"], ports: {7000: 7070}}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: istio-system}
            spec: {mtls: {mode: STRICT}}
            ---
            # the namespace still being rolled out: plaintext accepted (what the mTLS panels and alert watch)
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: legacy}
            spec: {mtls: {mode: PERMISSIVE}}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: httpbin-from-sleep, namespace: default}
            spec:
              selector: {matchLabels: {app: httpbin}}
              action: ALLOW
              rules:
              - from:
                - source: {principals: ["cluster.local/ns/default/sa/sleep"]}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: ledger-deny-default, namespace: payments}
            spec:
              selector: {matchLabels: {app: ledger}}
              action: DENY
              rules:
              - from:
                - source: {namespaces: ["default"]}
            """;

    /** ztunnel's ports moved by 10000, so a developer's own {@code ambit run} is left alone. */
    static final Node.Ports PORTS = Node.Ports.builder()
            .hbone(25008)
            .socks(25080)
            .metrics(25020)
            .readiness(25021)
            .admin(0)
            .plaintext(25006)
            .dns(0)
            .build();

    static final Duration AWAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;

    static LocalMesh mesh;
    static PrometheusServer prometheus;
    /** Connections each traffic round ends at a destination ztunnel (see {@link #traffic()}). */
    static final int PER_ROUND = 6;

    @BeforeAll
    static void start() throws Exception {
        Tools.require("curl", "curl");
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(file, MESH);
        mesh = LocalMesh.start(LocalMesh.Config.of(file, dir.resolve("ca")).withPorts(PORTS));
        var targets = new ArrayList<String>();
        for (var node : mesh.nodes()) {
            var metrics = node.endpointAddresses().getFirst();
            targets.add(metrics.getAddress().getHostAddress() + ":" + metrics.getPort());
        }
        Files.createDirectories(dir.resolve("prometheus"));
        prometheus = PrometheusServer.start(
                dir.resolve("prometheus"), "127.94.0.1", targets, AlertRulesTest.RULES, Duration.ofSeconds(240));
        // Two rounds, each awaited in Prometheus: rate() needs an increase between two scrapes.
        for (int round = 1; round <= 2; round++) {
            traffic();
            int expected = round * PER_ROUND;
            await("Prometheus to see " + expected + " closed connections at the destinations", () -> scalar(
                            "sum(istio_tcp_connections_closed_total{reporter=\"destination\"})")
                    .filter(v -> v >= expected));
        }
    }

    @AfterAll
    static void stop() {
        if (prometheus != null) {
            prometheus.close();
        }
        if (mesh != null) {
            mesh.close();
        }
    }

    /** One round: 2 allowed mTLS calls, 2 denied by policy, 1 plaintext accepted, 1 plaintext refused. */
    static void traffic() throws Exception {
        int socks = PORTS.socks();
        var allowed = curl("--socks5-hostname", "127.94.1.1:" + socks, "http://httpbin.default:8000/get");
        assertThat(allowed.exit()).as(allowed.output()).isZero();
        assertThat(allowed.output()).contains("hello from httpbin-1");
        var again = curl("--socks5-hostname", "127.94.1.1:" + socks, "http://httpbin.default.svc:8000/again");
        assertThat(again.exit()).as(again.output()).isZero();
        // curl is no principal httpbin-from-sleep allows
        assertThat(curl("--socks5-hostname", "127.94.1.2:" + socks, "http://httpbin.default:8000/get")
                        .exit())
                .isNotZero();
        // ledger-deny-default refuses the default namespace
        assertThat(curl("--socks5-hostname", "127.94.1.1:" + socks, "http://ledger.payments:9000/get")
                        .exit())
                .isNotZero();
        // plaintext: accepted by the PERMISSIVE legacy namespace, refused by mesh-wide STRICT
        var plaintext = curl("http://127.94.2.4:" + PORTS.plaintext() + "/plain");
        assertThat(plaintext.exit()).as(plaintext.output()).isZero();
        assertThat(plaintext.output()).contains("hello from legacy-app");
        assertThat(curl("http://127.94.2.1:" + PORTS.plaintext() + "/plain").exit())
                .isNotZero();
    }

    @Test
    void prometheusScrapesBothNodesAndEvaluatesTheAlerts() throws Exception {
        var targets = prometheus.targets().path("data").path("activeTargets");
        assertThat(targets.size()).isEqualTo(2);
        for (JsonNode t : targets) {
            assertThat(t.path("health").asText()).as(t.toString()).isEqualTo("up");
        }
        var groups = prometheus.rules().path("data").path("groups");
        var names = new TreeSet<String>();
        for (JsonNode g : groups) {
            for (JsonNode r : g.path("rules")) {
                assertThat(r.path("health").asText())
                        .as(r.path("name").asText() + ": " + r.path("lastError").asText())
                        .isIn("ok", "unknown");
                names.add(r.path("name").asText());
            }
        }
        assertThat(names).isEqualTo(AlertRulesTest.alertNames());
    }

    /** The heart of it: every dashboard query about the ztunnel answers with finite values. */
    @Test
    void everyZtunnelQueryOfTheDashboardReturnsData() throws Exception {
        var checked = new ArrayList<String>();
        for (var q : Dashboard.load().queries()) {
            if (MetricCatalog.sourceOf(q.expr()) != MetricCatalog.Source.ZTUNNEL) {
                continue;
            }
            String promql = q.resolved("1m");
            JsonNode result = await(q + " to return data: " + promql, () -> {
                JsonNode r = prometheus.query(promql);
                assertThat(r.path("status").asText()).as(q + ": " + r).isEqualTo("success");
                JsonNode series = r.path("data").path("result");
                boolean finite = !series.isEmpty()
                        && StreamSupport.stream(series.spliterator(), false).allMatch(s -> Double.isFinite(value(s)));
                return finite ? Optional.of(series) : Optional.empty();
            });
            assertThat(result).as(q.toString()).isNotEmpty();
            checked.add(q.toString());
        }
        assertThat(checked).as("ztunnel queries checked").hasSizeGreaterThanOrEqualTo(14);
        System.out.println("Dashboard queries answered by the live mesh (" + checked.size() + "): " + checked);
    }

    /** Queries whose data comes from the waypoint or xDS: valid PromQL here, data in their own live test. */
    @Test
    void theOtherQueriesAreValidPromQLHereAndAnsweredByTheirOwnLiveTest() throws Exception {
        var elsewhere = new ArrayList<String>();
        for (var q : Dashboard.load().queries()) {
            var source = MetricCatalog.sourceOf(q.expr());
            if (source == MetricCatalog.Source.ZTUNNEL) {
                continue;
            }
            JsonNode r = prometheus.query(q.resolved("1m"));
            assertThat(r.path("status").asText()).as(q + ": " + r).isEqualTo("success");
            elsewhere.add(q + " (" + source.when + ")");
        }
        assertThat(elsewhere).isNotEmpty();
        System.out.println("Dashboard queries answered by other live tests:\n  " + String.join("\n  ", elsewhere));
    }

    /** Prometheus answers a broken query with an error: the check above can fail. */
    @Test
    void prometheusRefusesInvalidPromQL() throws Exception {
        JsonNode r = prometheus.query("sum by (reporter (istio_tcp_connections_opened_total)");
        assertThat(r.path("status").asText()).isEqualTo("error");
        assertThat(r.path("errorType").asText()).isEqualTo("bad_data");
    }

    @Test
    void mtlsCoverageCountsThePermissiveNamespacesPlaintext() throws Exception {
        String coverage = panelQuery("mTLS coverage", "A");
        // 2 of the 3 connections accepted per round were mTLS: 66.7%, not 100 and not 0
        double v = await(coverage, () -> scalar(coverage).filter(x -> x > 0 && x < 100));
        assertThat(v).isBetween(60.0, 70.0);
        String accepted = panelQuery("Plaintext accepted in the last hour (what STRICT would break)", "A");
        assertThat(labelValues(accepted, "destination_workload")).containsExactly("legacy-app");
        String refused = panelQuery("Plaintext refused by STRICT", "A");
        assertThat(labelValues(refused, "destination_workload")).containsExactly("httpbin-1");
    }

    @Test
    void denialsAreShownPerDestinationService() throws Exception {
        String l4 = panelQuery("Authorization denials by destination service", "A");
        assertThat(labelValues(l4, "destination_canonical_service")).containsExactlyInAnyOrder("httpbin", "ledger");
    }

    @Test
    void decisionsAreShownPerPolicy() throws Exception {
        String decisions = panelQuery("Decisions by policy", "A");
        // sleep -> httpbin allowed by its ALLOW policy; curl -> httpbin denied with no policy matching;
        // sleep -> ledger denied by the DENY policy
        assertThat(labelValues(decisions + " > 0", "policy"))
                .contains("default/httpbin-from-sleep", "payments/ledger-deny-default", "none");
        assertThat(labelValues(decisions + " > 0", "decision")).contains("ALLOW", "DENY");
    }

    @Test
    void certificateExpiryShowsEveryIdentityWithinItsLifetime() throws Exception {
        String expiry = panelQuery("Certificate expiry", "A");
        JsonNode series = prometheus.query(expiry).path("data").path("result");
        var identities = new TreeSet<String>();
        for (JsonNode s : series) {
            identities.add(s.path("metric").path("identity").asText());
            assertThat(value(s)).as(s.toString()).isBetween(3600.0, 2 * 86400.0);
        }
        assertThat(identities)
                .contains(
                        "spiffe://cluster.local/ns/default/sa/httpbin",
                        "spiffe://cluster.local/ns/default/sa/sleep",
                        "spiffe://cluster.local/ns/legacy/sa/legacy-app");
    }

    /** The article's non-mTLS alert goes pending on the live plaintext; the fresh certificates raise none. */
    @Test
    void theNonMtlsAlertIsPendingOnLiveTrafficAndTheCertificateAlertsAreQuiet() throws Exception {
        await("IstioMutualTLSDisabled pending for legacy/legacy-app", () -> Optional.of(labelValues(
                        "ALERTS{alertname=\"IstioMutualTLSDisabled\", alertstate=\"pending\"}", "destination_workload"))
                .filter(l -> l.equals(List.of("legacy-app"))));
        assertThat(prometheus
                        .query("ALERTS{alertname=~\"IstioCertificateExpiringSoon|AmbitCertificateExpiryCritical\"}")
                        .path("data")
                        .path("result"))
                .isEmpty();
    }

    // --- helpers

    static String panelQuery(String panel, String refId) throws Exception {
        return Dashboard.load().queries().stream()
                .filter(q -> q.panel().equals(panel) && q.refId().equals(refId))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no query " + refId + " in panel " + panel))
                .resolved("1m");
    }

    /** The values of {@code label} over the result of {@code promql}, sorted. */
    static List<String> labelValues(String promql, String label) throws Exception {
        JsonNode r = prometheus.query(promql);
        assertThat(r.path("status").asText()).as(promql + ": " + r).isEqualTo("success");
        var values = new TreeSet<String>();
        r.path("data")
                .path("result")
                .forEach(s -> values.add(s.path("metric").path(label).asText()));
        return List.copyOf(values);
    }

    /** The single value of {@code promql}, if it has exactly one series. */
    static Optional<Double> scalar(String promql) throws Exception {
        JsonNode result = prometheus.query(promql).path("data").path("result");
        return result.size() == 1 ? Optional.of(value(result.get(0))) : Optional.empty();
    }

    /** An instant vector element's value ({@code "value": [time, "1.5"]}). */
    static double value(JsonNode sample) {
        return Double.parseDouble(sample.path("value").path(1).asText("NaN"));
    }

    /** Polls {@code probe} every 250 ms until it has a value, for at most {@link #AWAIT}. */
    static <T> T await(String what, Callable<Optional<T>> probe) throws Exception {
        long deadline = System.nanoTime() + AWAIT.toNanos();
        AssertionError last = null;
        for (int i = 0; i < 1000 && System.nanoTime() < deadline; i++) {
            try {
                var v = probe.call();
                if (v.isPresent()) {
                    return v.get();
                }
            } catch (AssertionError e) {
                last = e;
            }
            Thread.sleep(250);
        }
        var failure = new AssertionError("waited " + AWAIT + " for " + what + "; Prometheus log:\n" + prometheus.log());
        if (last != null) {
            failure.addSuppressed(last);
        }
        throw failure;
    }

    static Tools.Result curl(String... args) throws Exception {
        var command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "10"));
        command.addAll(List.of(args));
        return Tools.run(dir, Duration.ofSeconds(20), command);
    }
}
