package io.ambit.waypoint.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.waypoint.stages.SecureMesh;
import io.ambit.waypoint.testing.NoLeaks;
import io.ambit.waypoint.testing.TestNet;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An HTTP ext_authz provider whose mesh service has two endpoints, each a real HTTP server (the JDK's)
 * behind its own HBONE node: the waypoint's checks are spread over both per check, not per pooled
 * connection (a steady stream of checks reusing one idle connection would all land on one endpoint), and
 * follow the mesh when an endpoint leaves the service and when it comes back. Clients are the JDK's HTTP
 * client through the client hop. Addresses: 127.98.8.0/24 (logical, see {@link TestNet}).
 */
@ExtendWith(NoLeaks.class)
class HttpProviderBalancingTest {
    static final SpiffeId CLIENT = new SpiffeId("cluster.local", "shop", "client");
    static final SpiffeId APP = new SpiffeId("cluster.local", "shop", "app");
    static final SpiffeId AUTHZ = new SpiffeId("cluster.local", "shop", "ext-authz");

    static final String MESH = """
            mesh:
              rootNamespace: istio-system
              trustDomain: cluster.local
              extensionProviders:
              - name: http-authz
                envoyExtAuthzHttp: {service: ext-authz.shop.svc.cluster.local, port: 8000, timeout: 10s}
            workloads:
            - {name: client, namespace: shop, serviceAccount: client, workloadIps: ["NET.10"]}
            - name: shop-waypoint
              namespace: shop
              serviceAccount: shop-waypoint
              workloadIps: ["NET.1"]
              labels: {gateway.networking.k8s.io/gateway-name: shop-waypoint}
            - name: app-1
              namespace: shop
              serviceAccount: app
              workloadIps: ["NET.21"]
              services: {"shop/orders.shop.svc.cluster.local": {80: 8080}}
            - {name: authz-1, namespace: shop, serviceAccount: ext-authz, workloadIps: ["NET.31"],
               services: {"shop/ext-authz.shop.svc.cluster.local": {8000: 9000}}}
            - {name: authz-2, namespace: shop, serviceAccount: ext-authz, workloadIps: ["NET.32"],
               SECOND_SERVICES}
            services:
            - {name: orders, namespace: shop, hostname: orders.shop.svc.cluster.local, vips: ["/NET.100"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            - {name: ext-authz, namespace: shop, hostname: ext-authz.shop.svc.cluster.local, vips: ["/NET.110"],
               ports: {8000: 9000}}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-ext-authz, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: orders}]
              action: CUSTOM
              provider: {name: http-authz}
              rules:
              - to: [{operation: {methods: ["GET"]}}]
            """;

    static final String IN_SERVICE = "services: {\"shop/ext-authz.shop.svc.cluster.local\": {8000: 9000}}";
    static final String OUT_OF_SERVICE = "services: {}";

    static SecureMesh mesh;
    static AuthzHttpServer one;
    static AuthzHttpServer two;
    static final AtomicInteger first = new AtomicInteger();
    static final AtomicInteger second = new AtomicInteger();
    static InetSocketAddress via;
    static final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        one = authz("127.98.8.31", first);
        two = authz("127.98.8.32", second);
        mesh = SecureMesh.start(
                8,
                yaml(IN_SERVICE),
                Map.of("21", APP),
                Map.of(
                        "31", new SecureMesh.Node(AUTHZ, r -> {}),
                        "32", new SecureMesh.Node(AUTHZ, r -> {})));
        via = mesh.clientPort(CLIENT, "10", new InetSocketAddress(mesh.ip("100"), 80));
    }

    static String yaml(String secondServices) {
        return MESH.replace("SECOND_SERVICES", secondServices);
    }

    /** A real provider that allows everything and counts the checks it gets. */
    static AuthzHttpServer authz(String logicalIp, AtomicInteger checks) throws Exception {
        var server = new AuthzHttpServer(TestNet.ip(logicalIp), 9000);
        server.respond(r -> {
            checks.incrementAndGet();
            return AuthzHttpServer.Reply.of(200, "");
        });
        return server;
    }

    @AfterAll
    static void stop() throws Exception {
        if (mesh != null) {
            mesh.close();
        }
        for (var s : new AuthzHttpServer[] {one, two}) {
            if (s != null) {
                s.close();
            }
        }
        client.close();
    }

    /** One checked request; the provider allows it, so the app answers 200. */
    static void request() throws Exception {
        var r = client.send(
                HttpRequest.newBuilder(URI.create(
                                "http://" + via.getAddress().getHostAddress() + ":" + via.getPort() + "/checked"))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    /** Requests until {@code done} holds, at most {@code max} of them; how many it took. */
    static int requestUntil(java.util.function.BooleanSupplier done, int max, String what) throws Exception {
        for (int i = 1; i <= max; i++) {
            request();
            if (done.getAsBoolean()) {
                return i;
            }
        }
        throw new AssertionError("not within " + max + " requests: " + what + " (checks: first " + first.get()
                + ", second " + second.get() + ")");
    }

    @Test
    void checksAreSpreadOverTheProvidersEndpointsAndFollowTheMesh() throws Exception {
        // Both endpoints get checks (each check picks its endpoint, then a connection to it).
        requestUntil(() -> first.get() > 0 && second.get() > 0, 40, "both endpoints checked");
        int a = first.get();
        int b = second.get();
        for (int i = 0; i < 20; i++) {
            request();
        }
        assertThat(first.get() - a).as("checks on the first endpoint of 20").isBetween(5, 15);
        assertThat(second.get() - b).as("checks on the second endpoint of 20").isBetween(5, 15);

        // authz-2 leaves the service: once the waypoint has seen it, no check goes there any more.
        mesh.mesh.set(yaml(OUT_OF_SERVICE).replace("NET", mesh.net));
        // Round robin over two would hit it every other check: four in a row without it means it is gone.
        int[] seen = {second.get(), 0};
        requestUntil(
                () -> {
                    seen[1] = second.get() == seen[0] ? seen[1] + 1 : 0;
                    seen[0] = second.get();
                    return seen[1] >= 4;
                },
                40,
                "checks stop reaching the endpoint that left");
        int still = second.get();
        for (int i = 0; i < 10; i++) {
            request();
        }
        assertThat(second.get())
                .as("no check on the endpoint that left the service")
                .isEqualTo(still);

        // It comes back: checks reach it again.
        mesh.mesh.set(yaml(IN_SERVICE).replace("NET", mesh.net));
        requestUntil(() -> second.get() > still, 40, "checks reach the endpoint that came back");
    }
}
