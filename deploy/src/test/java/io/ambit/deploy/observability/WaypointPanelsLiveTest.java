package io.ambit.deploy.observability;

import static io.ambit.deploy.observability.DashboardLiveMeshTest.value;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.ambit.deploy.Tools;
import io.ambit.waypoint.local.LocalWaypoints;
import io.ambit.waypoint.local.WaypointDirectory;
import io.ambit.waypoint.telemetry.AccessLog;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.run.LocalMesh;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's waypoint panels and the article's 403 alert against a live waypoint: ztunnels and the
 * waypoint the mesh file declares, started in-process as {@code ambit run} starts them ({@link LocalMesh}
 * leaving the waypoint's address to {@link LocalWaypoints}), real {@code curl} requests through the
 * caller's ztunnel (SOCKS5) that the waypoint allows (200) or denies with an L7 policy (403), and a real
 * Prometheus scraping both ztunnels' and the waypoint's {@code :15020}. On 127.94.128.0/17, Istio's ports.
 *
 * <p>The traffic is chosen so the alert's outcome does not depend on timing: after a first round has made
 * every series exist (and Prometheus has scraped it), {@value #BURST} denied requests to {@code orders}
 * raise its 403 rate over {@code [5m]} above 1/s whenever they land in the window (400 / 300 s), and
 * {@code catalog}'s two 403s cannot (2 / 300 s); the alert's {@code for: 5m} outlives the test, so it is
 * pending for {@code orders} only, never firing.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class WaypointPanelsLiveTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: web, namespace: shop, serviceAccount: web, node: node-a, workloadIps: ["127.94.129.1"], labels: {app: web}}
            - {name: intruder, namespace: shop, serviceAccount: intruder, node: node-a, workloadIps: ["127.94.129.2"], labels: {app: intruder}}
            # the waypoint: labelled as Istio labels waypoint pods; ambit run starts it, not a ztunnel
            - name: shop-waypoint
              namespace: shop
              serviceAccount: shop-waypoint
              workloadIps: ["127.94.131.1"]
              labels: {gateway.networking.k8s.io/gateway-name: shop-waypoint}
            - name: orders-1
              namespace: shop
              serviceAccount: orders
              node: node-b
              workloadIps: ["127.94.130.1"]
              labels: {app: orders, version: v1}
              services: {"shop/orders.shop.svc.cluster.local": {80: 8080}}
            - name: catalog-1
              namespace: shop
              serviceAccount: catalog
              node: node-b
              workloadIps: ["127.94.130.2"]
              labels: {app: catalog, version: v1}
              services: {"shop/catalog.shop.svc.cluster.local": {80: 8080}}
            services:
            - name: orders
              namespace: shop
              hostname: orders.shop.svc.cluster.local
              vips: ["/127.94.140.1"]
              ports: {80: 8080}
              waypoint: {destination: {address: "/127.94.131.1"}}
            - name: catalog
              namespace: shop
              hostname: catalog.shop.svc.cluster.local
              vips: ["/127.94.140.2"]
              ports: {80: 8080}
              waypoint: {destination: {address: "/127.94.131.1"}}
            ---
            # L7, attached to the Service: the waypoint enforces it per request and answers 403
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-read, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: orders}]
              action: ALLOW
              rules:
              - from: [{source: {principals: ["cluster.local/ns/shop/sa/web"]}}]
                to: [{operation: {methods: ["GET"], paths: ["/orders/*"]}}]
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: catalog-from-web, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: catalog}]
              action: ALLOW
              rules:
              - from: [{source: {principals: ["cluster.local/ns/shop/sa/web"]}}]
            """;

    /** Istio's ports: every listener binds an address of this test's own range. */
    static final Node.Ports PORTS = Node.Ports.builder().admin(0).dns(0).build();

    /** Denied requests to orders in round 2: over 300, so their rate over [5m] is above 1/s. */
    static final int BURST = 400;

    /** Responses per service and code that both rounds produce (see {@link #start()}). */
    static final Map<String, Map<String, Integer>> EXPECTED = Map.of(
            "orders", Map.of("200", 1 + 20, "403", 1 + BURST),
            "catalog", Map.of("200", 1 + 5, "403", 1 + 1));

    static final int TOTAL = 1 + 20 + 1 + BURST + 1 + 5 + 1 + 1;

    static final Duration AWAIT = Duration.ofSeconds(40);

    @TempDir
    static Path dir;

    static LocalMesh mesh;
    static LocalWaypoints waypoints;
    static PrometheusServer prometheus;
    /** Access-log lines the waypoint wrote: one per request it finished (kept out of the test output). */
    static final AtomicInteger waypointLogLines = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        Tools.require("curl", "curl");
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(file, MESH);
        // what `ambit run` starts: the ztunnels leave the waypoint's address to the waypoint
        mesh = LocalMesh.start(LocalMesh.Config.of(file, dir.resolve("ca"))
                .withPorts(PORTS)
                .withServedElsewhere(WaypointDirectory::isWaypoint));
        waypoints = LocalWaypoints.start(
                mesh.source(),
                mesh.certificates(),
                mesh.transport(),
                mesh.loops(),
                AccessLog.to(line -> waypointLogLines.incrementAndGet()),
                LocalWaypoints.Options.all());
        assertThat(waypoints.waypoints()).hasSize(1);

        var ztunnels = new ArrayList<String>();
        for (var node : mesh.nodes()) {
            ztunnels.add(hostPort(node.endpointAddresses().getFirst()));
        }
        var waypoint =
                hostPort(waypoints.waypoints().getFirst().adminAddresses().getFirst());
        Files.createDirectories(dir.resolve("prometheus"));
        prometheus = PrometheusServer.start(
                dir.resolve("prometheus"),
                "127.94.128.1",
                Map.of("ambit-ztunnel", ztunnels, "ambit-waypoint", List.of(waypoint)),
                AlertRulesTest.RULES,
                Duration.ofSeconds(240));

        // Round 1: one request of each outcome, so every series exists before the burst is counted
        // (rate() measures increases between scrapes, not a counter's first value).
        assertThat(codes("127.94.129.1", "http://orders.shop/orders/1")).containsExactly("200");
        assertThat(codes("127.94.129.1", "http://orders.shop/admin/0"))
                .as("orders-read allows GET /orders/* only")
                .containsExactly("403");
        assertThat(codes("127.94.129.1", "http://catalog.shop/catalog/1")).containsExactly("200");
        assertThat(codes("127.94.129.2", "http://catalog.shop/catalog/1"))
                .as("intruder is no principal catalog-from-web allows")
                .containsExactly("403");
        awaitRequestsSeen(4);

        // Round 2: the burst of 403s at orders, some allowed traffic, one more 403 at catalog.
        assertThat(codes("127.94.129.1", "http://orders.shop/admin/[1-" + BURST + "]"))
                .hasSize(BURST)
                .containsOnly("403");
        assertThat(codes("127.94.129.1", "http://orders.shop/orders/[1-20]"))
                .hasSize(20)
                .containsOnly("200");
        assertThat(codes("127.94.129.1", "http://catalog.shop/catalog/[2-6]"))
                .hasSize(5)
                .containsOnly("200");
        assertThat(codes("127.94.129.2", "http://catalog.shop/catalog/2")).containsExactly("403");
        awaitRequestsSeen(TOTAL);
    }

    @AfterAll
    static void stop() {
        if (prometheus != null) {
            prometheus.close();
        }
        if (waypoints != null) {
            waypoints.close(Duration.ofSeconds(1));
        }
        if (mesh != null) {
            mesh.close();
        }
    }

    @Test
    void prometheusScrapesTheZtunnelsAndTheWaypoint() throws Exception {
        var jobs = new TreeMap<String, Integer>();
        for (JsonNode t : prometheus.targets().path("data").path("activeTargets")) {
            assertThat(t.path("health").asText()).as(t.toString()).isEqualTo("up");
            jobs.merge(t.path("labels").path("job").asText(), 1, Integer::sum);
        }
        assertThat(jobs).isEqualTo(Map.of("ambit-ztunnel", 2, "ambit-waypoint", 1));
    }

    /** The waypoint counted exactly the requests curl got answers to, by service and code. */
    @Test
    void theWaypointCountsEveryRequestByServiceAndCode() throws Exception {
        var counts = new TreeMap<String, Map<String, Integer>>();
        JsonNode series = prometheus
                .query("sum by (destination_service_name, response_code) (istio_requests_total{reporter=\"waypoint\"})")
                .path("data")
                .path("result");
        for (JsonNode s : series) {
            counts.computeIfAbsent(
                            s.path("metric").path("destination_service_name").asText(), k -> new TreeMap<>())
                    .put(s.path("metric").path("response_code").asText(), (int) value(s));
        }
        assertThat(counts).isEqualTo(EXPECTED);
        assertThat(waypointLogLines.get()).as("waypoint access-log lines").isEqualTo(TOTAL);
    }

    /** The heart of it: every dashboard query about the waypoint answers with finite values. */
    @Test
    void everyWaypointQueryOfTheDashboardReturnsData() throws Exception {
        var checked = new ArrayList<String>();
        for (var q : Dashboard.load().queries()) {
            if (MetricCatalog.sourceOf(q.expr()) != MetricCatalog.Source.WAYPOINT) {
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
        // denials B (the article's L7 403 query), requests by code, latency p50/p90/p99
        assertThat(checked).as("waypoint queries checked").hasSize(5);
        System.out.println("Dashboard queries answered by the live waypoint (" + checked.size() + "): " + checked);
    }

    /** The article's L7 query: 403s per destination service, orders far above catalog. */
    @Test
    void l7DenialsAreShownPerDestinationService() throws Exception {
        String l7 = DashboardLiveMeshTest.panelQuery("Authorization denials by destination service", "B");
        var rates = ratesBy(l7, "destination_service_name");
        assertThat(rates.keySet()).containsExactly("catalog", "orders");
        assertThat(rates.get("orders")).isGreaterThan(rates.get("catalog"));
    }

    @Test
    void requestsAreShownPerServiceAndResponseCode() throws Exception {
        String byCode = DashboardLiveMeshTest.panelQuery("Requests at waypoints by response code", "A");
        JsonNode series = prometheus.query(byCode).path("data").path("result");
        var pairs = new TreeSet<String>();
        for (JsonNode s : series) {
            var m = s.path("metric");
            pairs.add(m.path("destination_service_name").asText() + "."
                    + m.path("destination_service_namespace").asText() + " "
                    + m.path("response_code").asText());
            assertThat(value(s)).as(s.toString()).isPositive();
        }
        assertThat(pairs).containsExactly("catalog.shop 200", "catalog.shop 403", "orders.shop 200", "orders.shop 403");
    }

    /** p50 ≤ p90 ≤ p99, each a finite positive number of milliseconds from Istio's buckets. */
    @Test
    void latencyPercentilesAreOrdered() throws Exception {
        var percentiles = new ArrayList<Double>();
        for (String refId : List.of("A", "B", "C")) {
            String q = DashboardLiveMeshTest.panelQuery("Request latency percentiles (waypoint)", refId);
            JsonNode series = prometheus.query(q).path("data").path("result");
            assertThat(series).as(q).hasSize(1);
            double v = value(series.get(0));
            assertThat(v).as(q).isFinite().isPositive();
            percentiles.add(v);
        }
        assertThat(percentiles).isSorted();
        // the buckets are Istio's (le in milliseconds, up to an hour), so the quantiles interpolate within them
        assertThat(labelValues("istio_request_duration_milliseconds_bucket{reporter=\"waypoint\"}", "le"))
                .contains("0.5", "+Inf")
                .anyMatch(le -> le.equals("3600000") || le.equals("3600000.0"));
    }

    /**
     * The article's 403 alert over the live series: its expression picks out orders (400 denials in the
     * window, over 95% of its requests) and not catalog, and the alert goes pending for orders alone.
     */
    @Test
    void theDenialSpikeAlertIsPendingForTheDeniedServiceOnly() throws Exception {
        String expr = AlertRulesTest.alerts().stream()
                .filter(a -> a.path("alert").asText().equals("IstioAuthorizationDenialSpike"))
                .findFirst()
                .orElseThrow()
                .path("expr")
                .asText();
        var rates = ratesBy(expr, "destination_service_name");
        assertThat(rates.keySet()).containsExactly("orders");
        assertThat(rates.get("orders")).isGreaterThan(1.0);

        await("IstioAuthorizationDenialSpike pending for shop/orders", () -> Optional.of(labelValues(
                        "ALERTS{alertname=\"IstioAuthorizationDenialSpike\", alertstate=\"pending\"}",
                        "destination_service_name"))
                .filter(l -> l.equals(List.of("orders"))));
        assertThat(labelValues("ALERTS{alertname=\"IstioAuthorizationDenialSpike\"}", "destination_service_namespace"))
                .containsExactly("shop");
        assertThat(prometheus
                        .query("ALERTS{alertname=\"IstioAuthorizationDenialSpike\", alertstate=\"firing\"}")
                        .path("data")
                        .path("result"))
                .as("for: 5m outlives this test")
                .isEmpty();
    }

    // --- helpers

    /** The HTTP status of each request curl makes to {@code url} (a curl glob) through {@code source}'s ztunnel. */
    static List<String> codes(String source, String url) throws Exception {
        var r = Tools.run(
                dir,
                Duration.ofSeconds(60),
                List.of(
                        "curl",
                        "-sS",
                        "--max-time",
                        "10",
                        "--socks5-hostname",
                        source + ":" + PORTS.socks(),
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code}\\n",
                        url));
        assertThat(r.exit()).as(r.output()).isZero();
        return r.output().lines().filter(l -> !l.isBlank()).toList();
    }

    static void awaitRequestsSeen(int expected) throws Exception {
        await("Prometheus to see " + expected + " requests at the waypoint", () -> Optional.of(prometheus
                        .query("sum(istio_requests_total{reporter=\"waypoint\"})")
                        .path("data")
                        .path("result"))
                .filter(r -> r.size() == 1 && value(r.get(0)) == expected));
    }

    /** The value of each series of {@code promql} by its {@code label}. */
    static Map<String, Double> ratesBy(String promql, String label) throws Exception {
        JsonNode r = prometheus.query(promql);
        assertThat(r.path("status").asText()).as(promql + ": " + r).isEqualTo("success");
        var values = new TreeMap<String, Double>();
        r.path("data")
                .path("result")
                .forEach(s -> values.put(s.path("metric").path(label).asText(), value(s)));
        return values;
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
        var failure = new AssertionError("waited " + AWAIT + " for " + what + "; Prometheus log:\n"
                + (prometheus == null ? "(not started)" : prometheus.log()));
        if (last != null) {
            failure.addSuppressed(last);
        }
        throw failure;
    }

    private static String hostPort(java.net.InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }
}
