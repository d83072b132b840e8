package io.ambit.cli.waypoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.ambit.cli.ztunnel.XdsLab;
import io.ambit.cli.ztunnel.ZtunnelProcess;
import io.ambit.controlplane.LocalControlPlane;
import io.ambit.kubeapi.FakeKubeApiServer;
import io.ambit.waypoint.telemetry.AccessLog;
import io.ambit.xds.kube.WatchLimits;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ambit waypoint} in cluster mode, end to end on loopback: the local control plane plays istiod (Delta
 * ADS + CA over TLS) and {@link FakeKubeApiServer} plays the Kubernetes API (HTTPS list/watch). Two ztunnels
 * from the same control plane carry a real {@code curl} (SOCKS5 on the client's ztunnel) to the service's
 * waypoint and on to a real HTTP server: an AuthorizationPolicy created through the API denies (403),
 * deleting it allows; a LocalRateLimit from Ambit's CRD answers 429; a malformed object is refused by name
 * while the others apply; a watch expired with 410 lists again; the API server down keeps the last policies
 * serving. Readiness waits for both istiod and the API server.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterWaypointTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: client, namespace: shop, serviceAccount: client, node: node-a, workloadIps: ["127.134.10.1"]}
            - {name: web, namespace: shop, serviceAccount: web, node: node-b, workloadIps: ["127.134.10.2"],
               services: {"shop/web.shop.svc.cluster.local": {80: 8080}}}
            - {name: shop-waypoint-7d9f, namespace: shop, serviceAccount: shop-waypoint, node: node-w,
               workloadIps: ["127.134.10.3"], services: {"shop/shop-waypoint.shop.svc.cluster.local": {15008: 15008}}}
            services:
            - {name: web, namespace: shop, hostname: web.shop.svc.cluster.local, vips: ["/127.134.11.1"],
               ports: {80: 8080}, waypoint: {destination: {address: "/127.134.11.3"}}}
            - {name: shop-waypoint, namespace: shop, hostname: shop-waypoint.shop.svc.cluster.local,
               vips: ["/127.134.11.3"], ports: {15008: 15008}}
            """;
    static final String DENY_ADMIN = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-admin, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: web}]
              action: DENY
              rules: [{to: [{operation: {paths: ["/admin"]}}]}]
            """;
    static final String DENY_SECRET = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-secret, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: web}]
              action: DENY
              rules: [{to: [{operation: {paths: ["/secret"]}}]}]
            """;
    static final String MALFORMED = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: typo, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: web}]
              action: DENY
              rules: [{to: [{operation: {pathz: ["/x"]}}]}]
            """;
    static final String LIMIT = """
            apiVersion: ambit.io/v1alpha1
            kind: LocalRateLimit
            metadata: {name: web-limit, namespace: shop}
            spec:
              targetRefs: [{kind: Service, name: web}]
              tokenBucket: {maxTokens: 1, tokensPerFill: 1, fillInterval: 1h}
            """;

    @TempDir
    static Path dir;

    static final XdsLab.Trigger trigger = new XdsLab.Trigger();

    static LocalControlPlane plane;
    static FakeKubeApiServer kube;
    static ZtunnelProcess nodeA;
    static ZtunnelProcess nodeB;
    static ClusterWaypoint waypoint;
    static HttpServer web;

    @BeforeAll
    static void start() throws Exception {
        plane = XdsLab.plane(dir, MESH, "127.134.0.5", trigger);
        kube = FakeKubeApiServer.start(
                new InetSocketAddress(InetAddress.getByName("127.134.0.4"), 0), dir.resolve("kube-sa"));
        kube.serve("v1", "configmaps", "ConfigMap");
        kube.serve("security.istio.io/v1", "authorizationpolicies", "AuthorizationPolicy");
        kube.serve("security.istio.io/v1", "requestauthentications", "RequestAuthentication");
        kube.serve("networking.istio.io/v1alpha3", "envoyfilters", "EnvoyFilter");
        kube.serve("ambit.io/v1alpha1", "localratelimits", "LocalRateLimit");
        web = XdsLab.web("127.134.10.2");
        nodeA = ztunnel("node-a", "127.134.0.6");
        nodeB = ztunnel("node-b", "127.134.0.7");
        nodeA.started().get(60, TimeUnit.SECONDS);
        nodeB.started().get(60, TimeUnit.SECONDS);
    }

    static ZtunnelProcess ztunnel(String node, String ip) throws Exception {
        return XdsLab.ztunnel(plane, node, ip, io.ambit.ztunnel.telemetry.AccessLog.slf4j());
    }

    /** What `ambit waypoint` resolves in the pod: the Deployment's environment, nothing else. */
    static ClusterSettings settings() {
        var env = Map.of(
                "XDS_ADDRESS", plane.url().toString(),
                "XDS_ROOT_CA", plane.rootCert().toString(),
                "CLUSTER_ID", "Kubernetes",
                "GATEWAY_NAME", "shop-waypoint",
                "POD_NAME", "shop-waypoint-7d9f",
                "POD_NAMESPACE", "shop",
                "SERVICE_ACCOUNT", "shop-waypoint",
                "INSTANCE_IP", "127.134.10.3",
                "SECRET_TTL", "1h");
        var flags = new ClusterSettings.Flags(
                null, null, null, null, null, null, null, null, null, null, null, kube.url(), kube.serviceAccountDir());
        return ClusterSettings.resolve(flags, env);
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {waypoint, nodeA, nodeB, kube, plane}) {
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

    record Response(int status, String body) {}

    /** A real curl, as the client app, through its ztunnel's SOCKS5 to the service VIP. */
    static Response curl(String path) throws Exception {
        var p = new ProcessBuilder(
                        "curl",
                        "-sS",
                        "--max-time",
                        "10",
                        "--socks5",
                        "127.134.10.1:15080",
                        "-o",
                        "-",
                        "-w",
                        "\n%{http_code}",
                        "http://127.134.11.1:80" + path)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        int nl = out.lastIndexOf('\n');
        return new Response(Integer.parseInt(out.substring(nl + 1).trim()), out.substring(0, nl));
    }

    static Response get(InetSocketAddress at, String path) throws Exception {
        try (var client = HttpClient.newHttpClient()) {
            var r = client.send(
                    HttpRequest.newBuilder(URI.create(
                                    "http://" + at.getAddress().getHostAddress() + ":" + at.getPort() + path))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body());
        }
    }

    static String metrics() {
        try {
            return get(waypoint.metricsAddress(), "/metrics").body();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    static boolean hasPolicy(String name) {
        return waypoint.mesh().current().policies().policies().authorizationPolicies().stream()
                .anyMatch(p -> p.meta().name().equals(name));
    }

    @Test
    @Order(1)
    void readyOnlyOnceIstiodAndTheKubernetesApiHaveSynced() throws Exception {
        kube.down(); // the API server unreachable at start: istiod alone must not make the waypoint ready
        waypoint = ClusterWaypoint.start(
                settings(),
                ClusterWaypoint.Ports.ISTIO,
                c -> c,
                AccessLog.slf4j(),
                WatchLimits.DEFAULT.withBackoff(Duration.ofMillis(50), Duration.ofMillis(300)));
        await("istiod's view", () -> waypoint.xds().ready().isDone());
        var before = get(waypoint.readinessAddress(), "/healthz/ready");
        assertThat(before.status()).isEqualTo(503);
        assertThat(before.body()).contains("kubernetes");
        kube.up();
        waypoint.started().get(60, TimeUnit.SECONDS);
        assertThat(get(waypoint.readinessAddress(), "/healthz/ready").status()).isEqualTo(200);
        assertThat(waypoint.waypoint().hboneAddress().getAddress().getHostAddress())
                .isEqualTo("127.134.10.3");
        assertThat(plane.certificatesIssued())
                .as("its own certificate from istiod's CA")
                .isGreaterThanOrEqualTo(3);
        assertThat(plane.firstRequests()).anySatisfy(r -> assertThat(r.getNode().getId())
                .startsWith("router~127.134.10.3~shop-waypoint-7d9f.shop~"));
    }

    @Test
    @Order(2)
    void withNoPolicyTheRequestGoesThroughTheWaypointToTheService() throws Exception {
        var r = curl("/x");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).contains("hello from web, you asked for /x");
        assertThat(get(waypoint.metricsAddress(), "/metrics").body())
                .contains("istio_requests_total")
                .contains("reporter=\"waypoint\"")
                .contains("ambit_kube_synced");
    }

    @Test
    @Order(3)
    void anAuthorizationPolicyCreatedThroughTheApiDeniesAndDeletingItAllows() throws Exception {
        kube.apply(DENY_ADMIN);
        await("the policy at the waypoint", () -> hasPolicy("deny-admin"));
        var denied = curl("/admin");
        assertThat(denied.status()).isEqualTo(403);
        assertThat(denied.body()).contains("RBAC: access denied");
        assertThat(curl("/x").status()).isEqualTo(200);

        kube.delete("security.istio.io/v1", "AuthorizationPolicy", "shop", "deny-admin");
        await("the policy gone", () -> !hasPolicy("deny-admin"));
        assertThat(curl("/admin").status()).isEqualTo(200);
    }

    @Test
    @Order(4)
    void aMalformedObjectIsRefusedByNameAndItsTargetFailsClosedWhileTheOthersApply() throws Exception {
        kube.apply(MALFORMED);
        kube.apply(DENY_SECRET);
        await("the good policy", () -> hasPolicy("deny-secret"));
        await("the bad one refused", () -> !waypoint.kube().refused().isEmpty());
        assertThat(waypoint.kube().refused())
                .allSatisfy(e -> assertThat(e.object()).isEqualTo("AuthorizationPolicy shop/typo"))
                .anySatisfy(e -> assertThat(e.field()).isEqualTo("spec.rules[0].to[0].operation.pathz"));
        assertThat(curl("/secret").status()).isEqualTo(403);
        // a DENY the waypoint cannot read must not become "allow": its target (Service web) denies everything
        assertThat(curl("/x").status()).isEqualTo(403);
        assertThat(get(waypoint.metricsAddress(), "/metrics").body())
                .contains("ambit_kube_objects_rejected_total{kind=\"AuthorizationPolicy\"}");

        kube.delete("security.istio.io/v1", "AuthorizationPolicy", "shop", "typo");
        await("the refused one gone", () -> waypoint.kube().refused().isEmpty() && !hasPolicy("typo"));
        assertThat(curl("/x").status()).isEqualTo(200);
        assertThat(curl("/secret").status()).isEqualTo(403);
    }

    @Test
    @Order(5)
    void aRateLimitFromAmbitsCrdAnswers429() throws Exception {
        kube.apply(LIMIT);
        await("the limit at the waypoint", () -> waypoint.mesh()
                .current()
                .extension(io.ambit.waypoint.stages.RateLimitDocuments.RateLimitSet.class)
                .map(s -> !s.limits().isEmpty())
                .orElse(false));
        int first = curl("/x").status();
        int second = curl("/x").status();
        assertThat(first).isEqualTo(200);
        assertThat(second).isEqualTo(429);
        kube.delete("ambit.io/v1alpha1", "LocalRateLimit", "shop", "web-limit");
        await("the limit gone", () -> waypoint.mesh()
                .current()
                .extension(io.ambit.waypoint.stages.RateLimitDocuments.RateLimitSet.class)
                .map(s -> s.limits().isEmpty())
                .orElse(true));
        assertThat(curl("/x").status()).isEqualTo(200);
    }

    @Test
    @Order(6)
    void aWatchExpiredWith410ListsAgainAndMissesNoChange() throws Exception {
        int lists = kube.lists("authorizationpolicies");
        kube.down();
        kube.apply(DENY_ADMIN); // made while the waypoint could not watch, then compacted away
        kube.expireHistory();
        kube.up();
        await("a new list", () -> kube.lists("authorizationpolicies") > lists);
        await("the change made meanwhile", () -> hasPolicy("deny-admin"));
        assertThat(curl("/admin").status()).isEqualTo(403);
    }

    @Test
    @Order(7)
    void withTheApiServerDownTheLastPoliciesKeepServing() throws Exception {
        kube.down();
        await("the watches failing", () -> metrics().contains("ambit_kube_request_failures_total"));
        assertThat(curl("/admin").status()).isEqualTo(403);
        assertThat(curl("/secret").status()).isEqualTo(403);
        assertThat(curl("/x").status()).isEqualTo(200);
        assertThat(get(waypoint.readinessAddress(), "/healthz/ready").status())
                .as("still ready: the last good state serves")
                .isEqualTo(200);
        kube.delete("security.istio.io/v1", "AuthorizationPolicy", "shop", "deny-admin");
        kube.up();
        await("the change made while down", () -> !hasPolicy("deny-admin"));
        assertThat(curl("/admin").status()).isEqualTo(200);
    }

    @Test
    @Order(8)
    void whenItsServiceGetsANewVipTheWaypointServesUnderItAfterARestartOfItsListener() throws Exception {
        var before = waypoint.waypoint();
        Files.writeString(dir.resolve("mesh.yaml"), MESH.replace("127.134.11.3", "127.134.11.4"));
        trigger.fire();
        await("the listener restarted with the new VIP", () -> {
            var w = waypoint.waypoint();
            return w != null
                    && w != before
                    && w.ready()
                    && w.config().self().addresses().toString().contains("127.134.11.4");
        });
        await("the ztunnel routing to the new VIP", () -> nodeA.source().current().services().stream()
                .anyMatch(s -> s.waypoint() != null && s.waypoint().toString().contains("127.134.11.4")));
        var r = curl("/x");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("hello from web");
    }
}
