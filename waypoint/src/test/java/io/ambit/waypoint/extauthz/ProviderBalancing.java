package io.ambit.waypoint.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.waypoint.stages.SecureMesh;
import io.ambit.waypoint.testing.TestNet;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The scenario both provider-balancing tests run, whatever the provider's protocol: an ext_authz provider
 * whose mesh service has two endpoints ({@code NET.31}, {@code NET.32}, port 9000), each behind its own HBONE
 * node; checks must spread over both, stop reaching the second when it leaves the service, and reach it again
 * when it comes back. The caller starts the two providers (counting their checks) before {@link #start}.
 */
final class ProviderBalancing implements AutoCloseable {
    static final SpiffeId CLIENT = new SpiffeId("cluster.local", "shop", "client");
    static final SpiffeId APP = new SpiffeId("cluster.local", "shop", "app");
    static final SpiffeId AUTHZ = new SpiffeId("cluster.local", "shop", "ext-authz");

    private static final String MESH = """
            mesh:
              rootNamespace: istio-system
              trustDomain: cluster.local
              extensionProviders:
              - name: authz
                PROVIDER_KIND: {service: ext-authz.shop.svc.cluster.local, port: 8000, timeout: 10s}
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
              provider: {name: authz}
              rules:
              - to: [{operation: {methods: ["GET"]}}]
            """;

    private static final String IN_SERVICE = "services: {\"shop/ext-authz.shop.svc.cluster.local\": {8000: 9000}}";
    private static final String OUT_OF_SERVICE = "services: {}";

    private final SecureMesh mesh;
    private final String providerKind;
    private final InetSocketAddress via;
    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private ProviderBalancing(SecureMesh mesh, String providerKind, InetSocketAddress via) {
        this.mesh = mesh;
        this.providerKind = providerKind;
        this.via = via;
    }

    /** The provider's address on {@code subnet} (logical, see {@link TestNet}): {@code endpoint} 1 or 2. */
    static InetSocketAddress providerAddress(int subnet, int endpoint) {
        return new InetSocketAddress(TestNet.ip("127.98." + subnet + "." + (30 + endpoint)), 9000);
    }

    /** The mesh on 127.98.{@code subnet}.0/24 with the provider declared as {@code providerKind}. */
    static ProviderBalancing start(int subnet, String providerKind) throws Exception {
        SecureMesh mesh = SecureMesh.start(
                subnet,
                yaml(providerKind, IN_SERVICE),
                Map.of("21", APP),
                Map.of(
                        "31", new SecureMesh.Node(AUTHZ, r -> {}),
                        "32", new SecureMesh.Node(AUTHZ, r -> {})));
        var via = mesh.clientPort(CLIENT, "10", new InetSocketAddress(mesh.ip("100"), 80));
        return new ProviderBalancing(mesh, providerKind, via);
    }

    private static String yaml(String providerKind, String secondServices) {
        return MESH.replace("PROVIDER_KIND", providerKind).replace("SECOND_SERVICES", secondServices);
    }

    /** The scenario; {@code first} and {@code second} count the checks each endpoint got. */
    void checksSpreadAndFollowTheMesh(AtomicInteger first, AtomicInteger second) throws Exception {
        BooleanSupplier bothChecked = () -> first.get() > 0 && second.get() > 0;
        requestUntil(bothChecked, 40, "both endpoints checked", first, second);
        int a = first.get();
        int b = second.get();
        for (int i = 0; i < 20; i++) {
            request();
        }
        assertThat(first.get() - a).as("checks on the first endpoint of 20").isBetween(5, 15);
        assertThat(second.get() - b).as("checks on the second endpoint of 20").isBetween(5, 15);

        // authz-2 leaves the service: once the waypoint has seen it, no check goes there any more.
        mesh.mesh.set(yaml(providerKind, OUT_OF_SERVICE).replace("NET", mesh.net));
        // Round robin over two would hit it every other check: four in a row without it means it is gone.
        int[] seen = {second.get(), 0};
        requestUntil(
                () -> {
                    seen[1] = second.get() == seen[0] ? seen[1] + 1 : 0;
                    seen[0] = second.get();
                    return seen[1] >= 4;
                },
                40,
                "checks stop reaching the endpoint that left",
                first,
                second);
        int still = second.get();
        for (int i = 0; i < 10; i++) {
            request();
        }
        assertThat(second.get())
                .as("no check on the endpoint that left the service")
                .isEqualTo(still);

        // It comes back: checks reach it again.
        mesh.mesh.set(yaml(providerKind, IN_SERVICE).replace("NET", mesh.net));
        requestUntil(() -> second.get() > still, 40, "checks reach the endpoint that came back", first, second);
    }

    /** One checked request; the provider allows it, so the app answers 200. */
    private void request() throws Exception {
        var r = client.send(
                HttpRequest.newBuilder(URI.create(
                                "http://" + via.getAddress().getHostAddress() + ":" + via.getPort() + "/checked"))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    /** Requests until {@code done} holds, at most {@code max} of them. */
    private void requestUntil(BooleanSupplier done, int max, String what, AtomicInteger first, AtomicInteger second)
            throws Exception {
        for (int i = 1; i <= max; i++) {
            request();
            if (done.getAsBoolean()) {
                return;
            }
        }
        throw new AssertionError("not within " + max + " requests: " + what + " (checks: first " + first.get()
                + ", second " + second.get() + ")");
    }

    @Override
    public void close() throws Exception {
        mesh.close();
        client.close();
    }
}
