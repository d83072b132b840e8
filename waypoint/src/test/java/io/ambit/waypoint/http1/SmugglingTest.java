package io.ambit.waypoint.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.waypoint.testing.EchoBackend;
import io.ambit.waypoint.testing.Policies;
import io.ambit.waypoint.testing.RawHttp;
import io.ambit.waypoint.testing.WaypointFixture;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Raw HTTP/1.1 through the waypoint: the request-smuggling corpus (security cases 16–18, 21), path
 * normalization before authorization (cases 1–3), and what is accepted beside them. Each malformed head
 * is answered 400 and the connection closed; nothing of it reaches an app.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class SmugglingTest {
    private static WaypointFixture mesh;
    private static InetSocketAddress asSleep;

    @BeforeAll
    static void start() throws Exception {
        mesh = WaypointFixture.start(2, Policies.BASIC);
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    static Stream<Arguments> malformed() {
        String h = "Host: httpbin\r\n";
        return Stream.of(
                Arguments.of(
                        "CL.TE: Content-Length and Transfer-Encoding together",
                        "POST /get HTTP/1.1\r\n" + h
                                + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG"),
                Arguments.of(
                        "TE.CL: Transfer-Encoding before Content-Length",
                        "POST /get HTTP/1.1\r\n" + h
                                + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n"),
                Arguments.of(
                        "two Content-Length headers",
                        "POST /get HTTP/1.1\r\n" + h + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
                Arguments.of(
                        "two equal Content-Length headers",
                        "POST /get HTTP/1.1\r\n" + h + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
                Arguments.of(
                        "Transfer-Encoding: xchunked (TE.TE obfuscation)",
                        "POST /get HTTP/1.1\r\n" + h + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"),
                Arguments.of(
                        "Transfer-Encoding: chunked, identity",
                        "POST /get HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"),
                Arguments.of(
                        "two Transfer-Encoding headers",
                        "POST /get HTTP/1.1\r\n" + h
                                + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n"),
                Arguments.of(
                        "whitespace before the colon of Transfer-Encoding",
                        "POST /get HTTP/1.1\r\n" + h + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n"),
                Arguments.of("a header line without colon", "GET /get HTTP/1.1\r\n" + h + "Foo bar\r\n\r\n"),
                Arguments.of(
                        "a control character in a header name",
                        "GET /get HTTP/1.1\r\n" + h + "X-Fo\u0001o: bar\r\n\r\n"),
                Arguments.of("a bare LF line ending", "GET /get HTTP/1.1\n" + h + "\r\n"),
                Arguments.of(
                        "Transfer-Encoding on HTTP/1.0",
                        "POST /get HTTP/1.0\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                Arguments.of("a 20 KiB request line", "GET /" + "a".repeat(20 * 1024) + " HTTP/1.1\r\n" + h + "\r\n"),
                Arguments.of(
                        "70 KiB of headers",
                        "GET /get HTTP/1.1\r\n" + h + "X-Big: " + "b".repeat(70 * 1024) + "\r\n\r\n"),
                Arguments.of(
                        "a 300-byte authority (CVE-2024-32475)",
                        "GET /get HTTP/1.1\r\nHost: " + "h".repeat(600) + "\r\n\r\n"),
                Arguments.of("no Host header", "GET /get HTTP/1.1\r\n\r\n"),
                Arguments.of("two Host headers", "GET /get HTTP/1.1\r\n" + h + h + "\r\n"),
                Arguments.of("an absolute-form target", "GET http://evil/get HTTP/1.1\r\n" + h + "\r\n"),
                Arguments.of("CONNECT", "CONNECT 10.0.0.1:443 HTTP/1.1\r\nHost: 10.0.0.1:443\r\n\r\n"),
                Arguments.of("a NUL escaped in the path", "GET /get%00x HTTP/1.1\r\n" + h + "\r\n"));
    }

    @ParameterizedTest(name = "{0}: 400 and closed")
    @MethodSource("malformed")
    void malformedRequestsAre400AndClose(String name, String request) throws Exception {
        mesh.backends.forEach(b -> b.seen.clear());
        // A well-formed request pipelined after the bad one must never be served.
        var r = RawHttp.send(asSleep, request + "GET /get?smuggled HTTP/1.1\r\nHost: httpbin\r\n\r\n", 3000);
        assertThat(r.statuses()).as(r.response()).containsExactly(400);
        assertThat(r.closedByServer()).as("connection closed after the 400").isTrue();
        for (EchoBackend b : mesh.backends) {
            assertThat(b.seen.poll(50, TimeUnit.MILLISECONDS))
                    .as("nothing reaches the app")
                    .isNull();
        }
    }

    static Stream<Arguments> deniedPaths() {
        return Stream.of(
                Arguments.of("/admin"),
                Arguments.of("/admin/users"),
                Arguments.of("/a/../admin"),
                Arguments.of("/./admin"),
                Arguments.of("/%61dmin"),
                Arguments.of("/%2e%2e/admin"),
                Arguments.of("/get/%2E%2E/%2e%2E/admin"),
                Arguments.of("/x\\..\\admin"),
                Arguments.of("/admin#fragment"),
                Arguments.of("/admin?x=1"));
    }

    @ParameterizedTest(name = "DENY /admin also denies {0}")
    @MethodSource("deniedPaths")
    void pathsAreNormalizedBeforeAuthorization(String path) throws Exception {
        var r = RawHttp.send(asSleep, "GET " + path + " HTTP/1.1\r\nHost: httpbin\r\n\r\n", 1000);
        assertThat(r.statuses()).as(r.response()).containsExactly(403);
        assertThat(r.response()).contains("RBAC: access denied");
    }

    @Test
    void theAppGetsThePathThePolicySaw() throws Exception {
        mesh.backends.forEach(b -> b.seen.clear());
        var r = RawHttp.send(asSleep, "GET /x/../%67et?a=%2F#frag HTTP/1.1\r\nHost: httpbin\r\n\r\n", 1000);
        assertThat(r.statuses()).as(r.response()).containsExactly(200);
        assertThat(seenUri()).isEqualTo("/get?a=%2F");
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        String req = "GET /get?n=%d HTTP/1.1\r\nHost: httpbin\r\n\r\n";
        var r = RawHttp.send(
                asSleep,
                req.formatted(1) + req.formatted(2) + "GET /admin HTTP/1.1\r\nHost: h\r\n\r\n" + req.formatted(3),
                1500);
        assertThat(r.statuses()).as(r.response()).containsExactly(200, 200, 403, 200);
        assertThat(r.response().indexOf("uri=/get?n=1")).isLessThan(r.response().indexOf("uri=/get?n=2"));
        assertThat(r.closedByServer()).isFalse();
    }

    @Test
    void anUpgradeIsNotAProtocolSwitch() throws Exception {
        mesh.backends.forEach(b -> b.seen.clear());
        var r = RawHttp.send(
                asSleep,
                "GET /get HTTP/1.1\r\nHost: httpbin\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                        + "GET /get?after HTTP/1.1\r\nHost: httpbin\r\n\r\n",
                1500);
        assertThat(r.statuses()).as(r.response()).containsExactly(200, 200);
        EchoBackend.Seen first = seen();
        assertThat(first.header("upgrade")).isNull();
        assertThat(first.header("connection")).isNull();
    }

    @Test
    void aChunkedBodyIsForwardedChunked() throws Exception {
        var r = RawHttp.send(
                asSleep,
                "POST /echo HTTP/1.1\r\nHost: httpbin\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
                1500);
        assertThat(r.statuses()).as(r.response()).containsExactly(200);
        assertThat(r.response()).endsWith("hello world");
    }

    @Test
    void aRequestClosingTheConnectionGetsItsAnswerThenTheClose() throws Exception {
        var r = RawHttp.send(asSleep, "GET /get HTTP/1.1\r\nHost: httpbin\r\nConnection: close\r\n\r\n", 3000);
        assertThat(r.statuses()).containsExactly(200);
        assertThat(r.response()).containsIgnoringCase("connection: close");
        assertThat(r.closedByServer()).isTrue();
    }

    private static EchoBackend.Seen seen() throws InterruptedException {
        for (int i = 0; i < 400; i++) {
            for (EchoBackend b : mesh.backends) {
                var s = b.seen.poll(5, TimeUnit.MILLISECONDS);
                if (s != null) {
                    return s;
                }
            }
        }
        throw new AssertionError("the app saw nothing");
    }

    private static String seenUri() throws InterruptedException {
        return seen().uri();
    }
}
