package io.ambit.waypoint.conformance.attack;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.flow.ConnectionFlow;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.waypoint.route.LoopUpstreams;
import io.ambit.waypoint.testing.Await;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.RawH2;
import io.ambit.waypoint.testing.WaypointFixture;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Security case 42, slow reading, the part slowhttptest left open: clients that ask for large responses and stop
 * reading must not stall another client's requests through the same waypoint. The whole path is real: each client's
 * own HBONE tunnel (its identity's certificate) into the waypoint, the waypoint's pooled HBONE connections to the
 * endpoints' nodes, the apps behind them; the legitimate client is curl.
 *
 * <p>The fixture runs on one event loop, so every exchange shares the waypoint's upstream connections (one per
 * node), as two clients' requests do whenever their tunnels land on the same loop. Ten readers ask for 16 MiB each
 * and never read: five per node connection, each able to park a whole 4 MiB stream window there, 20 MiB against
 * ztunnel's 16 MiB connection window. With Netty's plain flow control ({@code -Dambit.hbone.parking=false}) the
 * connection window then stays at 0 and curl's request gets no response byte (this test fails so); with parked
 * credit lent and congested connections avoided it is answered at once. The same over HTTP/2, where the shared
 * thing is the waypoint's inner HTTP/2 session to the app (1 MiB stream, 2 MiB connection window): two readers
 * were enough to stall it.
 */
@ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class SlowReadersIsolationTest {
    private static final int READERS = 10;
    private static final int SIZE = 16 * 1024 * 1024;
    private static final String PATH = "/bytes/" + SIZE;

    private static WaypointFixture mesh;
    private static InetSocketAddress attacker;
    private static InetSocketAddress legit;

    @BeforeAll
    static void start() throws Exception {
        AttackTools.require("curl", "curl");
        mesh = WaypointFixture.start(141, "", c -> c, 1);
        attacker = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
        legit = mesh.clientPort(WaypointFixture.CURL, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    @Test
    void clientsThatStopReadingLargeResponsesDoNotStallAnotherClientsRequests() throws Exception {
        assertThat(curl("/get")).as("before the slow readers").isEqualTo("200");
        long before = seen(PATH);
        List<Socket> readers = new ArrayList<>();
        try {
            for (int i = 0; i < READERS; i++) {
                readers.add(stalledReader());
            }
            Await.until(
                    () -> seen(PATH) - before == READERS,
                    "the apps received the " + READERS + " large requests (seen " + (seen(PATH) - before) + ")");
            Await.until(
                    SlowReadersIsolationTest::upstreamsFullOfUnreadBytes,
                    "every reader's upstream stream holds unread bytes and can get no more: "
                            + SlowReadersIsolationTest.flows());

            for (int i = 0; i < 3; i++) {
                assertThat(curl("/get"))
                        .as(
                                "curl (another identity, its own tunnel) while %d readers hold their responses unread; %s",
                                READERS, flows())
                        .isEqualTo("200");
            }
            assertThat(flows())
                    .as("what the stalled responses hold upstream stays bounded: window + budget per connection")
                    .allSatisfy(f -> assertThat(f.unconsumedBytes()).isLessThanOrEqualTo(32L * 1024 * 1024));
        } finally {
            for (Socket s : readers) {
                s.close();
            }
        }
    }

    @Test
    void http2ClientsThatStopReadingLargeResponsesDoNotStallAnotherClientsHttp2Requests() throws Exception {
        // Over HTTP/2 the waypoint's upstream is an HTTP/2 session inside one tunnel per endpoint, shared by every
        // client's streams: a reader that stops holds its stream's 1 MiB window there, two hold the session's 2 MiB.
        assertThat(curl("/get", "--http2-prior-knowledge"))
                .as("before the slow readers")
                .isEqualTo("200");
        long before = seen(PATH);
        List<Socket> readers = new ArrayList<>();
        try {
            for (int i = 0; i < READERS; i++) {
                readers.add(stalledHttp2Reader());
            }
            Await.until(
                    () -> seen(PATH) - before == READERS,
                    "the apps received the " + READERS + " large HTTP/2 requests (seen " + (seen(PATH) - before) + ")");
            Await.until(
                    SlowReadersIsolationTest::sessionsFullOfUnreadBytes,
                    "every reader's upstream HTTP/2 stream holds unread bytes and can get no more: " + sessionFlows());

            for (int i = 0; i < 3; i++) {
                assertThat(curl("/get", "--http2-prior-knowledge"))
                        .as(
                                "curl over HTTP/2 while %d HTTP/2 readers hold their responses unread; sessions %s",
                                READERS, sessionFlows())
                        .isEqualTo("200");
            }
        } finally {
            for (Socket s : readers) {
                s.close();
            }
        }
    }

    /**
     * An HTTP/2 client (prior knowledge) that asks for {@value #SIZE} bytes on one stream, keeping HTTP/2's
     * default 64 KiB window, and never reads after the server's SETTINGS.
     */
    private static Socket stalledHttp2Reader() throws Exception {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(attacker, 5000);
        OutputStream out = s.getOutputStream();
        RawH2.open(out);
        out.flush();
        // A well-behaved client otherwise: it acknowledges the waypoint's SETTINGS (read within 5 s, among its
        // first frames), so nothing but its not reading can get it cut.
        s.setSoTimeout(5000);
        DataInputStream in = new DataInputStream(s.getInputStream());
        boolean settings = false;
        for (int i = 0; i < 10 && !settings; i++) {
            RawH2.Frame f = RawH2.read(in);
            settings = f.type() == RawH2.SETTINGS && (f.flags() & 0x1) == 0;
        }
        assertThat(settings)
                .as("the waypoint's SETTINGS among its first frames")
                .isTrue();
        out.write(RawH2.frame(RawH2.SETTINGS, 0x1, 0, new byte[0]));
        out.write(RawH2.frame(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, RawH2.requestBlock("GET", PATH)));
        out.flush();
        return s;
    }

    /** As {@link #upstreamsFullOfUnreadBytes}, for the HTTP/2 sessions inside the tunnels. */
    private static boolean sessionsFullOfUnreadBytes() {
        return atRest(sessionFlows());
    }

    private static List<ConnectionFlow> sessionFlows() {
        List<ConnectionFlow> all = new ArrayList<>();
        for (LoopUpstreams loop : mesh.waypoint.loopUpstreams()) {
            try {
                all.addAll(Await.get(loop.sessionFlows()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return all;
    }

    /** A client that asks for {@value #SIZE} bytes through its tunnel and never reads (a tiny receive buffer). */
    private static Socket stalledReader() throws Exception {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(attacker, 5000);
        OutputStream out = s.getOutputStream();
        out.write(("GET " + PATH + " HTTP/1.1\r\nHost: httpbin.default.svc.cluster.local:8000\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }

    private static long seen(String path) {
        return mesh.backends.stream()
                .flatMap(b -> b.seen.stream())
                .filter(r -> r.uri().equals(path))
                .count();
    }

    /**
     * Nothing more can reach the stalled responses at the waypoint's upstream HBONE connections. A state the
     * responses reach by themselves (nothing reads them), not a pause: with plain flow control it is the connection
     * window at 0; with parked credit, each stalled stream's own 4 MiB window used up.
     */
    private static boolean upstreamsFullOfUnreadBytes() {
        return atRest(flows());
    }

    /**
     * Every reader's stream holds unread bytes, and none can get more: on each connection (or session) holding
     * them, the receive window is used up or every such stream's own window is.
     */
    private static boolean atRest(List<ConnectionFlow> flows) {
        return flows.stream().mapToInt(ConnectionFlow::streamsHoldingBytes).sum() >= READERS
                && flows.stream()
                        .filter(f -> f.streamsHoldingBytes() > 0)
                        .allMatch(f -> f.receiveWindow() == 0 || f.streamsStillFilling() == 0);
    }

    private static List<ConnectionFlow> flows() {
        List<ConnectionFlow> all = new ArrayList<>();
        for (HbonePool pool : mesh.waypoint.upstreamPools()) {
            try {
                all.addAll(Await.get(pool.flows()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return all;
    }

    private static String curl(String path, String... options) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-o", "/dev/null", "--max-time", "10"));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("-w", "%{http_code}", AttackTools.base(legit) + path));
        var r = Processes.run(cmd, Duration.ofSeconds(30));
        // A status alone is not an answer (HTTP/2 HEADERS are not flow-controlled, a stalled body is): exit 0 too.
        return r.exit() == 0
                ? r.out().trim()
                : "curl exit " + r.exit() + " (status " + r.out().trim() + "): "
                        + r.err().trim();
    }
}
