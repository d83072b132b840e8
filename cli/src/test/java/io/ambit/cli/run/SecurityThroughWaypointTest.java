package io.ambit.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.waypoint.local.LocalWaypoints;
import io.ambit.waypoint.local.WaypointDirectory;
import io.ambit.waypoint.telemetry.AccessLog;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.run.LocalMesh;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
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
 * What {@code ./ambit run} does with a mesh file whose waypoint has the article's security: the whole
 * request pipeline for real requests, in Istio's order (CUSTOM ext_authz → RequestAuthentication → DENY →
 * ALLOW → local rate limit → route). Real peers only: curl through the caller's ztunnel (SOCKS5), the
 * ztunnels and the waypoint of {@link LocalMesh} + {@link LocalWaypoints} (the calls {@code RunCommand}
 * makes), a JWKS served over HTTP, an ext_authz HTTP provider, and applications that echo what reached them.
 * Addresses: 127.99.0.0/16.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecurityThroughWaypointTest {
    static final String CLIENT = "127.99.1.1:15080";

    @TempDir
    static Path dir;

    static final List<AutoCloseable> opened = new ArrayList<>();
    static TestIssuer issuer;
    static ExtAuthzProvider provider;
    static Path file;
    static int deadPort;
    static LocalMesh mesh;

    /**
     * The shop: a client, a waypoint serving four services, their apps. {@code api} wants a JWT
     * (RequestAuthentication + a require-JWT ALLOW), {@code payments} asks an ext_authz provider about
     * writes, {@code ledger} asks one that is down, {@code search} has the article's EnvoyFilter limit.
     */
    static final String MESH = """
            mesh:
              rootNamespace: istio-system
              trustDomain: cluster.local
              extensionProviders:
              - name: ext-authz
                envoyExtAuthzHttp:
                  service: 127.99.9.1
                  port: PROVIDER_PORT
                  timeout: 2s
                  pathPrefix: /check
                  includeRequestHeadersInCheck: ["x-ext"]
                  headersToUpstreamOnAllow: ["x-ext-user"]
                  headersToDownstreamOnDeny: ["content-type", "set-cookie", "x-ext-reason"]
              - name: ext-authz-down
                envoyExtAuthzHttp: {service: 127.99.9.1, port: DEAD_PORT, timeout: 2s}
              - name: ext-authz-slow
                envoyExtAuthzHttp: {service: 127.99.9.1, port: PROVIDER_PORT, timeout: 300ms, pathPrefix: /slow}
            workloads:
            - {name: client, namespace: shop, serviceAccount: client, workloadIps: ["127.99.1.1"]}
            - name: shop-waypoint
              namespace: shop
              serviceAccount: shop-waypoint
              workloadIps: ["127.99.3.1"]
              labels: {gateway.networking.k8s.io/gateway-name: shop-waypoint}
            - {name: api-1, namespace: shop, serviceAccount: api, workloadIps: ["127.99.2.1"],
               services: {"shop/api.shop.svc.cluster.local": {80: 8080}}}
            - {name: payments-1, namespace: shop, serviceAccount: payments, workloadIps: ["127.99.2.2"],
               services: {"shop/payments.shop.svc.cluster.local": {80: 8080}}}
            - {name: search-1, namespace: shop, serviceAccount: search, workloadIps: ["127.99.2.3"],
               services: {"shop/search.shop.svc.cluster.local": {80: 8080}}}
            - {name: ledger-1, namespace: shop, serviceAccount: ledger, workloadIps: ["127.99.2.4"],
               services: {"shop/ledger.shop.svc.cluster.local": {80: 8080}}}
            - {name: reports-1, namespace: shop, serviceAccount: reports, workloadIps: ["127.99.2.5"],
               services: {"shop/reports.shop.svc.cluster.local": {80: 8080}}}
            - {name: archive-1, namespace: shop, serviceAccount: archive, workloadIps: ["127.99.2.6"],
               services: {"shop/archive.shop.svc.cluster.local": {80: 8080}}}
            services:
            - {name: api, namespace: shop, hostname: api.shop.svc.cluster.local, vips: ["/127.99.100.1"],
               ports: {80: 8080}, waypoint: {destination: {address: "/127.99.3.1"}}}
            - {name: payments, namespace: shop, hostname: payments.shop.svc.cluster.local, vips: ["/127.99.100.2"],
               ports: {80: 8080}, waypoint: {destination: {address: "/127.99.3.1"}}}
            - {name: search, namespace: shop, hostname: search.shop.svc.cluster.local, vips: ["/127.99.100.3"],
               ports: {80: 8080}, waypoint: {destination: {address: "/127.99.3.1"}}}
            - {name: ledger, namespace: shop, hostname: ledger.shop.svc.cluster.local, vips: ["/127.99.100.4"],
               ports: {80: 8080}, waypoint: {destination: {address: "/127.99.3.1"}}}
            - {name: reports, namespace: shop, hostname: reports.shop.svc.cluster.local, vips: ["/127.99.100.5"],
               ports: {80: 8080}, waypoint: {destination: {address: "/127.99.3.1"}}}
            - {name: archive, namespace: shop, hostname: archive.shop.svc.cluster.local, vips: ["/127.99.100.6"],
               ports: {80: 8080}, waypoint: {destination: {address: "/127.99.3.1"}}}
            ---
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {name: api-jwt, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: api}]
              jwtRules:
              - issuer: https://issuer.ambit.test
                jwksUri: JWKS_URI
                outputClaimToHeaders: [{header: x-jwt-sub, claim: sub}]
            ---
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {name: reports-jwt, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: reports}]
              jwtRules:
              - issuer: https://issuer.ambit.test
                jwksUri: http://127.99.9.1:DEAD_PORT/jwks.json
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: archive-ext-authz, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: archive}]
              action: CUSTOM
              provider: {name: ext-authz-slow}
              rules:
              - to: [{operation: {methods: ["GET"]}}]
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: api-require-jwt, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: api}]
              action: ALLOW
              rules:
              - from: [{source: {requestPrincipals: ["https://issuer.ambit.test/*"]}}]
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: payments-ext-authz, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: payments}]
              action: CUSTOM
              provider: {name: ext-authz}
              rules:
              - to: [{operation: {methods: ["POST", "PUT", "DELETE"]}}]
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: ledger-ext-authz, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: ledger}]
              action: CUSTOM
              provider: {name: ext-authz-down}
              rules:
              - to: [{operation: {methods: ["GET", "POST"]}}]
            ---
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata: {name: search-rate-limit, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: search}]
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
                        token_bucket:
                          max_tokens: SEARCH_TOKENS
                          tokens_per_fill: SEARCH_TOKENS
                          fill_interval: 3600s
                        filter_enabled:
                          runtime_key: local_rate_limit_enabled
                          default_value: {numerator: 100, denominator: HUNDRED}
                        filter_enforced:
                          runtime_key: local_rate_limit_enforced
                          default_value: {numerator: 100, denominator: HUNDRED}
                        response_headers_to_add:
                        - header: {key: x-local-rate-limit, value: "true"}
            """;

    static String meshFile(int searchTokens) {
        return MESH.replace("JWKS_URI", issuer.jwksUri())
                .replace("PROVIDER_PORT", Integer.toString(provider.port()))
                .replace("DEAD_PORT", Integer.toString(deadPort))
                .replace("SEARCH_TOKENS", Integer.toString(searchTokens));
    }

    @BeforeAll
    static void start() throws Exception {
        issuer = new TestIssuer("127.99.9.2");
        opened.add(issuer);
        provider = new ExtAuthzProvider("127.99.9.1");
        opened.add(provider);
        try (var s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.99.9.1"))) {
            deadPort = s.getLocalPort(); // free once closed, and nobody listens: a provider that is down
        }
        for (var app : List.of(
                "api:127.99.2.1",
                "payments:127.99.2.2",
                "search:127.99.2.3",
                "ledger:127.99.2.4",
                "reports:127.99.2.5",
                "archive:127.99.2.6")) {
            var parts = app.split(":");
            opened.add(new HeaderEchoApp(parts[1], 8080, parts[0]));
        }
        file = dir.resolve("mesh.yaml");
        Files.writeString(file, meshFile(3));
        // As RunCommand, but the apps are the echo servers above (no demo servers).
        var config = LocalMesh.Config.of(file, dir.resolve("ca")).toBuilder()
                .ports(Node.Ports.builder().admin(0).dns(0).build())
                .demos(false)
                .servedElsewhere(WaypointDirectory::isWaypoint)
                .build();
        mesh = LocalMesh.start(config);
        var waypoints = LocalWaypoints.start(
                mesh.source(),
                mesh.certificates(),
                mesh.transport(),
                mesh.loops(),
                AccessLog.slf4j(),
                LocalWaypoints.Options.all());
        mesh.closeAlongside(waypoints::close);
        assertThat(waypoints.waypoints()).hasSize(1);
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception e) {
                // keep closing
            }
        }
    }

    // ---- RequestAuthentication + the require-JWT ALLOW policy

    @Test
    void withoutATokenTheRequireJwtPolicyDenies() throws Exception {
        var r = Curl.via(CLIENT, "http://api.shop/items");
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).isEqualTo("RBAC: access denied");
    }

    @Test
    void aForgedTokenIs401WithWwwAuthenticate() throws Exception {
        var r = Curl.via(CLIENT, "-H", "authorization: Bearer " + issuer.forged("mallory"), "http://api.shop/items");
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.body()).isEqualTo("Jwt verification fails");
        assertThat(r.header("www-authenticate"))
                .isEqualTo("Bearer realm=\"http://api.shop/items\", error=\"invalid_token\"");
    }

    @Test
    void anExpiredTokenIs401WithEnvoysReason() throws Exception {
        var r = Curl.via(CLIENT, "-H", "authorization: Bearer " + issuer.expired("alice"), "http://api.shop/items");
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.body()).isEqualTo("Jwt is expired");
        assertThat(r.header("www-authenticate")).startsWith("Bearer realm=\"http://api.shop/items\"");
    }

    @Test
    void aGoodTokenPassesAndIsStrippedBeforeTheApp() throws Exception {
        var r = Curl.via(
                CLIENT,
                "-H",
                "authorization: Bearer " + issuer.token("alice"),
                "-H",
                "x-jwt-sub: spoofed",
                "http://api.shop/items");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body())
                .contains("app: api")
                .as("the token is not forwarded (forwardOriginalToken: false)")
                .doesNotContain("authorization")
                .as("the claim header comes from the token, the client's copy is dropped")
                .contains("x-jwt-sub: alice")
                .doesNotContain("spoofed");
    }

    @Test
    void aTokenInTheQueryIsVerifiedAndLeavesTheUpstreamPath() throws Exception {
        var r = Curl.via(CLIENT, "http://api.shop/items?page=2&access_token=" + issuer.token("bob"));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).contains("request: GET /items?page=2\n").contains("x-jwt-sub: bob");
    }

    @Test
    void aGrpcCallDeniedByPolicyGetsGrpcStatus7() throws Exception {
        var r = Curl.via(
                CLIENT,
                "--http2-prior-knowledge",
                "-X",
                "POST",
                "-H",
                "content-type: application/grpc",
                "-H",
                "te: trailers",
                "--data-binary",
                "@/dev/null",
                "http://api.shop/shop.Api/List");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("grpc-status")).isEqualTo("7");
        assertThat(r.header("grpc-message")).isEqualTo("RBAC: access denied");
    }

    @Test
    void aGrpcCallWithABadTokenGetsGrpcStatus16() throws Exception {
        var r = Curl.via(
                CLIENT,
                "--http2-prior-knowledge",
                "-X",
                "POST",
                "-H",
                "content-type: application/grpc",
                "-H",
                "authorization: Bearer " + issuer.forged("mallory"),
                "--data-binary",
                "@/dev/null",
                "http://api.shop/shop.Api/List");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("grpc-status")).isEqualTo("16");
    }

    @Test
    void whenTheJwksCannotBeFetchedEveryTokenIsRefused() throws Exception {
        var r = Curl.via(CLIENT, "-H", "authorization: Bearer " + issuer.token("alice"), "http://reports.shop/q");
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.body()).isEqualTo("Jwks remote fetch is failed");
        assertThat(r.body()).doesNotContain("app: reports");
    }

    // ---- CUSTOM ext_authz

    @Test
    void theProviderAllowsAndItsHeaderReachesTheApp() throws Exception {
        int before = provider.checks.size();
        var r = Curl.via(CLIENT, "-X", "POST", "-d", "{}", "http://payments.shop/ignored");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).contains("app: payments").contains("x-ext-user: alice");
        assertThat(provider.checks.subList(before, provider.checks.size()))
                .as("checked at pathPrefix + path")
                .containsExactly("POST /check/ignored");
    }

    @Test
    void theProvidersDenialReachesTheClientWithItsStatusBodyAndAllowedHeaders() throws Exception {
        var r = Curl.via(CLIENT, "-X", "POST", "-H", "x-ext: deny", "-d", "{}", "http://payments.shop/charge");
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).isEqualTo("denied by the ext-authz provider\n");
        assertThat(r.all("set-cookie")).containsExactly("session=gone; Path=/", "tracking=off; Path=/");
        assertThat(r.header("x-ext-reason")).isEqualTo("no-entry");
        assertThat(r.header("x-internal-secret"))
                .as("not in headersToDownstreamOnDeny")
                .isNull();
    }

    @Test
    void aRequestNoCustomRuleMatchesIsNotSentToTheProvider() throws Exception {
        int before = provider.checks.size();
        var r = Curl.via(CLIENT, "http://payments.shop/status");
        assertThat(r.status()).isEqualTo(200);
        assertThat(provider.checks).hasSize(before);
    }

    @Test
    void aProviderThatIsDownFailsClosed() throws Exception {
        var r = Curl.via(CLIENT, "http://ledger.shop/entries");
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).doesNotContain("app: ledger");
    }

    @Test
    void aProviderSlowerThanItsTimeoutFailsClosed() throws Exception {
        var r = Curl.via(CLIENT, "http://archive.shop/old");
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).doesNotContain("app: archive");
        assertThat(provider.checks).contains("GET /slow/old");
    }

    @Test
    void denialsByTheProviderAreCountedWithTheirResponseFlag() throws Exception {
        assertThat(Curl.via(CLIENT, "-X", "POST", "-H", "x-ext: deny", "http://payments.shop/x")
                        .status())
                .isEqualTo(403);
        assertThat(requestsTotal()).anySatisfy(l -> assertThat(l)
                .contains("response_code=\"403\"")
                .contains("response_flags=\"UAEX\"")
                .contains("destination_service_name=\"payments\""));
    }

    static List<String> requestsTotal() throws Exception {
        var p = new ProcessBuilder("curl", "-s", "--max-time", "10", "http://127.99.3.1:15020/metrics").start();
        var text = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return text.lines().filter(l -> l.startsWith("istio_requests_total{")).toList();
    }

    // ---- local rate limit (the article's EnvoyFilter), then a live edit

    @Test
    @Order(1)
    void theRequestAfterTheBucketIsEmptyIs429() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertThat(Curl.via(CLIENT, "http://search.shop/q").status())
                    .as("request %d", i + 1)
                    .isEqualTo(200);
        }
        var r = Curl.via(CLIENT, "http://search.shop/q");
        assertThat(r.status()).isEqualTo(429);
        assertThat(r.body()).isEqualTo("local_rate_limited");
        assertThat(r.header("x-local-rate-limit"))
                .as("the limit's response_headers_to_add")
                .isEqualTo("true");
        assertThat(r.header("x-ratelimit-limited")).as("not Envoy's").isNull();
        assertThat(requestsTotal()).anySatisfy(l -> assertThat(l)
                .contains("response_code=\"429\"")
                .contains("response_flags=\"RL\"")
                .contains("destination_service_name=\"search\""));
    }

    @Test
    @Order(2)
    void anEditOfTheLimitAppliesWithoutARestart() throws Exception {
        var published = new CountDownLatch(1);
        mesh.source().addListener(new MeshSource.Listener() {
            @Override
            public void updated(MeshState state) {
                published.countDown();
            }
        });
        Files.writeString(file, meshFile(5));
        assertThat(published.await(20, TimeUnit.SECONDS))
                .as("the edit is published")
                .isTrue();
        // The waypoint applied it before any later listener heard of it: a new limit, a full bucket of 5.
        for (int i = 0; i < 5; i++) {
            assertThat(Curl.via(CLIENT, "http://search.shop/q").status())
                    .as("request %d", i + 1)
                    .isEqualTo(200);
        }
        assertThat(Curl.via(CLIENT, "http://search.shop/q").status()).isEqualTo(429);
    }

    @Test
    @Order(3)
    void aBrokenLimitIsRefusedWithItsLineAndTheLastGoodOneKeepsServing() throws Exception {
        var rejected = new CountDownLatch(1);
        var errors = new ArrayList<String>();
        mesh.source().addListener(new MeshSource.Listener() {
            @Override
            public void updated(MeshState state) {}

            @Override
            public void rejected(List<io.ambit.policy.load.LoadError> problems) {
                problems.forEach(p -> errors.add(p.toString()));
                rejected.countDown();
            }
        });
        Files.writeString(file, meshFile(5).replace("fill_interval: 3600s", "fill_interval: 10ms"));
        assertThat(rejected.await(20, TimeUnit.SECONDS))
                .as("the edit is refused")
                .isTrue();
        assertThat(errors).anySatisfy(e -> assertThat(e)
                .contains(file.toString() + ":")
                .contains("EnvoyFilter shop/search-rate-limit")
                .contains("fill_interval"));
        assertThat(Curl.via(CLIENT, "http://search.shop/q").status())
                .as("the bucket of the last good limit is still empty")
                .isEqualTo(429);
    }
}
