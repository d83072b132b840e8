package io.ambit.waypoint.extauthz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.server.ConnectRequest;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.waypoint.stages.SecureMesh;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.TestNet;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An ext_authz provider that is itself a mesh workload is called as Istio's waypoint calls it: over HBONE
 * to the provider's node, with the waypoint's certificate, to the workload's target port — its hostname
 * does not even resolve in DNS, so there is no other way to reach it. A provider workload outside the mesh
 * (protocol TCP) is called in plaintext at its own address; a node that cannot prove the provider's
 * identity gets no check (fail closed). Real peers: curl through HBONE, the waypoint of {@code ambit run},
 * HBONE nodes, JDK HTTP servers as providers. Addresses: 127.98.2.0/24.
 */
@ExtendWith(NoLeaks.class)
class MeshProviderTest {
    static final SpiffeId CLIENT = new SpiffeId("cluster.local", "shop", "client");
    static final SpiffeId APP = new SpiffeId("cluster.local", "shop", "app");
    static final SpiffeId WAYPOINT = new SpiffeId("cluster.local", "shop", "shop-waypoint");
    static final SpiffeId AUTHZ = new SpiffeId("cluster.local", "shop", "ext-authz");
    static final SpiffeId MALLORY = new SpiffeId("cluster.local", "shop", "mallory");

    static final String MESH = """
            mesh:
              rootNamespace: istio-system
              trustDomain: cluster.local
              extensionProviders:
              - name: mesh-authz
                envoyExtAuthzHttp:
                  service: shop/ext-authz.shop.svc.cluster.local
                  port: 8000
                  timeout: 10s
                  pathPrefix: /check
                  includeRequestHeadersInCheck: [x-verdict]
                  headersToUpstreamOnAllow: [x-checked-by]
              - name: plain-authz
                envoyExtAuthzHttp:
                  includeRequestHeadersInCheck: [x-verdict]
                  service: ext-authz-plain.shop.svc.cluster.local
                  port: 8000
                  timeout: 10s
              - name: mesh-grpc
                envoyExtAuthzGrpc:
                  service: ext-authz-grpc.shop.svc.cluster.local
                  port: 8000
                  timeout: 10s
              - name: impostor-authz
                envoyExtAuthzHttp:
                  service: ext-authz-impostor.shop.svc.cluster.local
                  port: 8000
                  timeout: 10s
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
                "shop/orders.shop.svc.cluster.local": {80: 8080}
                "shop/billing.shop.svc.cluster.local": {80: 8080}
                "shop/ledger.shop.svc.cluster.local": {80: 8080}
                "shop/payments.shop.svc.cluster.local": {80: 8080}
            - {name: authz-1, namespace: shop, serviceAccount: ext-authz, workloadIps: ["NET.31"],
               services: {"shop/ext-authz.shop.svc.cluster.local": {8000: 9000}}}
            - {name: authz-plain, namespace: shop, serviceAccount: ext-authz, workloadIps: ["NET.32"], protocol: TCP,
               services: {"shop/ext-authz-plain.shop.svc.cluster.local": {8000: 9000}}}
            - {name: authz-grpc-1, namespace: shop, serviceAccount: ext-authz, workloadIps: ["NET.34"],
               services: {"shop/ext-authz-grpc.shop.svc.cluster.local": {8000: 9000}}}
            - {name: authz-2, namespace: shop, serviceAccount: ext-authz, workloadIps: ["NET.33"],
               services: {"shop/ext-authz-impostor.shop.svc.cluster.local": {8000: 9000}}}
            services:
            - {name: orders, namespace: shop, hostname: orders.shop.svc.cluster.local, vips: ["/NET.100"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            - {name: billing, namespace: shop, hostname: billing.shop.svc.cluster.local, vips: ["/NET.101"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            - {name: ledger, namespace: shop, hostname: ledger.shop.svc.cluster.local, vips: ["/NET.102"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            - {name: payments, namespace: shop, hostname: payments.shop.svc.cluster.local, vips: ["/NET.103"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            - {name: ext-authz-grpc, namespace: shop, hostname: ext-authz-grpc.shop.svc.cluster.local,
               vips: ["/NET.113"], ports: {8000: 9000}}
            - {name: ext-authz, namespace: shop, hostname: ext-authz.shop.svc.cluster.local, vips: ["/NET.110"],
               ports: {8000: 9000}}
            - {name: ext-authz-plain, namespace: shop, hostname: ext-authz-plain.shop.svc.cluster.local,
               vips: ["/NET.111"], ports: {8000: 9000}}
            - {name: ext-authz-impostor, namespace: shop, hostname: ext-authz-impostor.shop.svc.cluster.local,
               vips: ["/NET.112"], ports: {8000: 9000}}
            ---
            CUSTOM_POLICIES
            """;

    static final String CUSTOM = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: SERVICE-ext-authz, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: SERVICE}]
              action: CUSTOM
              provider: {name: PROVIDER}
              rules:
              - to: [{operation: {methods: ["GET"]}}]
            """;

    static AuthzHttpServer inMesh;
    static AuthzHttpServer plain;
    static AuthzHttpServer impostor;
    static SecureMesh mesh;
    static final List<ConnectRequest> connects = new CopyOnWriteArrayList<>();
    static final List<ConnectRequest> impostorConnects = new CopyOnWriteArrayList<>();
    static final List<ConnectRequest> grpcConnects = new CopyOnWriteArrayList<>();
    static final List<io.ambit.proto.envoy.service.auth.v3.CheckRequest> grpcChecks = new CopyOnWriteArrayList<>();
    static io.grpc.Server grpc;
    static final Map<String, InetSocketAddress> via = new java.util.HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Processes.available("curl"), "curl is installed");
        // Each provider listens on its workload's target port; the mesh ones only behind their HBONE node.
        inMesh = new AuthzHttpServer(TestNet.ip("127.98.2.31"), 9000);
        plain = new AuthzHttpServer(TestNet.ip("127.98.2.32"), 9000);
        impostor = new AuthzHttpServer(TestNet.ip("127.98.2.33"), 9000);
        for (var server : List.of(inMesh, plain)) {
            server.respond(r -> "deny".equals(r.header("x-verdict"))
                    ? AuthzHttpServer.Reply.of(403, "denied by the provider in the mesh")
                    : AuthzHttpServer.Reply.of(200, "", "x-checked-by", "provider-" + server.host()));
        }
        var policies = new ArrayList<String>();
        for (String[] sp : new String[][] {
            {"orders", "mesh-authz"},
            {"billing", "plain-authz"},
            {"ledger", "impostor-authz"},
            {"payments", "mesh-grpc"}
        }) {
            policies.add(CUSTOM.replace("SERVICE", sp[0]).replace("PROVIDER", sp[1]));
        }
        grpc = io.grpc.netty.NettyServerBuilder.forAddress(new InetSocketAddress(TestNet.ip("127.98.2.34"), 9000))
                .addService(new io.ambit.proto.envoy.service.auth.v3.AuthorizationGrpc.AuthorizationImplBase() {
                    @Override
                    public void check(
                            io.ambit.proto.envoy.service.auth.v3.CheckRequest request,
                            io.grpc.stub.StreamObserver<io.ambit.proto.envoy.service.auth.v3.CheckResponse> out) {
                        grpcChecks.add(request);
                        boolean deny = "deny"
                                .equals(request.getAttributes()
                                        .getRequest()
                                        .getHttp()
                                        .getHeadersMap()
                                        .get("x-verdict"));
                        out.onNext(io.ambit.proto.envoy.service.auth.v3.CheckResponse.newBuilder()
                                .setStatus(com.google.rpc.Status.newBuilder().setCode(deny ? 7 : 0))
                                .build());
                        out.onCompleted();
                    }
                })
                .build()
                .start();
        // The providers' nodes first: grpc-java dials its provider as soon as the waypoint starts.
        mesh = SecureMesh.start(
                2,
                MESH.replace("CUSTOM_POLICIES", String.join("---\n", policies)),
                Map.of("21", APP),
                Map.of(
                        "31", new SecureMesh.Node(AUTHZ, connects::add),
                        "34", new SecureMesh.Node(AUTHZ, grpcConnects::add),
                        // At a provider's address, a node holding another identity's certificate.
                        "33", new SecureMesh.Node(MALLORY, impostorConnects::add)));
        String[] services = {"orders", "billing", "ledger", "payments"};
        for (int i = 0; i < services.length; i++) {
            via.put(
                    services[i],
                    mesh.clientPort(CLIENT, "10", new InetSocketAddress(mesh.ip(Integer.toString(100 + i)), 80)));
        }
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
        if (grpc != null) {
            grpc.shutdownNow();
        }
        for (var s : new AuthzHttpServer[] {inMesh, plain, impostor}) {
            if (s != null) {
                s.close();
            }
        }
    }

    @BeforeEach
    void clear() {
        for (var s : List.of(inMesh, plain, impostor)) {
            s.received.clear();
        }
        mesh.app("21").seen.clear();
    }

    static SecureMesh.Answer curl(String service, String... args) throws Exception {
        return SecureMesh.curl(via.get(service), "/items", args);
    }

    @Test
    void aProviderInTheMeshIsCheckedOverHboneWithTheWaypointsIdentity() throws Exception {
        var r = curl("orders");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(inMesh.received).hasSize(1);
        assertThat(inMesh.last().uri()).isEqualTo("/check/items");
        // Checks share a kept-alive tunnel, so the CONNECT may have come for an earlier test's check.
        assertThat(connects).as("checks came through the provider's node").isNotEmpty();
        assertThat(connects).allSatisfy(connect -> {
            assertThat(connect.peer().identity()).as("mTLS as the waypoint").isEqualTo(WAYPOINT);
            assertThat(connect.authority().port())
                    .as("the workload's target port of service port 8000")
                    .isEqualTo(9000);
        });
        assertThat(mesh.app("21")
                        .seen
                        .poll(20, java.util.concurrent.TimeUnit.SECONDS)
                        .header("x-checked-by"))
                .isEqualTo("provider-" + TestNet.ip("127.98.2.31"));
    }

    @Test
    void theMeshProvidersDenialReachesTheClient() throws Exception {
        var r = curl("orders", "-H", "x-verdict: deny");
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).isEqualTo("denied by the provider in the mesh");
        assertThat(mesh.app("21").seen).isEmpty();
    }

    @Test
    void aProviderWorkloadOutsideTheMeshIsCalledInPlaintextAtItsAddress() throws Exception {
        var r = curl("billing");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(plain.received).hasSize(1);
        assertThat(connects).allSatisfy(c -> assertThat(c.authority().address().getHostAddress())
                .isEqualTo(TestNet.ip("127.98.2.31")));
    }

    @Test
    void aGrpcProviderInTheMeshIsCheckedOverHboneToo() throws Exception {
        var allowed = curl("payments");
        assertThat(allowed.status()).as(allowed.body()).isEqualTo(200);
        assertThat(grpcChecks).hasSize(1);
        assertThat(grpcChecks.getFirst().getAttributes().getRequest().getHttp().getPath())
                .isEqualTo("/items");
        assertThat(grpcConnects)
                .as("grpc-java's connection came through the provider's node")
                .isNotEmpty();
        assertThat(grpcConnects).allSatisfy(connect -> {
            assertThat(connect.peer().identity()).isEqualTo(WAYPOINT);
            assertThat(connect.authority().port()).isEqualTo(9000);
        });
        var denied = curl("payments", "-H", "x-verdict: deny");
        assertThat(denied.status()).isEqualTo(403);
        assertThat(grpcChecks).hasSize(2);
    }

    @Test
    void aNodeThatCannotProveTheProvidersIdentityGetsNoCheck() throws Exception {
        var r = curl("ledger");
        assertThat(r.status()).as("fail closed").isEqualTo(403);
        assertThat(impostor.received).isEmpty();
        assertThat(impostorConnects)
                .as("no CONNECT over a connection to the wrong identity")
                .isEmpty();
        assertThat(mesh.app("21").seen).isEmpty();
    }
}
