package io.ambit.waypoint.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.waypoint.testing.FaultyApp;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.WaypointFixture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An upstream connection the waypoint closes because it idled (or because it retired) ends its tunnel
 * gracefully, so the app's connection ends with a FIN rather than a reset: HTTP/2 sends GOAWAY first and the
 * app sees it. Before, closing the tunnel's stream channel sent RST_STREAM(CANCEL), the endpoint's node reset
 * the app's TCP connection (ECONNRESET) and the GOAWAY written just before was dropped. The app is
 * {@code faulty-app.js} (Node), which reports how each connection ended; curl is the client. The upstream idle
 * timeout is 300 ms here. Addresses: the fixture's subnet 32 (moved to this JVM's block by TestNet).
 */
@ExtendWith(NoLeaks.class)
class UpstreamCloseTest {
    private static WaypointFixture mesh;
    private static FaultyApp app;
    private static InetSocketAddress asSleep;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Processes.available("node"), "node is installed");
        assumeTrue(Processes.available("curl"), "curl is installed");
        mesh = WaypointFixture.start(32, "", c -> {
            RouteConfig r = c.route();
            return c.withRoute(new RouteConfig(
                    r.hbonePort(),
                    r.connectTimeout(),
                    r.requestTimeout(),
                    r.streamIdleTimeout(),
                    Duration.ofMillis(300),
                    r.maxStreamsPerConnection(),
                    r.maxResponseHeaderBytes()));
        });
        app = FaultyApp.start(9090, mesh.ip("21"), mesh.ip("22"));
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, new InetSocketAddress(mesh.ip("103"), 9090));
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
        if (mesh != null) {
            mesh.close();
        }
    }

    private static void curl(String path, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20"));
        command.addAll(List.of(options));
        command.add("http://" + asSleep.getAddress().getHostAddress() + ":" + asSleep.getPort() + path);
        var r = Processes.run(command, Duration.ofSeconds(30));
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).as(r.toString()).isEqualTo("hello");
    }

    /** The events of the app connection that served {@code path}, once it closed. */
    private static List<JsonNode> connectionEnd(String path) throws Exception {
        JsonNode request = app.await(e -> e.path("path").asText().equals(path), "the app saw " + path);
        int id = request.get("id").asInt();
        app.await(
                e -> e.path("ev").asText().equals("close") && e.path("id").asInt() == id,
                "connection " + id + " closed (the idle timeout is 300 ms)");
        return app.events().stream().filter(e -> e.path("id").asInt() == id).toList();
    }

    private static List<String> kinds(List<JsonNode> events) {
        return events.stream().map(e -> e.path("ev").asText()).toList();
    }

    @Test
    void anIdleHttp2ConnectionEndsWithGoawayThenFin() throws Exception {
        curl("/ok?idle-h2", "--http2-prior-knowledge");
        List<JsonNode> events = connectionEnd("/ok?idle-h2");
        assertThat(kinds(events)).as("%s", events).contains("goaway", "fin").doesNotContain("error", "session-error");
        JsonNode goaway = events.stream()
                .filter(e -> e.path("ev").asText().equals("goaway"))
                .findFirst()
                .orElseThrow();
        // (The GOAWAY came before the FIN on the wire, as nothing can follow a FIN; the app's events may list
        // them the other way round: its HTTP/2 server reads through a tap that sees the FIN first.)
        assertThat(goaway.get("code").asInt()).as("NO_ERROR").isZero();
        assertThat(events.getLast().get("hadError").asBoolean())
                .as("%s", events)
                .isFalse();
    }

    @Test
    void anIdleHttp1ConnectionEndsWithFin() throws Exception {
        curl("/ok?idle-h1");
        List<JsonNode> events = connectionEnd("/ok?idle-h1");
        assertThat(kinds(events)).as("%s", events).contains("fin").doesNotContain("error");
        assertThat(events.getLast().get("hadError").asBoolean())
                .as("%s", events)
                .isFalse();
    }
}
