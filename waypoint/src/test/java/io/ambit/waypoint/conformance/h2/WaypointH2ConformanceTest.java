package io.ambit.waypoint.conformance.h2;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.waypoint.testing.RawHttp;
import io.ambit.waypoint.testing.WaypointFixture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * h2spec's cases (generic, http2 3.5-8.2, hpack) against the waypoint's client-facing HTTP/2 server: prior
 * knowledge inside an HBONE tunnel, reached through a local port that tunnels to the waypoint as {@code curl}
 * does through its ztunnel. The requests go on to the echo apps, so the cases that need a response see the real
 * one. The case table with the expected behaviours and their RFC sections: {@code conformance/h2/CASES.md}.
 */
@ExtendWith(NoLeaks.class)
class WaypointH2ConformanceTest {
    private static WaypointFixture mesh;
    private static InetSocketAddress asCurl;

    @BeforeAll
    static void start() throws Exception {
        H2Conformance.requirePython();
        mesh = WaypointFixture.start(71, "");
        asCurl = mesh.clientPort(WaypointFixture.CURL, mesh.httpbin());
        // The first tunnel waits for certificates; let that not eat the first case's read timeout.
        assertThat(RawHttp.send(asCurl, "GET /get HTTP/1.1\r\nHost: httpbin\r\n\r\n", 500)
                        .response())
                .startsWith("HTTP/1.1 200");
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyCaseOfTheRequestProfilePasses() throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of(
                "--host",
                asCurl.getAddress().getHostAddress(),
                "--port",
                Integer.toString(asCurl.getPort()),
                "--profile",
                "request",
                "--authority",
                "httpbin",
                "--echo-path",
                "/echo",
                "--bytes-path",
                "/bytes/64",
                "--timeout",
                "5"));
        // -Dh2conf.only=http2/5.1,hpack/ runs those cases alone (while working on one).
        String only = System.getProperty("h2conf.only");
        if (only != null && !only.isBlank()) {
            args.addAll(List.of("--only", only));
        }
        return H2Conformance.tests(H2Conformance.caseIds(args), H2Conformance.run(args, Duration.ofMinutes(8)));
    }
}
