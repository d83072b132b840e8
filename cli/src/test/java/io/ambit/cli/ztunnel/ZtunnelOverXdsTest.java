package io.ambit.cli.ztunnel;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.ambit.controlplane.LocalControlPlane;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code ambit ztunnel} processes (in this JVM, each a real node with real listeners) configured
 * from the local control plane over Delta ADS and its CA over TLS, a real HTTP server behind one, and a
 * real {@code curl} through SOCKS5 on the other: the policy istiod pushes decides, a new ALLOW policy lets
 * a refused connection through, and traffic keeps flowing with the control plane gone.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ZtunnelOverXdsTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: client, namespace: shop, serviceAccount: client, node: node-a, workloadIps: ["127.91.10.1"]}
            - {name: web, namespace: shop, serviceAccount: web, node: node-b, workloadIps: ["127.91.10.2"],
               labels: {app: web}, services: {"shop/web.shop.svc.cluster.local": {80: 8080}}}
            services:
            - {name: web, namespace: shop, hostname: web.shop.svc.cluster.local, vips: ["/127.91.11.1"], ports: {80: 8080}}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: istio-system}
            spec: {mtls: {mode: STRICT}}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: web-allow-nobody-yet, namespace: shop}
            spec:
              selector: {matchLabels: {app: web}}
              action: ALLOW
              rules:
              - from: [{source: {principals: ["cluster.local/ns/shop/sa/nobody"]}}]
            """;
    static final String ALLOW_CLIENT = """
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: web-allow-client, namespace: shop}
            spec:
              selector: {matchLabels: {app: web}}
              action: ALLOW
              rules:
              - from: [{source: {principals: ["cluster.local/ns/shop/sa/client"]}}]
                to: [{operation: {ports: ["8080"]}}]
            """;

    @TempDir
    static Path dir;

    static final XdsLab.Trigger trigger = new XdsLab.Trigger();
    static LocalControlPlane plane;
    static ZtunnelProcess nodeA;
    static ZtunnelProcess nodeB;
    static HttpServer web;
    static final List<AccessLog.Entry> log = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        plane = XdsLab.plane(dir, MESH, "127.91.0.5", trigger);
        web = XdsLab.web("127.91.10.2");
        nodeA = ztunnel("node-a", "127.91.0.6");
        nodeB = ztunnel("node-b", "127.91.0.7");
        nodeA.started().get(60, TimeUnit.SECONDS);
        nodeB.started().get(60, TimeUnit.SECONDS);
    }

    static ZtunnelProcess ztunnel(String node, String ip) throws Exception {
        return XdsLab.ztunnel(plane, node, ip, AccessLog.slf4j().and(log::add));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {nodeA, nodeB, plane}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing
            }
        }
        if (web != null) {
            web.stop(0);
        }
    }

    record Curl(int exit, String out) {}

    static Curl curl() throws Exception {
        var p = new ProcessBuilder(
                        "curl", "-sS", "--max-time", "10", "--socks5", "127.91.10.1:15080", "http://127.91.11.1:80/x")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Curl(p.exitValue(), out);
    }

    static int get(InetSocketAddress at, String path) throws Exception {
        try (var client = HttpClient.newHttpClient()) {
            return client.send(
                            HttpRequest.newBuilder(URI.create(
                                            "http://" + at.getAddress().getHostAddress() + ":" + at.getPort() + path))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        }
    }

    static String scrape(ZtunnelProcess p) throws Exception {
        try (var client = HttpClient.newHttpClient()) {
            var a = p.metricsAddress();
            return client.send(
                            HttpRequest.newBuilder(URI.create("http://"
                                            + a.getAddress().getHostAddress() + ":" + a.getPort() + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
        }
    }

    @Test
    @Order(1)
    void bothNodesAreReadyWithTheirWorkloadsAndIdentitiesFromIstiodsProtocols() throws Exception {
        assertThat(get(nodeA.readinessAddress(), "/healthz/ready")).isEqualTo(200);
        assertThat(get(nodeB.readinessAddress(), "/healthz/ready")).isEqualTo(200);
        assertThat(nodeA.node().workloads()).extracting(w -> w.name()).containsExactly("client");
        assertThat(nodeB.node().workloads()).extracting(w -> w.name()).containsExactly("web");
        assertThat(plane.certificatesIssued()).isGreaterThanOrEqualTo(2);
        assertThat(nodeB.certificates()
                        .current(nodeB.node().workloads().getFirst().identity()))
                .isPresent();
        assertThat(scrape(nodeA)).contains("istio_xds_message_total");
    }

    @Test
    @Order(2)
    void aConnectionNoPolicyAllowsIsRefused() throws Exception {
        var r = curl();
        assertThat(r.exit()).as(r.out()).isNotZero();
        assertThat(r.out()).doesNotContain("hello from web");
    }

    @Test
    @Order(3)
    void aNewAllowPolicyFromTheControlPlaneLetsTheRefusedConnectionThrough() throws Exception {
        Files.writeString(dir.resolve("mesh.yaml"), MESH + ALLOW_CLIENT);
        trigger.fire();
        // the push reaches node-b's policies: wait for the state, then connect once
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (nodeB.source().current().policies().policies().authorizationPolicies().stream()
                .noneMatch(p -> p.meta().name().equals("web-allow-client"))) {
            assertThat(System.nanoTime()).as("policy pushed within 30 s").isLessThan(deadline);
            Thread.sleep(10);
        }
        var r = curl();
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("hello from web, you asked for /x");
    }

    @Test
    @Order(4)
    void withTheControlPlaneGoneTrafficKeepsFlowingOnTheLastState() throws Exception {
        var before = nodeB.source().current();
        plane.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (nodeA.xds().status().connected() || nodeB.xds().status().connected()) {
            assertThat(System.nanoTime()).as("clients notice within 30 s").isLessThan(deadline);
            Thread.sleep(10);
        }
        for (int i = 0; i < 3; i++) {
            var r = curl();
            assertThat(r.exit()).as(r.out()).isZero();
            assertThat(r.out()).contains("hello from web");
        }
        assertThat(nodeB.source().current()).isSameAs(before);
        assertThat(get(nodeA.readinessAddress(), "/healthz/ready")).isEqualTo(200);
        assertThat(scrape(nodeA)).contains("istio_xds_connection_terminations_total");
    }
}
