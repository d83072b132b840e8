package io.ambit.waypoint.http1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.waypoint.testing.Policies;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.WaypointFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A client that half-closes (FIN) through the client's hop, which turns it into END_STREAM on the HBONE
 * tunnel: after a complete request it still gets every answer it asked for and then the connection's end
 * (a FIN, not a reset that could eat the answer); before its request is complete the request can never
 * complete, so it ends at once as a downstream termination ({@code DC}) with nothing forwarded as if it
 * were whole. Real sockets with {@code shutdownOutput} and OpenBSD {@code nc -N}. Addresses: the fixture's
 * net 9 (127.92.9.0/24 unless another run holds it).
 */
@ExtendWith(NoLeaks.class)
class HalfCloseTest {
    private static final String HOST = "Host: httpbin\r\n";

    private static WaypointFixture mesh;
    private static InetSocketAddress asSleep;

    @BeforeAll
    static void start() throws Exception {
        mesh = WaypointFixture.start(9, Policies.BASIC);
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    /** What came back until the connection ended, and how it ended. */
    record Received(String text, int bytes, boolean eof, boolean reset, boolean stalled) {}

    /** Writes {@code request}, half-closes, and reads until the connection ends (bounded: 20 s quiet, 4 MiB). */
    static Received sendThenFin(byte[] request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(asSleep, 5000);
            s.setSoTimeout(20_000);
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            s.shutdownOutput();
            return readToEnd(s);
        }
    }

    static Received readToEnd(Socket s) throws IOException {
        var out = new ByteArrayOutputStream();
        byte[] buf = new byte[16384];
        while (out.size() < 4 * 1024 * 1024) {
            int n;
            try {
                n = s.getInputStream().read(buf);
            } catch (SocketTimeoutException e) {
                return new Received(out.toString(StandardCharsets.ISO_8859_1), out.size(), false, false, true);
            } catch (IOException e) {
                return new Received(out.toString(StandardCharsets.ISO_8859_1), out.size(), false, true, false);
            }
            if (n < 0) {
                return new Received(out.toString(StandardCharsets.ISO_8859_1), out.size(), true, false, false);
            }
            out.write(buf, 0, n);
        }
        throw new AssertionError("more than 4 MiB came back");
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static String logFor(String path) throws InterruptedException {
        return mesh.awaitLog(l -> l.contains("\"path\":\"" + path + "\""));
    }

    @Test
    void aCompleteRequestThenFinGetsTheWholeAnswerThenTheConnectionEnds() throws Exception {
        // A large answer: a reset right after it (a plain close of the half-closed tunnel) would cut its tail.
        var r = sendThenFin(ascii("GET /bytes/400000 HTTP/1.1\r\n" + HOST + "\r\n"));
        assertThat(r.eof()).as("ended by a FIN, not a reset or silence: %s", r).isTrue();
        assertThat(r.text()).startsWith("HTTP/1.1 200 ");
        int body = r.text().indexOf("\r\n\r\n") + 4;
        assertThat(r.bytes() - body).as("the whole body").isEqualTo(400_000);
        assertThat(logFor("/bytes/400000")).contains("\"response_code\":200", "\"response_flags\":\"-\"");
    }

    @Test
    void aCompleteBodyThenFinIsForwardedAndAnswered() throws Exception {
        String body = "the whole body, then FIN";
        var r = sendThenFin(
                ascii("POST /echo/whole HTTP/1.1\r\n" + HOST + "Content-Length: " + body.length() + "\r\n\r\n" + body));
        assertThat(r.eof()).as("%s", r).isTrue();
        assertThat(r.text()).startsWith("HTTP/1.1 200 ").endsWith(body);
    }

    @Test
    void requestsPipelinedBeforeTheFinAreAllAnswered() throws Exception {
        var r = sendThenFin(ascii("GET /get?n=1 HTTP/1.1\r\n" + HOST + "\r\n" + "GET /get?n=2 HTTP/1.1\r\n" + HOST
                + "\r\n" + "GET /get?n=3 HTTP/1.1\r\n" + HOST + "\r\n"));
        assertThat(r.eof()).as("%s", r).isTrue();
        assertThat(new io.ambit.waypoint.testing.RawHttp.Exchange(r.text(), true).statuses())
                .containsExactly(200, 200, 200);
        assertThat(r.text()).contains("uri=/get?n=1", "uri=/get?n=2", "uri=/get?n=3");
    }

    @Test
    void ncWithDashNGetsItsAnswerAndEnds() throws Exception {
        assumeTrue(Processes.available("nc"), "OpenBSD netcat (nc -N) is installed");
        // -N: shut the socket's sending side down at the end of stdin; nc then reads until the server ends.
        var r = Processes.run(
                List.of("nc", "-N", asSleep.getAddress().getHostAddress(), Integer.toString(asSleep.getPort())),
                ascii("GET /get?via=nc HTTP/1.1\r\n" + HOST + "User-Agent: nc\r\n\r\n"),
                Duration.ofSeconds(30));
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(r.out()).startsWith("HTTP/1.1 200 ").contains("uri=/get?via=nc");
    }

    @Test
    void aFinMidBodyEndsTheRequestAtOnceAsADownstreamTermination() throws Exception {
        var r = sendThenFin(
                ascii("POST /echo/cut HTTP/1.1\r\n" + HOST + "Content-Length: 100000\r\n\r\n" + "x".repeat(1000)));
        // No answer (there is no request to answer) and no waiting for a timeout: the connection just ends.
        assertThat(r.bytes()).as("%s", r).isZero();
        assertThat(r.stalled()).as("ended, not left waiting").isFalse();
        assertThat(logFor("/echo/cut")).contains("\"response_flags\":\"DC\"");
        assertThat(mesh.backends).as("no app got a request made whole").allSatisfy(b -> assertThat(b.seen)
                .noneMatch(s -> s.uri().equals("/echo/cut")));
    }

    @Test
    void aFinMidChunkedBodyEndsTheRequestAtOnce() throws Exception {
        var r = sendThenFin(ascii("POST /echo/chunks HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\n\r\n"
                + "5\r\nfirst\r\n6\r\nsecond\r\n"));
        assertThat(r.bytes()).as("%s", r).isZero();
        assertThat(r.stalled()).isFalse();
        assertThat(logFor("/echo/chunks")).contains("\"response_flags\":\"DC\"");
        assertThat(mesh.backends)
                .allSatisfy(b -> assertThat(b.seen).noneMatch(s -> s.uri().equals("/echo/chunks")));
    }

    @Test
    void aFinAfterOneWholeRequestAndPartOfTheNextAnswersTheFirstOnly() throws Exception {
        var r = sendThenFin(ascii("GET /get?whole HTTP/1.1\r\n" + HOST + "\r\n" + "POST /echo/next HTTP/1.1\r\n" + HOST
                + "Content-Length: 50\r\n\r\nonly part"));
        assertThat(r.eof()).as("%s", r).isTrue();
        assertThat(new io.ambit.waypoint.testing.RawHttp.Exchange(r.text(), true).statuses())
                .containsExactly(200);
        assertThat(r.text()).contains("uri=/get?whole");
        assertThat(mesh.backends)
                .allSatisfy(b -> assertThat(b.seen).noneMatch(s -> s.uri().equals("/echo/next")));
    }

    @Test
    void aBrokenChunkMidBodyIsRefusedAndNeverForwardedAsAWholeBody() throws Exception {
        // Netty's decoder ends the body at a bad chunk size with a failed last part: forwarding that end
        // would hand the app a shorter request that looks complete.
        var r = io.ambit.waypoint.testing.RawHttp.send(
                asSleep,
                "POST /echo/badchunk HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\n\r\n"
                        + "5\r\nfirst\r\nzz\r\nsecond\r\n0\r\n\r\n",
                2000);
        assertThat(r.statuses()).as(r.response()).containsExactly(400);
        assertThat(r.closedByServer()).isTrue();
        assertThat(logFor("/echo/badchunk")).contains("\"response_code\":400", "\"response_flags\":\"DPE\"");
        assertThat(mesh.backends)
                .allSatisfy(b -> assertThat(b.seen).noneMatch(s -> s.uri().equals("/echo/badchunk")));
    }
}
