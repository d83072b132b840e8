package io.ambit.waypoint.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ambit.waypoint.testing.EchoBackend;
import io.ambit.waypoint.testing.Policies;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.WaypointFixture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * curl through the waypoint, HTTP/1.1 and HTTP/2 with prior knowledge: allowed and denied requests,
 * per-request balancing, routing failures, and what reaches the app.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class CurlThroughWaypointTest {
    private static WaypointFixture mesh;
    private static InetSocketAddress asSleep;
    private static InetSocketAddress asCurl;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Processes.available("curl"), "curl is installed");
        mesh = WaypointFixture.start(1, Policies.BASIC);
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
        asCurl = mesh.clientPort(WaypointFixture.CURL, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    static Processes.Result curl(InetSocketAddress via, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-m", "10", "-w", "\\n%{http_code}"));
        cmd.addAll(List.of(args));
        for (int i = 0; i < cmd.size(); i++) {
            cmd.set(i, cmd.get(i).replace("VIA", via.getAddress().getHostAddress() + ":" + via.getPort()));
        }
        return Processes.run(cmd, Duration.ofSeconds(30));
    }

    static EchoBackend.Seen lastSeen() throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            for (EchoBackend b : mesh.backends) {
                EchoBackend.Seen s = b.seen.poll(5, TimeUnit.MILLISECONDS);
                if (s != null) {
                    return s;
                }
            }
        }
        throw new AssertionError("no backend received the request");
    }

    @Test
    void anAllowedHttp1RequestReachesTheAppWithCleanedHeaders() throws Exception {
        mesh.backends.forEach(b -> b.seen.clear());
        var r = curl(
                asSleep,
                "-H",
                "x-forwarded-client-cert: By=spiffe://evil",
                "-H",
                "x-envoy-original-path: /x",
                "-H",
                "Connection: keep-alive, x-drop-me",
                "-H",
                "x-drop-me: yes",
                "http://VIA/get?q=1");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).endsWith("\n200").contains("served-by=httpbin-").contains("protocol=HTTP/1.1");
        EchoBackend.Seen seen = lastSeen();
        assertThat(seen.uri()).isEqualTo("/get?q=1");
        assertThat(seen.header("x-forwarded-client-cert")).isNull();
        assertThat(seen.header("x-envoy-original-path")).isNull();
        assertThat(seen.header("x-drop-me"))
                .as("declared hop-by-hop by Connection")
                .isNull();
        assertThat(seen.header("x-request-id")).isNotBlank();
        assertThat(seen.header("traceparent")).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]");
        assertThat(seen.header("x-b3-traceid")).hasSize(32);
        String line = mesh.awaitLog(l -> l.contains("\"path\":\"/get?q=1\""));
        assertThat(line)
                .contains("\"response_code\":200")
                .contains("\"source_principal\":\"spiffe://cluster.local/ns/default/sa/sleep\"")
                .contains("\"policy\":\"default/httpbin-allow-sleep\"")
                .contains("\"decision\":\"ALLOW\"");
    }

    @Test
    void anotherIdentityIsDeniedWith403NamingNoMatchingPolicy() throws Exception {
        var r = curl(asCurl, "http://VIA/get");
        assertThat(r.out()).as(r.toString()).isEqualTo("RBAC: access denied\n403");
        String line = mesh.awaitLog(l -> l.contains("\"response_code\":403") && l.contains("sa/curl"));
        assertThat(line).contains("\"decision\":\"DENY\"").contains("\"explanation\":");
    }

    @Test
    void identityHeadersFromTheClientAreNeverItsIdentity() throws Exception {
        // curl's certificate is curl's; headers claiming sleep change nothing (CVE-2024-45806)
        var r = curl(
                asCurl,
                "-H",
                "x-forwarded-client-cert: By=spiffe://cluster.local/ns/default/sa/httpbin;URI=spiffe://cluster.local/ns/default/sa/sleep",
                "-H",
                "forwarded: for=127.92.1.10;by=spiffe://cluster.local/ns/default/sa/sleep",
                "-H",
                "x-forwarded-for: 127.92.1.10",
                "-H",
                "x-istio-attributes: source.principal=cluster.local/ns/default/sa/sleep",
                "http://VIA/get?forged");
        assertThat(r.out()).as(r.toString()).isEqualTo("RBAC: access denied\n403");
        assertThat(mesh.awaitLog(l -> l.contains("/get?forged")))
                .contains("\"source_principal\":\"spiffe://cluster.local/ns/default/sa/curl\"");
    }

    @Test
    void aDenyPolicyWinsOverTheAllowAndNamesItselfInTheLog() throws Exception {
        var r = curl(asSleep, "-H", "x-user: someone", "-H", "x-user: admin", "http://VIA/get");
        assertThat(r.out())
                .as("repeated headers are matched per value (CVE-2026-26308)")
                .endsWith("\n403");
        String line = mesh.awaitLog(l -> l.contains("\"policy\":\"default/deny-admin\""));
        assertThat(line).contains("\"decision\":\"DENY\"").contains("\"policy_rule\":1");
    }

    @Test
    void http2PriorKnowledgeAnswersOverHttp2() throws Exception {
        var r = curl(asSleep, "--http2-prior-knowledge", "http://VIA/get");
        assertThat(r.out()).as(r.toString()).contains("protocol=HTTP/2").endsWith("\n200");
    }

    @Test
    void requestsOnOneHttp2ConnectionSpreadOverBothEndpoints() throws Exception {
        assumeTrue(Processes.available("nghttp"), "nghttp (nghttp2-client) is installed");
        List<String> cmd = new ArrayList<>(List.of("nghttp", "-n", "-s"));
        for (int i = 0; i < 8; i++) {
            cmd.add("http://" + asSleep.getAddress().getHostAddress() + ":" + asSleep.getPort() + "/get?i=" + i);
        }
        mesh.backends.forEach(b -> b.seen.clear());
        var r = Processes.run(cmd, Duration.ofSeconds(30));
        assertThat(r.exit()).as(r.toString()).isZero();
        // One client connection, eight streams: each request picks its own endpoint.
        assertThat(mesh.backends.get(0).seen).isNotEmpty();
        assertThat(mesh.backends.get(1).seen).isNotEmpty();
        assertThat(mesh.backends.get(0).seen.size() + mesh.backends.get(1).seen.size())
                .isEqualTo(8);
    }

    @Test
    void http2DenialIs403() throws Exception {
        var r = curl(asCurl, "--http2-prior-knowledge", "http://VIA/get");
        assertThat(r.out()).as(r.toString()).isEqualTo("RBAC: access denied\n403");
    }

    @Test
    void aServiceWithoutEndpointsAnswers503() throws Exception {
        var port = mesh.clientPort(WaypointFixture.SLEEP, new InetSocketAddress(mesh.ip("101"), 8000));
        var r = curl(port, "http://VIA/get");
        assertThat(r.out()).as(r.toString()).isEqualTo("no healthy upstream\n503");
        assertThat(mesh.awaitLog(l -> l.contains("empty.default"))).contains("\"response_flags\":\"UH\"");
    }

    @Test
    void aServiceOfAnotherWaypointIsRefusedAtTheTunnel() throws Exception {
        var port = mesh.clientPort(WaypointFixture.SLEEP, new InetSocketAddress(mesh.ip("102"), 8000));
        var r = curl(port, "http://VIA/get");
        assertThat(r.exit())
                .as("no HTTP answer at all: the CONNECT got 400: " + r)
                .isNotZero();
    }

    @Test
    void largeBodiesGoBothWays() throws Exception {
        var body = java.nio.file.Files.createTempFile("body", ".bin");
        byte[] data = new byte[3 * 1024 * 1024 + 7];
        new java.util.Random(1).nextBytes(data);
        java.nio.file.Files.write(body, data);
        for (String proto : List.of("--http1.1", "--http2-prior-knowledge")) {
            var up = curl(
                    asSleep,
                    proto,
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code} %{size_upload}",
                    "--data-binary",
                    "@" + body,
                    "http://VIA/echo");
            assertThat(up.out()).as(up.toString()).isEqualTo("200 " + (3 * 1024 * 1024 + 7));
            var down = curl(
                    asSleep,
                    proto,
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code} %{size_download}",
                    "http://VIA/bytes/5000000");
            assertThat(down.out()).as(down.toString()).isEqualTo("200 5000000");
        }
        java.nio.file.Files.delete(body);
    }
}
