package io.ambit.waypoint.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ambit.waypoint.testing.Policies;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.WaypointFixture;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Other real HTTP/2 clients through the waypoint: Node's http2 module and h2load. */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class Http2PeersTest {
    private static WaypointFixture mesh;
    private static InetSocketAddress asSleep;
    private static InetSocketAddress asCurl;

    @BeforeAll
    static void start() throws Exception {
        mesh = WaypointFixture.start(7, Policies.BASIC);
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
        asCurl = mesh.clientPort(WaypointFixture.CURL, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    private static String url(InetSocketAddress a) {
        return "http://" + a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    @Test
    void nodesHttp2ClientIsServedAndSpreadOverBothEndpoints() throws Exception {
        assumeTrue(Processes.available("node"), "node is installed");
        String script =
                Path.of("src/test/resources/h2-client.js").toAbsolutePath().toString();
        var r = Processes.run(List.of("node", script, url(asSleep), "/get", "12"), Duration.ofSeconds(30));
        assertThat(r.exit()).as(r.toString()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(12).allMatch(l -> l.startsWith("200 httpbin-"));
        assertThat(lines).contains("200 httpbin-1", "200 httpbin-2");
        var denied = Processes.run(List.of("node", script, url(asCurl), "/get", "3"), Duration.ofSeconds(30));
        assertThat(denied.out().lines().toList()).as(denied.toString()).containsExactly("403 -", "403 -", "403 -");
    }

    @Test
    void h2loadSeesOnly2xxForAllowedAnd4xxForDenied() throws Exception {
        assumeTrue(Processes.available("h2load"), "h2load (nghttp2-client) is installed");
        var ok = Processes.run(
                List.of("h2load", "-n", "400", "-c", "4", "-m", "10", url(asSleep) + "/get"), Duration.ofSeconds(60));
        assertThat(ok.out())
                .as(ok.toString())
                .contains("400 succeeded")
                .contains("status codes: 400 2xx, 0 3xx, 0 4xx, 0 5xx");
        var h1 = Processes.run(
                List.of("h2load", "--h1", "-n", "200", "-c", "4", url(asSleep) + "/get"), Duration.ofSeconds(60));
        assertThat(h1.out()).as(h1.toString()).contains("status codes: 200 2xx, 0 3xx, 0 4xx, 0 5xx");
        var denied = Processes.run(
                List.of("h2load", "-n", "100", "-c", "2", "-m", "10", url(asCurl) + "/get"), Duration.ofSeconds(60));
        assertThat(denied.out()).as(denied.toString()).contains("status codes: 0 2xx, 0 3xx, 100 4xx, 0 5xx");
        assertThat(Arrays.stream(denied.out().split("\n")).anyMatch(l -> l.startsWith("requests: 100 total")))
                .isTrue();
    }
}
