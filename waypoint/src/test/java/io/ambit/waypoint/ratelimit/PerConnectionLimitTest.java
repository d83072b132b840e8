package io.ambit.waypoint.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.waypoint.stages.SecureMesh;
import io.ambit.waypoint.testing.Processes;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The article's EnvoyFilter with {@code local_rate_limit_per_downstream_connection: true}: each downstream
 * connection (each HBONE tunnel into the waypoint) has its own bucket, as each Envoy downstream connection
 * has; without it one bucket serves them all. Real peers: curl sending several requests on one kept-alive
 * connection, one curl per connection, each connection its own HBONE tunnel from the client's side.
 * Addresses: 127.98.3.0/24.
 */
@ExtendWith(NoLeaks.class)
class PerConnectionLimitTest {
    static final SpiffeId CLIENT = new SpiffeId("cluster.local", "shop", "client");
    static final SpiffeId APP = new SpiffeId("cluster.local", "shop", "app");

    static final String MESH = """
            mesh:
              rootNamespace: istio-system
              trustDomain: cluster.local
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
              services:
                "shop/search.shop.svc.cluster.local": {80: 8080}
                "shop/shared.shop.svc.cluster.local": {80: 8080}
            services:
            - {name: search, namespace: shop, hostname: search.shop.svc.cluster.local, vips: ["/NET.100"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            - {name: shared, namespace: shop, hostname: shared.shop.svc.cluster.local, vips: ["/NET.101"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            ---
            LIMIT_search_true
            ---
            LIMIT_shared_false
            """;

    static final String LIMIT = """
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata: {name: SERVICE-rate-limit, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: SERVICE}]
              configPatches:
              - applyTo: HTTP_FILTER
                match:
                  context: SIDECAR_INBOUND
                  listener:
                    filterChain:
                      filter:
                        name: "envoy.filters.network.http_connection_manager"
                patch:
                  operation: INSERT_BEFORE
                  value:
                    name: envoy.filters.http.local_ratelimit
                    typed_config:
                      "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                      type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                      value:
                        stat_prefix: http_local_rate_limiter
                        local_rate_limit_per_downstream_connection: PER_CONNECTION
                        token_bucket:
                          max_tokens: 2
                          tokens_per_fill: 2
                          fill_interval: 3600s
                        filter_enabled:
                          runtime_key: local_rate_limit_enabled
                          default_value: {numerator: 100, denominator: HUNDRED}
                        filter_enforced:
                          runtime_key: local_rate_limit_enforced
                          default_value: {numerator: 100, denominator: HUNDRED}
            """;

    static SecureMesh mesh;
    static InetSocketAddress search;
    static InetSocketAddress shared;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Processes.available("curl"), "curl is installed");
        String yaml = MESH.replace(
                        "LIMIT_search_true", LIMIT.replace("SERVICE", "search").replace("PER_CONNECTION", "true"))
                .replace(
                        "LIMIT_shared_false", LIMIT.replace("SERVICE", "shared").replace("PER_CONNECTION", "false"));
        mesh = SecureMesh.start(3, yaml, Map.of("21", APP));
        search = mesh.clientPort(CLIENT, "10", new InetSocketAddress(mesh.ip("100"), 80));
        shared = mesh.clientPort(CLIENT, "10", new InetSocketAddress(mesh.ip("101"), 80));
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    /**
     * Three requests on one connection (curl reuses it for every URL of one run); the status of each, and
     * how many connections curl opened.
     */
    static List<String> threeOnOneConnection(InetSocketAddress via) throws Exception {
        String url = "http://" + via.getAddress().getHostAddress() + ":" + via.getPort() + "/q";
        var r = Processes.run(
                List.of(
                        "curl",
                        "-sS",
                        "-m",
                        "20",
                        "-w",
                        "%{http_code} %{num_connects}\n",
                        "-o",
                        "/dev/null",
                        url,
                        "-o",
                        "/dev/null",
                        url,
                        "-o",
                        "/dev/null",
                        url),
                Duration.ofSeconds(40));
        assertThat(r.exit()).as(r.toString()).isZero();
        var lines = new ArrayList<>(r.out().lines().toList());
        assertThat(lines).as("three answers").hasSize(3);
        assertThat(lines.stream()
                        .mapToInt(l -> Integer.parseInt(l.split(" ")[1]))
                        .sum())
                .as("one connection for the three requests: %s", lines)
                .isEqualTo(1);
        return lines.stream().map(l -> l.split(" ")[0]).toList();
    }

    @Test
    void eachConnectionHasItsOwnBucket() throws Exception {
        assertThat(threeOnOneConnection(search)).as("first tunnel").containsExactly("200", "200", "429");
        assertThat(threeOnOneConnection(search))
                .as("second tunnel: a full bucket of its own")
                .containsExactly("200", "200", "429");
    }

    @Test
    void withoutItEveryConnectionTakesFromOneBucket() throws Exception {
        assertThat(threeOnOneConnection(shared)).as("first tunnel").containsExactly("200", "200", "429");
        assertThat(threeOnOneConnection(shared))
                .as("second tunnel: the same empty bucket")
                .containsExactly("429", "429", "429");
    }
}
