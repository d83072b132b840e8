package io.ambit.waypoint.http2;

import static io.ambit.waypoint.testing.RawH2.DATA;
import static io.ambit.waypoint.testing.RawH2.END_HEADERS;
import static io.ambit.waypoint.testing.RawH2.END_STREAM;
import static io.ambit.waypoint.testing.RawH2.GOAWAY;
import static io.ambit.waypoint.testing.RawH2.HEADERS;
import static io.ambit.waypoint.testing.RawH2.RST_STREAM;
import static io.ambit.waypoint.testing.RawH2.SETTINGS;
import static io.ambit.waypoint.testing.RawH2.frame;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ambit.waypoint.testing.Policies;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.RawH2;
import io.ambit.waypoint.testing.WaypointFixture;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The request streams of the waypoint's HTTP/2 server (no child channel per stream): bodies larger than every
 * flow-control window both ways (Node's http2 client), an answer before the request ended followed by a reset
 * of the rest, a client's reset in the middle of a response, and the tunnel's end closing the connection
 * gracefully (hand-made frames). Every read is bounded by a socket timeout, every loop by a count.
 * Addresses: the fixture's subnet 20 (127.92.20.0/24, moved to this JVM's block by TestNet).
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class Http2StreamsTest {
    private static final int NO_ERROR = 0x0;
    private static final int CANCEL = 0x8;
    private static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;

    private static WaypointFixture mesh;
    private static InetSocketAddress asSleep;
    private static InetSocketAddress asCurl;

    @BeforeAll
    static void start() throws Exception {
        mesh = WaypointFixture.start(20, Policies.BASIC);
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
        asCurl = mesh.clientPort(WaypointFixture.CURL, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    /**
     * 1.5 MiB up and echoed back, then 3 MB down: 24 times the stream window we grant and 45 times the one
     * Node grants. Credit handed back only as the exchange asks for more must still let the whole body through.
     */
    private static final String BODIES_SCRIPT = """
            const http2 = require('http2');
            const crypto = require('crypto');
            const [url, upBytes, downBytes] = process.argv.slice(1);
            const session = http2.connect(url);
            session.on('error', (e) => { console.error('session error ' + e.message); process.exit(2); });
            setTimeout(() => { console.error('timeout'); process.exit(4); }, 30000).unref();
            function call(headers, body) {
              return new Promise((resolve, reject) => {
                const req = session.request(headers);
                const chunks = [];
                let status = 0;
                req.on('response', (h) => { status = h[':status']; });
                req.on('data', (c) => chunks.push(c));
                req.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
                req.on('error', reject);
                req.end(body);
              });
            }
            (async () => {
              const up = crypto.randomBytes(parseInt(upBytes, 10));
              const echo = await call({ ':method': 'POST', ':path': '/echo' }, up);
              console.log('echo ' + echo.status + ' ' + echo.body.length + ' ' + echo.body.equals(up));
              const n = parseInt(downBytes, 10);
              const down = await call({ ':path': '/bytes/' + n });
              let pattern = down.body.length === n;
              for (let i = 0; pattern && i < n; i++) { pattern = down.body[i] === 97 + (i % 26); }
              console.log('bytes ' + down.status + ' ' + down.body.length + ' ' + pattern);
              session.close();
            })().catch((e) => { console.error('stream error ' + e.message); process.exit(3); });
            """;

    @Test
    void bodiesLargerThanEveryWindowCrossIntactBothWays() throws Exception {
        assumeTrue(Processes.available("node"), "node is installed");
        String url = "http://" + asSleep.getAddress().getHostAddress() + ":" + asSleep.getPort();
        var r = Processes.run(List.of("node", "-e", BODIES_SCRIPT, url, "1572864", "3000000"), Duration.ofSeconds(60));
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out().lines().toList())
                .as(r.toString())
                .containsExactly("echo 200 1572864 true", "bytes 200 3000000 true");
    }

    @Test
    void anAnswerBeforeTheBodyEndsResetsTheRestAndTheConnectionGoesOn() throws Exception {
        try (var c = new RawClient(asCurl)) {
            c.out.write(
                    frame(HEADERS, END_HEADERS, 1, RawH2.requestBlock("POST", "/post", "content-length", "100000")));
            c.out.flush();
            var reset = c.readUntil(f -> f.type() == RST_STREAM && f.stream() == 1);
            assertThat(c.status(1)).as("denied before the body was read").isEqualTo("403");
            assertThat(c.frames)
                    .as("the answer ends its stream before the reset; frames %s", c.described())
                    .anyMatch(f -> f.stream() == 1 && f.type() != RST_STREAM && (f.flags() & END_STREAM) != 0);
            // NO_ERROR after a complete response (RFC 9113 §8.1): the client stops sending and keeps the answer.
            assertThat(reset.errorCode())
                    .as("the rest of the body is stopped without an error")
                    .isEqualTo(NO_ERROR);

            c.out.write(frame(HEADERS, END_HEADERS | END_STREAM, 3, RawH2.requestBlock("GET", "/get")));
            c.out.flush();
            c.readUntil(f -> f.stream() == 3 && (f.flags() & END_STREAM) != 0);
            assertThat(c.status(3)).as("the next stream on the same connection").isEqualTo("403");
        }
        for (var b : mesh.backends) {
            assertThat(b.seen).noneMatch(x -> x.uri().equals("/post"));
        }
    }

    @Test
    void theRestOfAnUploadAfterAnEarlyAnswerIsDroppedQuietly() throws Exception {
        try (var c = new RawClient(asCurl)) {
            // Three denied uploads, each followed by 100 DATA frames the client had in flight before it saw the
            // reset (as curl does): answering each with RST_STREAM(STREAM_CLOSED) would spend our own reset budget
            // (200 per 30 s) and end the connection with ENHANCE_YOUR_CALM for nothing but uploads.
            for (int stream = 1; stream <= 5; stream += 2) {
                c.out.write(frame(
                        HEADERS, END_HEADERS, stream, RawH2.requestBlock("POST", "/post", "content-length", "100000")));
                c.out.flush();
                int id = stream;
                c.readUntil(f -> f.type() == RST_STREAM && f.stream() == id);
                for (int i = 0; i < 100; i++) {
                    c.out.write(frame(DATA, 0, stream, new byte[10]));
                }
                c.out.flush();
            }
            c.out.write(frame(HEADERS, END_HEADERS | END_STREAM, 7, RawH2.requestBlock("GET", "/get")));
            c.out.flush();
            c.readUntil(f -> f.stream() == 7 && (f.flags() & END_STREAM) != 0);
            assertThat(c.status(7))
                    .as("the connection still serves; frames %s", c.described())
                    .isEqualTo("403");
            assertThat(c.frames).noneMatch(f -> f.type() == GOAWAY);
            assertThat(c.frames.stream().filter(f -> f.type() == RST_STREAM).count())
                    .as("one reset per early answer, none per dropped frame")
                    .isEqualTo(3);
        }
    }

    /**
     * security-cases.md rows 1-3 over HTTP/2: the :path as sent (no client library normalizes it first); the same
     * corpus as SmugglingTest's over HTTP/1.1 (without {@code //admin}: the mesh's default normalization is Istio's
     * BASE, which does not merge slashes).
     */
    static java.util.stream.Stream<String> deniedPaths() {
        return java.util.stream.Stream.of(
                "/admin",
                "/admin/users",
                "/a/../admin",
                "/./admin",
                "/%61dmin",
                "/%2e%2e/admin",
                "/get/%2E%2E/%2e%2E/admin",
                "/x\\..\\admin",
                "/admin#fragment",
                "/admin?x=1");
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "over HTTP/2, DENY /admin also denies {0}")
    @org.junit.jupiter.params.provider.MethodSource("deniedPaths")
    void pathsAreNormalizedBeforeAuthorization(String path) throws Exception {
        try (var c = new RawClient(asSleep)) {
            c.out.write(frame(HEADERS, END_HEADERS | END_STREAM, 1, RawH2.requestBlock("GET", path)));
            c.out.flush();
            c.readUntil(f -> f.stream() == 1 && (f.flags() & END_STREAM) != 0);
            assertThat(c.status(1)).as("frames %s", c.described()).isIn("403", "400");
        }
    }

    @Test
    void aRepeatedHeaderFieldIsEvaluatedPerValue() throws Exception {
        // security-cases.md rows 5-6 over HTTP/2: two x-user fields; DENY x-user: admin must hit the second.
        try (var c = new RawClient(asSleep)) {
            c.out.write(frame(
                    HEADERS,
                    END_HEADERS | END_STREAM,
                    1,
                    RawH2.requestBlock("GET", "/get", "x-user", "someone", "x-user", "admin")));
            c.out.flush();
            c.readUntil(f -> f.stream() == 1 && (f.flags() & END_STREAM) != 0);
            assertThat(c.status(1)).as("frames %s", c.described()).isEqualTo("403");
        }
    }

    @Test
    void aClientResetInTheMiddleOfAResponseEndsItsExchange() throws Exception {
        try (var c = new RawClient(asSleep)) {
            // A 1 KiB stream window: the 2 MB answer stalls in flow control after its head.
            c.out.write(frame(SETTINGS, 0, 0, setting(SETTINGS_INITIAL_WINDOW_SIZE, 1024)));
            c.out.write(frame(HEADERS, END_HEADERS | END_STREAM, 1, RawH2.requestBlock("GET", "/bytes/2000000")));
            c.out.flush();
            c.readUntil(f -> f.type() == HEADERS && f.stream() == 1);
            assertThat(c.status(1)).isEqualTo("200");
            c.out.write(frame(RST_STREAM, 0, 1, new byte[] {0, 0, 0, CANCEL}));
            c.out.flush();

            String line = mesh.awaitLog(l -> l.contains("/bytes/2000000"));
            assertThat(line).as("the exchange learned the client left").contains("\"response_flags\":\"DC\"");

            c.out.write(frame(HEADERS, END_HEADERS | END_STREAM, 3, RawH2.requestBlock("GET", "/get")));
            c.out.flush();
            c.readUntil(f -> f.type() == HEADERS && f.stream() == 3);
            assertThat(c.status(3)).as("the connection goes on serving").isEqualTo("200");
        }
    }

    @Test
    void theEndOfTheTunnelEndsTheConnectionAfterTheRequestsInFlight() throws Exception {
        try (var c = new RawClient(asSleep)) {
            c.out.write(frame(HEADERS, END_HEADERS | END_STREAM, 1, RawH2.requestBlock("GET", "/get")));
            c.out.flush();
            c.socket.shutdownOutput(); // the client's ztunnel ends the tunnel's input: END_STREAM on the CONNECT
            boolean ended = c.readToEnd();
            assertThat(ended)
                    .as("the waypoint closed the connection; frames %s", c.described())
                    .isTrue();
            assertThat(c.frames).anyMatch(f -> f.type() == GOAWAY && f.errorCode() == 0);
            assertThat(c.status(1))
                    .as("the request in flight was still answered")
                    .isEqualTo("200");
            assertThat(c.frames).anyMatch(f -> f.stream() == 1 && f.type() == DATA && (f.flags() & END_STREAM) != 0);
        }
    }

    @Test
    void theEndOfTheTunnelMidBodyEndsThatStreamAtOnceAndAnswersTheCompleteOnes() throws Exception {
        try (var c = new RawClient(asSleep)) {
            // Stream 1: a request whose body can never end; stream 3: a complete request.
            c.out.write(frame(
                    HEADERS, END_HEADERS, 1, RawH2.requestBlock("POST", "/echo/h2-cut", "content-length", "100000")));
            c.out.write(frame(DATA, 0, 1, new byte[1000]));
            c.out.write(frame(HEADERS, END_HEADERS | END_STREAM, 3, RawH2.requestBlock("GET", "/get?h2-cut")));
            c.out.flush();
            c.socket.shutdownOutput(); // the client's ztunnel ends the tunnel's input: END_STREAM on the CONNECT
            long start = System.nanoTime();
            // Read to the end; a socket timeout (10 s: far below the 30 s graceful-close timeout that a stream
            // which can never end would hold the connection for) is a failure here, not an end.
            c.socket.setSoTimeout(10_000);
            boolean eof = false;
            for (int i = 0; i < 1000 && !eof; i++) {
                try {
                    c.next();
                } catch (java.io.EOFException | java.net.SocketException end) {
                    eof = true;
                }
            }
            assertThat(eof).as("the connection ended; frames %s", c.described()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .as("ended without waiting for a timeout")
                    .isLessThan(Duration.ofSeconds(10));
            assertThat(c.frames)
                    .as("the unfinished stream was reset; frames %s", c.described())
                    .anyMatch(f -> f.type() == RST_STREAM && f.stream() == 1);
            assertThat(c.frames)
                    .as("no response on it passed for complete")
                    .noneMatch(f -> f.stream() == 1 && (f.flags() & END_STREAM) != 0);
            assertThat(c.status(3)).as("the complete request was answered").isEqualTo("200");
            assertThat(c.frames).anyMatch(f -> f.stream() == 3 && (f.flags() & END_STREAM) != 0);
            assertThat(c.frames).anyMatch(f -> f.type() == GOAWAY && f.errorCode() == 0);
        }
        assertThat(mesh.awaitLog(l -> l.contains("\"path\":\"/echo/h2-cut\""))).contains("\"response_flags\":\"DC\"");
        for (var b : mesh.backends) {
            assertThat(b.seen).as("no app got the request made whole").noneMatch(x -> x.uri()
                    .equals("/echo/h2-cut"));
        }
    }

    private static byte[] setting(int id, int value) {
        return new byte[] {
            (byte) (id >>> 8),
            (byte) id,
            (byte) (value >>> 24),
            (byte) (value >>> 16),
            (byte) (value >>> 8),
            (byte) value
        };
    }

    /** A hand-made HTTP/2 client: frames out, frames in (HEADERS decoded with one HPACK context, in order). */
    private static final class RawClient implements AutoCloseable {
        final Socket socket = new Socket();
        final OutputStream out;
        final DataInputStream in;
        final List<RawH2.Frame> frames = new ArrayList<>();
        private final DefaultHttp2HeadersDecoder hpack = new DefaultHttp2HeadersDecoder(false);
        private final java.util.Map<Integer, Http2Headers> heads = new java.util.HashMap<>();

        RawClient(InetSocketAddress to) throws IOException {
            socket.connect(to, 5000);
            socket.setSoTimeout(15_000);
            out = socket.getOutputStream();
            in = new DataInputStream(socket.getInputStream());
            RawH2.open(out);
        }

        /** Reads until a frame matches (at most 1,000 frames, each within the socket timeout). */
        RawH2.Frame readUntil(Predicate<RawH2.Frame> match) throws IOException, Http2Exception {
            for (int i = 0; i < 1000; i++) {
                RawH2.Frame f = next();
                if (match.test(f)) {
                    return f;
                }
            }
            throw new AssertionError("no matching frame among " + frames.size());
        }

        /** Reads until the server closes (true) or 1,000 frames (false). */
        boolean readToEnd() throws Http2Exception {
            for (int i = 0; i < 1000; i++) {
                try {
                    next();
                } catch (IOException e) {
                    return true;
                }
            }
            return false;
        }

        private RawH2.Frame next() throws IOException, Http2Exception {
            RawH2.Frame f = RawH2.read(in);
            frames.add(f);
            if (f.type() == HEADERS) {
                // Netty never pads nor prioritises: the payload is the header block (END_HEADERS, no CONTINUATION).
                var block = Unpooled.wrappedBuffer(f.payload());
                try {
                    Http2Headers h = hpack.decodeHeaders(f.stream(), block);
                    heads.putIfAbsent(f.stream(), h);
                } finally {
                    block.release();
                }
            }
            return f;
        }

        /** The frames read so far, one line each (type, stream, flags, length; GOAWAY: last stream, error). */
        String described() {
            var b = new StringBuilder();
            for (var f : frames) {
                b.append("\n  type=").append(f.type()).append(" stream=").append(f.stream());
                b.append(" flags=").append(f.flags()).append(" length=").append(f.payload().length);
                if (f.type() == GOAWAY) {
                    int last = (f.payload()[0] & 0x7f) << 24
                            | (f.payload()[1] & 0xff) << 16
                            | (f.payload()[2] & 0xff) << 8
                            | (f.payload()[3] & 0xff);
                    b.append(" last-stream=").append(last).append(" error=").append(f.errorCode());
                }
            }
            return b.toString();
        }

        /** The {@code :status} of the response on {@code stream}. */
        String status(int stream) {
            Http2Headers h = heads.get(stream);
            assertThat(h)
                    .as("a response head on stream %d; frames %s", stream, described())
                    .isNotNull();
            return String.valueOf(h.status());
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
