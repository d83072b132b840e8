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
 * A stream the upstream refused without processing it — RST_STREAM(REFUSED_STREAM), or above the last stream id
 * of its GOAWAY (RFC 9113 §8.7) — is retried once, whatever the method, on another session (a new connection
 * here), as Envoy does: the client gets the answer, and the access log one line with the final outcome. A request
 * refused again, or whose body was not kept (more than 64 KiB sent before the refusal), gets 503 with {@code UR}.
 * The app is {@code faulty-app.js} (Node's HTTP/2 server; it refuses and reports every attempt and connection),
 * the client curl over HTTP/2. Addresses: the fixture's subnet 33 (moved to this JVM's block by TestNet).
 */
@ExtendWith(NoLeaks.class)
class RefusedStreamRetryTest {
    private static WaypointFixture mesh;
    private static FaultyApp app;
    private static InetSocketAddress asSleep;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Processes.available("node"), "node is installed");
        assumeTrue(Processes.available("curl"), "curl is installed");
        mesh = WaypointFixture.start(33, "");
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

    /** {@code status body} of one HTTP/2 request with curl. */
    private static String curl(String path, String... options) throws Exception {
        List<String> command = new ArrayList<>(
                List.of("curl", "-sS", "--http2-prior-knowledge", "--max-time", "20", "-w", " %{http_code}"));
        command.addAll(List.of(options));
        command.add("http://" + asSleep.getAddress().getHostAddress() + ":" + asSleep.getPort() + path);
        var r = Processes.run(command, Duration.ofSeconds(30));
        assertThat(r.exit()).as(r.toString()).isZero();
        String out = r.out();
        int sp = out.lastIndexOf(' ');
        return out.substring(sp + 1) + " " + out.substring(0, sp);
    }

    private static List<String> logLines(String path) throws InterruptedException {
        mesh.awaitLog(l -> l.contains("\"path\":\"" + path + "\""));
        return mesh.accessLog.stream()
                .filter(l -> l.contains("\"path\":\"" + path + "\""))
                .toList();
    }

    @Test
    void aGetRefusedWithRefusedStreamIsRetriedOnAnotherConnectionAndAnswered() throws Exception {
        assertThat(curl("/refuse/get1/1")).isEqualTo("200 served get1 attempt 2 body ");
        List<JsonNode> attempts = app.requests("/refuse/get1/1");
        assertThat(attempts).as("%s", app).hasSize(2);
        assertThat(attempts.get(0).path("refused").asBoolean()).isTrue();
        assertThat(attempts.get(1).get("id").asInt())
                .as("the retry went over another connection: %s", attempts)
                .isNotEqualTo(attempts.get(0).get("id").asInt());
        assertThat(logLines("/refuse/get1/1"))
                .as("one request, its final outcome")
                .singleElement()
                .satisfies(l -> assertThat(l).contains("\"response_code\":200", "\"response_flags\":\"-\""));
    }

    @Test
    void aPostWithABodyRefusedWithRefusedStreamIsRetriedWithItsBody() throws Exception {
        assertThat(curl("/refuse/post1/1", "--data-binary", "hello body"))
                .isEqualTo("200 served post1 attempt 2 body hello body");
        assertThat(app.requests("/refuse/post1/1")).as("%s", app).hasSize(2);
        assertThat(logLines("/refuse/post1/1")).singleElement().satisfies(l -> assertThat(l)
                .contains("\"method\":\"POST\"", "\"response_code\":200", "\"response_flags\":\"-\""));
    }

    @Test
    void aStreamAboveTheServersGoawayIsRetriedOnANewConnectionAndTheOldOneEndsCleanly() throws Exception {
        assertThat(curl("/goaway/g1", "--data-binary", "after goaway"))
                .isEqualTo("200 served g1 attempt 2 body after goaway");
        List<JsonNode> attempts = app.requests("/goaway/g1");
        assertThat(attempts).as("%s", app).hasSize(2);
        int refusedOn = attempts.get(0).get("id").asInt();
        assertThat(attempts.get(1).get("id").asInt()).isNotEqualTo(refusedOn);
        assertThat(logLines("/goaway/g1")).singleElement().satisfies(l -> assertThat(l)
                .contains("\"response_code\":200", "\"response_flags\":\"-\""));
        // The connection the app retired is ended by the waypoint once its last stream left: a FIN, no reset.
        app.await(
                e -> e.path("ev").asText().equals("fin") && e.path("id").asInt() == refusedOn,
                "the waypoint ended the retired connection " + refusedOn);
        assertThat(app.events().stream().filter(e -> e.path("id").asInt() == refusedOn))
                .as("%s", app)
                .noneMatch(e -> e.path("ev").asText().equals("error"));
    }

    @Test
    void aRequestRefusedAgainOnItsRetryGets503WithUR() throws Exception {
        String r = curl("/refuse/twice/5");
        assertThat(r).startsWith("503 ").contains("remote refused stream reset");
        assertThat(app.requests("/refuse/twice/5")).as("one retry, no more").hasSize(2);
        assertThat(logLines("/refuse/twice/5")).singleElement().satisfies(l -> assertThat(l)
                .contains("\"response_code\":503", "\"response_flags\":\"UR\""));
    }

    /** A POST of {@code bytes} with Node's http2 client (which keeps an answer that comes before its upload ended). */
    private static final String NODE_POST = """
            const http2 = require('http2');
            const [url, path, bytes] = process.argv.slice(1);
            const session = http2.connect(url);
            session.on('error', (e) => { console.error('session error ' + e.message); process.exit(2); });
            setTimeout(() => { console.error('timeout'); process.exit(4); }, 20000).unref();
            const req = session.request({ ':method': 'POST', ':path': path });
            let status = 0;
            let body = '';
            req.on('response', (h) => { status = h[':status']; });
            req.setEncoding('utf8');
            req.on('data', (d) => { body += d; });
            req.on('error', () => {});
            req.on('close', () => { console.log(status + ' ' + body); session.close(); });
            req.end(Buffer.alloc(parseInt(bytes, 10)));
            """;

    @Test
    void aRefusedRequestWhoseBodyWasNotKeptGets503WithUR() throws Exception {
        // The app reads 128 KiB before it refuses: more than the 64 KiB kept for a retry had been sent.
        String url = "http://" + asSleep.getAddress().getHostAddress() + ":" + asSleep.getPort();
        var r = Processes.run(
                List.of("node", "-e", NODE_POST, url, "/refuse-late/big", Integer.toString(300 * 1024)),
                Duration.ofSeconds(30));
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).as(r.toString()).startsWith("503 ").contains("remote refused stream reset");
        assertThat(app.requests("/refuse-late/big")).as("not retried").hasSize(1);
        assertThat(logLines("/refuse-late/big")).singleElement().satisfies(l -> assertThat(l)
                .contains("\"response_code\":503", "\"response_flags\":\"UR\""));
    }
}
