package io.ambit.waypoint.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.waypoint.testing.Await;
import io.ambit.waypoint.testing.Processes;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The waypoint's upstream HTTP/2 (one stream per request on a shared connection, no child channels) against a
 * real HTTP/2 server that misbehaves as servers may: Node's http2 module as the endpoint app, and Node's
 * http2 client through the waypoint, ordered by one script ({@code h2-upstream-scenarios.js}). Each test has its
 * own mesh on 127.102.N, so connections of one scenario never serve the next.
 */
@ExtendWith(NoLeaks.class)
class H2UpstreamTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void node() {
        assumeTrue(Processes.available("node"), "node is installed");
    }

    private static List<String> command(UpstreamMesh mesh, String name) throws Exception {
        InetSocketAddress app = mesh.appAddress();
        InetSocketAddress client = mesh.clientPort();
        String script = Path.of("src/test/resources/h2-upstream-scenarios.js")
                .toAbsolutePath()
                .toString();
        return List.of(
                "node",
                script,
                name,
                app.getAddress().getHostAddress(),
                Integer.toString(app.getPort()),
                "http://" + client.getAddress().getHostAddress() + ":" + client.getPort());
    }

    private static JsonNode scenario(UpstreamMesh mesh, String name) throws Exception {
        var r = Processes.run(command(mesh, name), Duration.ofSeconds(90));
        assertThat(r.exit()).as(r.toString()).isZero();
        var result = (com.fasterxml.jackson.databind.node.ObjectNode)
                JSON.readTree(r.out().lines().reduce((a, b) -> b).orElseThrow());
        return result.put("stderr", r.err()); // shown with a failed assertion
    }

    @Test
    void aServerGoawayRetiresTheConnectionStreamsAboveItAreRetriedAndTheRestComplete() throws Exception {
        try (var mesh = new UpstreamMesh(1)) {
            JsonNode r;
            try (var node = Interactive.start(command(mesh, "goaway"))) {
                node.awaitLine("checkpoint");
                // The retired connection closes once its last stream (/hold/a) ended: only the new one's tunnel
                // remains at the endpoint's node.
                Await.until(() -> mesh.tunnelsToTheApp() == 1, "one tunnel to the app; have " + mesh.tunnelsToTheApp());
                node.send("go");
                r = node.result();
            }
            // /hold/a (stream 1, at or below the GOAWAY's last stream) completes on the retired connection.
            assertThat(r.at("/a/status").asInt()).as(r.toString()).isEqualTo(200);
            assertThat(r.at("/a/session").asText()).isEqualTo("1");
            // /goaway (stream 3, above it) was refused by the server, so never processed: the waypoint retried it
            // on a new connection, transparently.
            assertThat(r.at("/b/status").asInt()).as(r.toString()).isEqualTo(200);
            assertThat(r.at("/b/body").asText()).isEqualTo("retried");
            assertThat(r.at("/b/session").asText()).isEqualTo("2");
            // The next request does not go to the retired connection but to the new one.
            assertThat(r.at("/c/status").asInt()).as(r.toString()).isEqualTo(200);
            assertThat(r.at("/c/session").asText()).isEqualTo("2");
            assertThat(mesh.awaitLog(l -> l.contains("\"path\":\"/goaway\"")))
                    .contains("\"response_code\":200")
                    .contains("\"upstream_host\":\"" + mesh.net + ".21:8080\"");
        }
    }

    @Test
    void aServerResetFailsOnlyItsStreamAndTheConnectionCarriesOn() throws Exception {
        try (var mesh = new UpstreamMesh(2)) {
            JsonNode r = scenario(mesh, "reset");
            // RST_STREAM before any response: the waypoint answers 503 itself.
            assertThat(r.at("/before/status").asInt()).as(r.toString()).isEqualTo(503);
            // RST_STREAM after the head: the exchange ends as an upstream connection termination (UC, asserted on
            // the access log below) and the client's stream is ended (how it is ended is the client side's job).
            assertThat(r.at("/after/body").asText()).as(r.toString()).isIn("", "partial ");
            // The connection survives both resets: the next request is served on it.
            assertThat(r.at("/hello/status").asInt()).as(r.toString()).isEqualTo(200);
            assertThat(r.at("/hello/body").asText()).isEqualTo("hello");
            assertThat(r.get("sessions").asInt()).as(r.toString()).isEqualTo(1);
            assertThat(mesh.awaitLog(l -> l.contains("\"path\":\"/reset-after\"")))
                    .contains("\"response_flags\":\"UC\"");
        }
    }

    @Test
    void theServersMaxConcurrentStreamsIsNeverExceededAndABurstSpreadsOverMoreConnections() throws Exception {
        try (var mesh = new UpstreamMesh(3)) {
            JsonNode r = scenario(mesh, "max-streams");
            Set<String> sessionsOfHolds = new HashSet<>();
            for (JsonNode hold : r.get("results")) {
                assertThat(hold.get("status").asInt()).as(r.toString()).isEqualTo(200);
                sessionsOfHolds.add(hold.get("session").asText());
            }
            for (JsonNode status : r.get("releases")) {
                assertThat(status.asInt()).as(r.toString()).isEqualTo(200);
            }
            // SETTINGS_MAX_CONCURRENT_STREAMS = 2: six held requests need three connections, none over the limit.
            assertThat(r.get("maxActive").asInt()).as(r.toString()).isLessThanOrEqualTo(2);
            assertThat(sessionsOfHolds).as(r.toString()).hasSize(3);
        }
    }

    @Test
    void aResponseLargerThanTheWindowWaitsForASlowClientAndArrivesIntact() throws Exception {
        try (var mesh = new UpstreamMesh(4)) {
            JsonNode r = scenario(mesh, "slow-client");
            JsonNode large = r.get("large");
            assertThat(large.get("status").asInt()).as(r.toString()).isEqualTo(200);
            // While the client did not read, the server could not write the 16 MiB: the waypoint withheld
            // flow-control credit (1 MiB per stream) instead of buffering the response.
            assertThat(large.get("finishedWhilePaused").asBoolean())
                    .as(r.toString())
                    .isFalse();
            assertThat(large.get("stalledAt").asLong()).as(r.toString()).isLessThan(4L * 1024 * 1024);
            assertThat(large.get("received").asLong())
                    .as(r + "\n" + mesh.accessLog)
                    .isEqualTo(16L * 1024 * 1024);
            assertThat(large.get("intact").asBoolean()).as(r.toString()).isTrue();
            // A response that fits the window ends upstream while the client still pauses: held, then delivered.
            JsonNode small = r.get("small");
            assertThat(small.get("status").asInt()).as(r.toString()).isEqualTo(200);
            assertThat(small.get("received").asLong()).as(r.toString()).isEqualTo(512L * 1024);
            assertThat(small.get("intact").asBoolean()).as(r.toString()).isTrue();
        }
    }
}
