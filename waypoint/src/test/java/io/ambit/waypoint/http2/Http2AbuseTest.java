package io.ambit.waypoint.http2;

import static io.ambit.waypoint.testing.RawH2.CONTINUATION;
import static io.ambit.waypoint.testing.RawH2.DATA;
import static io.ambit.waypoint.testing.RawH2.END_HEADERS;
import static io.ambit.waypoint.testing.RawH2.END_STREAM;
import static io.ambit.waypoint.testing.RawH2.GOAWAY;
import static io.ambit.waypoint.testing.RawH2.HEADERS;
import static io.ambit.waypoint.testing.RawH2.RST_STREAM;
import static io.ambit.waypoint.testing.RawH2.frame;
import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.waypoint.testing.Policies;
import io.ambit.waypoint.testing.RawH2;
import io.ambit.waypoint.testing.RawHttp;
import io.ambit.waypoint.testing.WaypointFixture;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 abuse against the waypoint's inner HTTP/2 server, with hand-made frames: Rapid Reset
 * (CVE-2023-44487), CONTINUATION flood (CVE-2024-27919), a body longer or shorter than its
 * content-length (CVE-2021-21295). Every loop is bounded by a count, every read by a timeout.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class Http2AbuseTest {
    private static WaypointFixture mesh;
    private static InetSocketAddress asSleep;

    @BeforeAll
    static void start() throws Exception {
        mesh = WaypointFixture.start(3, Policies.BASIC);
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
        // warm the tunnel pool so the first test does not measure certificate issuance
        RawHttp.send(asSleep, "GET /get HTTP/1.1\r\nHost: httpbin\r\n\r\n", 500);
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    /** Reads frames until the connection ends (or 15 s); never throws for a reset. */
    private static CompletableFuture<List<RawH2.Frame>> readAll(Socket s) {
        return CompletableFuture.supplyAsync(() -> {
            List<RawH2.Frame> frames = new ArrayList<>();
            try {
                s.setSoTimeout(15_000);
                DataInputStream in = new DataInputStream(s.getInputStream());
                for (int i = 0; i < 100_000; i++) {
                    frames.add(RawH2.read(in));
                }
            } catch (IOException e) {
                // end of connection (or reset): what we have is the answer
            }
            return frames;
        });
    }

    private static String describe(List<RawH2.Frame> frames) {
        return frames.stream()
                .map(f -> "type=" + f.type() + " stream=" + f.stream() + " flags=" + f.flags())
                .toList()
                .toString();
    }

    @Test
    void rapidResetEndsTheConnectionWithEnhanceYourCalm() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(asSleep, 5000);
            var frames = readAll(s);
            OutputStream out = s.getOutputStream();
            RawH2.open(out);
            byte[] block = RawH2.requestBlock("GET", "/get");
            int sent = 0;
            try {
                for (int stream = 1; sent < 5000; stream += 2, sent++) {
                    var pair = new ByteArrayOutputStream();
                    pair.writeBytes(frame(HEADERS, END_HEADERS | END_STREAM, stream, block));
                    pair.writeBytes(frame(RST_STREAM, 0, stream, new byte[] {0, 0, 0, 8})); // CANCEL
                    out.write(pair.toByteArray());
                }
            } catch (IOException e) {
                // the server closed the connection: expected
            }
            var got = frames.get(20, TimeUnit.SECONDS);
            var goaway = got.stream().filter(f -> f.type() == GOAWAY).findFirst();
            assertThat(goaway)
                    .as("a GOAWAY after %d HEADERS+RST pairs; frames %s", sent, got.size())
                    .isPresent();
            assertThat(got.stream()
                            .filter(f -> f.type() == GOAWAY)
                            .map(RawH2.Frame::errorCode)
                            .toList())
                    .as(
                            "ENHANCE_YOUR_CALM among the GOAWAYs; sent %d; frames %s",
                            sent,
                            describe(got.subList(0, Math.min(40, got.size())))
                                    + got.stream()
                                            .filter(f -> f.type() == GOAWAY)
                                            .map(f -> new String(f.payload(), 8, f.payload().length - 8))
                                            .toList())
                    .contains(0xb);
        }
        // Others are still served.
        var r = RawHttp.send(asSleep, "GET /get HTTP/1.1\r\nHost: httpbin\r\n\r\n", 1000);
        assertThat(r.statuses()).containsExactly(200);
    }

    @Test
    void endlessContinuationFramesEndTheConnection() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(asSleep, 5000);
            var frames = readAll(s);
            OutputStream out = s.getOutputStream();
            RawH2.open(out);
            out.write(frame(HEADERS, END_STREAM, 1, RawH2.requestBlock("GET", "/get"))); // no END_HEADERS
            byte[] filler = RawH2.requestBlock("GET", "/get", "x-flood", "a".repeat(1000));
            byte[] onlyHeader = java.util.Arrays.copyOfRange(filler, filler.length - 1010, filler.length);
            int sent = 0;
            try {
                for (; sent < 20_000; sent++) { // 20 MB of header block at most
                    out.write(frame(CONTINUATION, 0, 1, onlyHeader));
                }
            } catch (IOException e) {
                // closed by the server: expected
            }
            var got = frames.get(20, TimeUnit.SECONDS);
            assertThat(sent)
                    .as("the server stopped the flood long before 20 MB")
                    .isLessThan(20_000);
            assertThat(got.stream().anyMatch(f -> f.type() == GOAWAY))
                    .as("GOAWAY sent")
                    .isTrue();
            assertThat(got.stream().noneMatch(f -> f.type() == HEADERS && f.stream() == 1))
                    .as("the request was never answered")
                    .isTrue();
        }
    }

    @Test
    void aBodyLongerThanItsContentLengthIsReset() throws Exception {
        mesh.backends.forEach(b -> b.seen.clear());
        try (Socket s = new Socket()) {
            s.connect(asSleep, 5000);
            OutputStream out = s.getOutputStream();
            RawH2.open(out);
            out.write(frame(HEADERS, END_HEADERS, 1, RawH2.requestBlock("POST", "/echo", "content-length", "5")));
            out.write(frame(DATA, END_STREAM, 1, "0123456789".getBytes()));
            // and a HEADERS-only request that announces a body it never sends
            out.write(frame(
                    HEADERS, END_HEADERS | END_STREAM, 3, RawH2.requestBlock("POST", "/echo", "content-length", "7")));
            out.write(frame(HEADERS, END_HEADERS | END_STREAM, 5, RawH2.requestBlock("GET", "/get")));
            out.flush();
            var got = new ArrayList<RawH2.Frame>();
            s.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            for (int i = 0; i < 100; i++) {
                RawH2.Frame f;
                try {
                    f = RawH2.read(in);
                } catch (IOException e) {
                    throw new AssertionError("connection ended after frames " + describe(got), e);
                }
                got.add(f);
                if (f.stream() == 5 && (f.flags() & END_STREAM) != 0) {
                    break;
                }
            }
            assertThat(got.stream().filter(f -> f.type() == RST_STREAM).map(RawH2.Frame::stream))
                    .as("streams 1 and 3 reset")
                    .contains(1, 3);
            assertThat(got.stream().anyMatch(f -> f.stream() == 1 && f.type() == HEADERS))
                    .isFalse();
            assertThat(got.stream().anyMatch(f -> f.stream() == 5 && f.type() == HEADERS))
                    .as("the connection goes on serving")
                    .isTrue();
        }
        for (var b : mesh.backends) {
            assertThat(b.seen).noneMatch(x -> x.uri().equals("/echo"));
        }
    }
}
