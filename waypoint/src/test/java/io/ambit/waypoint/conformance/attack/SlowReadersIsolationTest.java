package io.ambit.waypoint.conformance.attack;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.flow.ConnectionFlow;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.waypoint.testing.Await;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.WaypointFixture;
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
 * credit lent and congested connections avoided it is answered at once.
 */
@ExtendWith(io.ambit.waypoint.testing.NoLeaks.class)
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

        List<Socket> readers = new ArrayList<>();
        try {
            for (int i = 0; i < READERS; i++) {
                readers.add(stalledReader());
            }
            Await.until(
                    () -> seen(PATH) == READERS,
                    "the apps received the " + READERS + " large requests (seen " + seen(PATH) + ")");
            Await.until(
                    SlowReadersIsolationTest::upstreamsFullOfUnreadBytes,
                    "every upstream connection's window is used up, or its connection is congested: "
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
     * Nothing more can reach the stalled responses at the waypoint: every upstream connection that carries them
     * (more than the one idle keep-alive stream) has its receive window used up, or is congested (its parked bytes
     * passed half the budget lent for them). A state the responses reach by themselves (nothing reads them), not a
     * pause: with plain flow control it is the connection window at 0.
     */
    private static boolean upstreamsFullOfUnreadBytes() {
        List<ConnectionFlow> carrying =
                flows().stream().filter(f -> f.unconsumedBytes() > 0).toList();
        return carrying.size() >= 2 && carrying.stream().allMatch(f -> f.receiveWindow() == 0 || f.congested());
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

    private static String curl(String path) throws Exception {
        var r = Processes.run(
                List.of(
                        "curl",
                        "-sS",
                        "-o",
                        "/dev/null",
                        "--max-time",
                        "10",
                        "-w",
                        "%{http_code}",
                        AttackTools.base(legit) + path),
                Duration.ofSeconds(30));
        return r.out().trim().isEmpty()
                ? "curl exit " + r.exit() + ": " + r.err().trim()
                : r.out().trim();
    }
}
