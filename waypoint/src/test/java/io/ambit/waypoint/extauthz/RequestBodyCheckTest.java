package io.ambit.waypoint.extauthz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.rpc.Status;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.proto.envoy.service.auth.v3.AuthorizationGrpc;
import io.ambit.proto.envoy.service.auth.v3.CheckRequest;
import io.ambit.proto.envoy.service.auth.v3.CheckResponse;
import io.ambit.proto.envoy.service.auth.v3.OkHttpResponse;
import io.ambit.waypoint.stages.SecureMesh;
import io.ambit.waypoint.testing.EchoBackend;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.TestNet;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code includeRequestBodyInCheck} end to end: curl (HTTP/1.1 and HTTP/2) through a waypoint started as
 * {@code ambit run} starts it, a real HTTP provider (the JDK's server) and a real grpc-java
 * {@code envoy.service.auth.v3} provider, and the app behind an HBONE node. The provider must see the
 * body before the request goes on, the app must get the same body after, a body over
 * {@code maxRequestBytes} is 413 unless {@code allowPartialMessage}, and a body larger than HTTP/2's
 * flow-control window must not deadlock. Addresses: 127.98.1.0/24.
 */
@ExtendWith(NoLeaks.class)
class RequestBodyCheckTest {
    static final SpiffeId CLIENT = new SpiffeId("cluster.local", "shop", "client");
    static final SpiffeId APP = new SpiffeId("cluster.local", "shop", "app");

    static final String MESH = """
            mesh:
              rootNamespace: istio-system
              trustDomain: cluster.local
              extensionProviders:
              - name: body-http
                envoyExtAuthzHttp:
                  service: NET.50
                  port: HTTP_PORT
                  timeout: 10s
                  pathPrefix: /check
                  includeRequestBodyInCheck: {maxRequestBytes: 64}
              - name: body-http-partial
                envoyExtAuthzHttp:
                  service: NET.50
                  port: HTTP_PORT
                  timeout: 10s
                  pathPrefix: /partial
                  includeRequestBodyInCheck: {maxRequestBytes: 16, allowPartialMessage: true}
              - name: body-http-large
                envoyExtAuthzHttp:
                  service: NET.50
                  port: HTTP_PORT
                  timeout: 10s
                  pathPrefix: /large
                  includeRequestBodyInCheck: {maxRequestBytes: 1048576}
              - name: body-grpc
                envoyExtAuthzGrpc:
                  service: NET.51
                  port: GRPC_PORT
                  timeout: 10s
                  includeRequestBodyInCheck: {maxRequestBytes: 1024}
              - name: body-grpc-bytes
                envoyExtAuthzGrpc:
                  service: NET.51
                  port: GRPC_PORT
                  timeout: 10s
                  includeRequestBodyInCheck: {maxRequestBytes: 1024, packAsBytes: true}
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
                "shop/partial.shop.svc.cluster.local": {80: 8080}
                "shop/large.shop.svc.cluster.local": {80: 8080}
                "shop/grpctext.shop.svc.cluster.local": {80: 8080}
                "shop/grpcbytes.shop.svc.cluster.local": {80: 8080}
            services:
            - {name: orders, namespace: shop, hostname: orders.shop.svc.cluster.local, vips: ["/NET.100"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            - {name: partial, namespace: shop, hostname: partial.shop.svc.cluster.local, vips: ["/NET.101"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            - {name: large, namespace: shop, hostname: large.shop.svc.cluster.local, vips: ["/NET.102"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            - {name: grpctext, namespace: shop, hostname: grpctext.shop.svc.cluster.local, vips: ["/NET.103"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            - {name: grpcbytes, namespace: shop, hostname: grpcbytes.shop.svc.cluster.local, vips: ["/NET.104"],
               ports: {80: 8080}, waypoint: {destination: {address: "/NET.1"}}}
            ---
            CUSTOM_POLICIES
            """;

    static final String CUSTOM = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: SERVICE-body, namespace: shop}
            spec:
              targetRefs: [{kind: Service, group: "", name: SERVICE}]
              action: CUSTOM
              provider: {name: PROVIDER}
              rules:
              - to: [{operation: {methods: ["GET", "POST", "PUT"]}}]
            """;

    @TempDir
    static Path dir;

    static AuthzHttpServer http;
    static Server grpc;
    static final LinkedBlockingQueue<CheckRequest> grpcChecks = new LinkedBlockingQueue<>();
    static SecureMesh mesh;
    static final Map<String, InetSocketAddress> via = new java.util.HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Processes.available("curl"), "curl is installed");
        http = new AuthzHttpServer(TestNet.ip("127.98.1.50"));
        // The provider's decision depends on the body: the whole point of sending it.
        http.respond(r -> new String(r.body(), StandardCharsets.UTF_8).contains("forbidden")
                ? AuthzHttpServer.Reply.of(403, "body refused by the provider", "x-ext-reason", "body")
                : AuthzHttpServer.Reply.of(200, ""));
        grpc = NettyServerBuilder.forAddress(new InetSocketAddress(TestNet.ip("127.98.1.51"), 0))
                .addService(new AuthorizationGrpc.AuthorizationImplBase() {
                    @Override
                    public void check(CheckRequest request, StreamObserver<CheckResponse> out) {
                        grpcChecks.add(request);
                        var body = request.getAttributes().getRequest().getHttp();
                        boolean refused = body.getBody().contains("forbidden")
                                || body.getRawBody().toStringUtf8().contains("forbidden");
                        out.onNext(CheckResponse.newBuilder()
                                .setStatus(Status.newBuilder().setCode(refused ? 7 : 0))
                                .setOkResponse(OkHttpResponse.getDefaultInstance())
                                .build());
                        out.onCompleted();
                    }
                })
                .build()
                .start();
        int grpcPort = ((InetSocketAddress) grpc.getListenSockets().getFirst()).getPort();
        var policies = new ArrayList<String>();
        for (String[] sp : new String[][] {
            {"orders", "body-http"},
            {"partial", "body-http-partial"},
            {"large", "body-http-large"},
            {"grpctext", "body-grpc"},
            {"grpcbytes", "body-grpc-bytes"}
        }) {
            policies.add(CUSTOM.replace("SERVICE", sp[0]).replace("PROVIDER", sp[1]));
        }
        String yaml = MESH.replace("HTTP_PORT", Integer.toString(http.port()))
                .replace("GRPC_PORT", Integer.toString(grpcPort))
                .replace("CUSTOM_POLICIES", String.join("---\n", policies));
        mesh = SecureMesh.start(1, yaml, Map.of("21", APP));
        String[] services = {"orders", "partial", "large", "grpctext", "grpcbytes"};
        for (int i = 0; i < services.length; i++) {
            via.put(
                    services[i],
                    mesh.clientPort(CLIENT, "10", new InetSocketAddress(mesh.ip(Integer.toString(100 + i)), 80)));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (mesh != null) {
            mesh.close();
        }
        if (grpc != null) {
            grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (http != null) {
            http.close();
        }
    }

    @BeforeEach
    void clear() {
        http.received.clear();
        grpcChecks.clear();
        mesh.app("21").seen.clear();
    }

    static SecureMesh.Answer curl(String service, String... args) throws Exception {
        return SecureMesh.curl(via.get(service), "/pay?x=1", args);
    }

    static Path file(String name, byte[] content) throws Exception {
        return Files.write(dir.resolve(name), content);
    }

    static byte[] letters(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + (i * 7 + i / 26) % 26);
        }
        return b;
    }

    static EchoBackend.Seen seenByApp() throws InterruptedException {
        var s = mesh.app("21").seen.poll(20, TimeUnit.SECONDS);
        assertThat(s).as("the app received the request").isNotNull();
        return s;
    }

    // ---- the HTTP provider

    @Test
    void theProviderSeesTheBodyBeforeTheAppAndTheAppGetsTheSameBody() throws Exception {
        var r = curl(
                "orders", "-X", "POST", "-H", "content-type: application/json", "--data-binary", "{\"amount\":10}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(http.received).hasSize(1);
        var check = http.last();
        assertThat(check.method()).isEqualTo("POST");
        assertThat(check.uri()).isEqualTo("/check/pay?x=1");
        assertThat(new String(check.body(), StandardCharsets.UTF_8)).isEqualTo("{\"amount\":10}");
        assertThat(check.header("x-envoy-auth-partial-body")).isEqualTo("false");
        var seen = seenByApp();
        assertThat(seen.method()).isEqualTo("POST");
        assertThat(seen.body()).isEqualTo("{\"amount\":10}");
    }

    @Test
    void aBodyTheProviderRefusesNeverReachesTheApp() throws Exception {
        var r = curl("orders", "-X", "POST", "--data-binary", "{\"note\":\"forbidden\"}");
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).isEqualTo("body refused by the provider");
        assertThat(http.received).hasSize(1);
        assertThat(mesh.app("21").seen).as("denied before routing").isEmpty();
    }

    @Test
    void aBodyOverTheLimitIs413AndTheProviderIsNotAsked() throws Exception {
        var body = file("over.txt", letters(100)); // maxRequestBytes: 64
        var declared = curl("orders", "-X", "POST", "--data-binary", "@" + body);
        assertThat(declared.status()).as("content-length over the limit").isEqualTo(413);
        assertThat(declared.body()).isEqualTo("Payload Too Large");
        // Chunked: no length up front, so the waypoint reads until it passes the limit.
        var chunked = curl("orders", "-X", "POST", "-H", "transfer-encoding: chunked", "--data-binary", "@" + body);
        assertThat(chunked.status()).as("chunked body read past the limit").isEqualTo(413);
        assertThat(http.received).isEmpty();
        assertThat(mesh.app("21").seen).isEmpty();
    }

    @Test
    void aChunkedBodyWithinTheLimitIsReadToItsEndAndForwarded() throws Exception {
        var body = letters(64); // exactly maxRequestBytes
        var r = curl(
                "orders",
                "-X",
                "PUT",
                "-H",
                "transfer-encoding: chunked",
                "--data-binary",
                "@" + file("exact.txt", body));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(http.last().body()).isEqualTo(body);
        assertThat(http.last().header("x-envoy-auth-partial-body")).isEqualTo("false");
        assertThat(seenByApp().body()).isEqualTo(new String(body, StandardCharsets.US_ASCII));
    }

    @Test
    void withAllowPartialMessageTheProviderGetsTheFirstBytesAndTheAppTheWholeBody() throws Exception {
        var body = letters(100); // maxRequestBytes: 16
        var r = curl("partial", "-X", "POST", "--data-binary", "@" + file("partial.txt", body));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        var check = http.last();
        assertThat(check.uri()).isEqualTo("/partial/pay?x=1");
        assertThat(check.body()).isEqualTo(java.util.Arrays.copyOf(body, 16));
        assertThat(check.header("x-envoy-auth-partial-body")).isEqualTo("true");
        assertThat(seenByApp().body()).isEqualTo(new String(body, StandardCharsets.US_ASCII));
    }

    @Test
    void anHttp2BodyLargerThanTheFlowControlWindowIsReadForTheCheckAndForwarded() throws Exception {
        var body = letters(300 * 1024); // HTTP/2's initial stream window is 64 KiB: the client needs credit
        var r = curl("large", "--http2-prior-knowledge", "-X", "POST", "--data-binary", "@" + file("h2.txt", body));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(http.last().body()).isEqualTo(body);
        var seen = seenByApp();
        assertThat(seen.protocol()).isEqualTo("HTTP/2");
        assertThat(seen.body()).isEqualTo(new String(body, StandardCharsets.US_ASCII));
    }

    @Test
    void aClientThatWaitsFor100ContinueGetsItAndSendsTheBody() throws Exception {
        var body = letters(200 * 1024);
        // curl waits up to 60 s for the 100 before sending anyway: within -m 20 only if the waypoint answers.
        var r = curl(
                "large",
                "-H",
                "expect: 100-continue",
                "--expect100-timeout",
                "60",
                "-X",
                "POST",
                "--data-binary",
                "@" + file("expect.txt", body));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(http.last().body()).isEqualTo(body);
        assertThat(seenByApp().body()).hasSize(body.length);
    }

    @Test
    void aRequestWithoutABodyIsCheckedWithAnEmptyOne() throws Exception {
        var r = curl("orders");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(http.last().method()).isEqualTo("GET");
        assertThat(http.last().body()).isEmpty();
        assertThat(http.last().header("x-envoy-auth-partial-body")).isEqualTo("false");
    }

    @Test
    void aClientThatLeavesMidBodyEndsTheRequestWithoutAskingTheProvider() throws Exception {
        var a = via.get("large");
        try (var socket = new java.net.Socket(a.getAddress(), a.getPort())) {
            socket.setSoTimeout(20_000);
            var out = socket.getOutputStream();
            out.write(("POST /abandoned HTTP/1.1\r\nhost: large\r\ncontent-length: 100000\r\n"
                            + "expect: 100-continue\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // The 100 comes when the ext_authz stage starts reading the body: the waypoint is waiting for it now.
            byte[] interim = socket.getInputStream().readNBytes("HTTP/1.1 100 Continue\r\n\r\n".length());
            assertThat(new String(interim, StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 100 Continue");
            out.write("only the start".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            socket.setSoLinger(true, 0); // then a reset, as when the client process dies
        }
        String line = awaitLog("\"path\":\"/abandoned\"");
        assertThat(line).contains("\"response_flags\":\"DC\"");
        assertThat(http.received).as("the check waits for the body").isEmpty();
        assertThat(mesh.app("21").seen).isEmpty();
    }

    @Test
    void aClientThatHalfClosesMidBodyEndsTheRequestAtOnceWithoutAskingTheProvider() throws Exception {
        var a = via.get("large");
        try (var socket = new java.net.Socket(a.getAddress(), a.getPort())) {
            socket.setSoTimeout(20_000);
            var out = socket.getOutputStream();
            out.write(("POST /half-closed HTTP/1.1\r\nhost: large\r\ncontent-length: 100000\r\n"
                            + "expect: 100-continue\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            var in = socket.getInputStream();
            byte[] interim = in.readNBytes("HTTP/1.1 100 Continue\r\n\r\n".length());
            assertThat(new String(interim, StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 100 Continue");
            out.write("only the start".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            socket.shutdownOutput(); // FIN: the rest of the body can never come
            // The connection ends without an answer, long before the 10 s the check may take (a 504 then).
            assertThat(in.read()).as("end of stream, no response").isEqualTo(-1);
        }
        String line = awaitLog("\"path\":\"/half-closed\"");
        assertThat(line).contains("\"response_flags\":\"DC\"");
        assertThat(http.received).as("no check for a body that cannot arrive").isEmpty();
        assertThat(mesh.app("21").seen).isEmpty();
    }

    static String awaitLog(String part) throws InterruptedException {
        for (int i = 0; i < 2000; i++) { // at most 20 s: a request logs when it ends
            for (String l : mesh.accessLog) {
                if (l.contains(part)) {
                    return l;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no access log line with " + part + " in " + mesh.accessLog);
    }

    // ---- the gRPC provider

    @Test
    void theGrpcProviderGetsTheBodyAsText() throws Exception {
        var r = curl("grpctext", "--http2-prior-knowledge", "-X", "POST", "--data-binary", "{\"item\":\"book\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        var http = grpcChecks
                .poll(5, TimeUnit.SECONDS)
                .getAttributes()
                .getRequest()
                .getHttp();
        assertThat(http.getBody()).isEqualTo("{\"item\":\"book\"}");
        assertThat(http.getRawBody().isEmpty()).isTrue();
        assertThat(http.getSize()).isEqualTo(15);
        assertThat(http.getHeadersMap()).containsEntry("x-envoy-auth-partial-body", "false");
        assertThat(seenByApp().body()).isEqualTo("{\"item\":\"book\"}");
    }

    @Test
    void theGrpcProviderGetsRawBytesWithPackAsBytesAndItsDenialStopsTheRequest() throws Exception {
        byte[] binary = {0, (byte) 0xff, (byte) 0xfe, 'o', 'k', (byte) 0x80};
        var r = curl("grpcbytes", "-X", "POST", "--data-binary", "@" + file("binary.bin", binary));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        var check = grpcChecks
                .poll(5, TimeUnit.SECONDS)
                .getAttributes()
                .getRequest()
                .getHttp();
        assertThat(check.getRawBody().toByteArray()).isEqualTo(binary);
        assertThat(check.getBody()).isEmpty();

        var denied = curl("grpcbytes", "-X", "POST", "--data-binary", "forbidden bytes");
        assertThat(denied.status()).isEqualTo(403);
        assertThat(grpcChecks
                        .poll(5, TimeUnit.SECONDS)
                        .getAttributes()
                        .getRequest()
                        .getHttp()
                        .getRawBody()
                        .toStringUtf8())
                .isEqualTo("forbidden bytes");
    }
}
