package io.ambit.hbone.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.pool.HboneStream;
import io.ambit.hbone.pool.TunnelRejectedException;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.relay.RelayResult;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.OutboundCapture;
import io.ambit.hbone.testsupport.RawH2Client;
import io.ambit.hbone.testsupport.RawTls;
import io.ambit.hbone.testsupport.TcpClient;
import io.ambit.hbone.testsupport.TcpServer;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.UpstreamConnector;
import io.ambit.hbone.transport.Http2KeepAlive;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The HBONE server: what reaches the handler, what it answers, and what it refuses on its own. */
@ExtendWith(NoLeaks.class)
final class HboneServerTest {
    private static TestLoops loops;
    private static TcpServer echo;

    @BeforeAll
    static void start() throws Exception {
        loops = TestLoops.start();
        echo = TcpServer.start(loops, TcpServer.Mode.ECHO);
    }

    @AfterAll
    static void stop() {
        echo.close();
        loops.close();
    }

    @Test
    void theHandlerSeesThePeerTheAuthorityAndTheParsedHeaders() throws Exception {
        UpstreamConnector handler = new UpstreamConnector(loops.transport);
        try (HboneFixture hbone = HboneFixture.start(loops, handler)) {
            Authority target = Authority.of(echo.address());
            TraceParent trace = TraceParent.random();
            TunnelRequest request = new TunnelRequest(
                    target,
                    "k8s.namespace.name=default,service.name=sleep",
                    Forwarded.format("10.0.0.9:41234", "httpbin.default.svc.cluster.local"),
                    trace,
                    java.util.Map.of());
            HboneStream stream = Await.get(hbone.pool.connect(hbone.key(), request));

            ConnectRequest seen = handler.requests.take();
            assertThat(seen.peer().identity()).isEqualTo(Ids.CLIENT);
            assertThat(seen.peer().namedGroup()).isEqualTo("X25519MLKEM768");
            assertThat(seen.authority()).isEqualTo(target);
            assertThat(seen.baggage().get("service.name")).contains("sleep");
            assertThat(seen.forwarded().flatMap(Forwarded::forAddress)).contains("10.0.0.9:41234");
            assertThat(seen.forwarded().flatMap(Forwarded::host)).contains("httpbin.default.svc.cluster.local");
            assertThat(seen.traceParent()).contains(trace);
            assertThat(seen.remoteAddress().getAddress().isLoopbackAddress()).isTrue();
            assertThat(stream.peer().identity()).isEqualTo(Ids.SERVER);
            stream.channel().close();
        }
    }

    @ParameterizedTest(name = "a handler answering {0} fails the tunnel with {0}")
    @CsvSource({"UNAUTHORIZED, 401", "SERVICE_UNAVAILABLE, 503", "BAD_REQUEST, 400"})
    void handlerStatusesReachTheClient(ConnectStatus status, int code) throws Exception {
        UpstreamConnector handler =
                new UpstreamConnector(loops.transport, r -> CompletableFuture.completedFuture(status));
        try (HboneFixture hbone = HboneFixture.start(loops, handler)) {
            Throwable failure =
                    Await.failure(hbone.pool.connect(hbone.key(), TunnelRequest.to(Authority.of(echo.address()))));
            assertThat(failure).isInstanceOf(TunnelRejectedException.class);
            assertThat(((TunnelRejectedException) failure).status()).isEqualTo(code);
            assertThat(hbone.server.stats().rejected()).isEqualTo(1);
        }
    }

    @Test
    void anUnreachableUpstreamIs503() throws Exception {
        UpstreamConnector handler = new UpstreamConnector(loops.transport);
        try (HboneFixture hbone = HboneFixture.start(loops, handler)) {
            Authority closedPort = Authority.parse("127.0.0.1:1");
            Throwable failure = Await.failure(hbone.pool.connect(hbone.key(), TunnelRequest.to(closedPort)));
            assertThat(((TunnelRejectedException) failure).status()).isEqualTo(503);
        }
    }

    @Test
    void aFailingOrSilentHandlerIs503() throws Exception {
        ConnectHandler failing = r -> CompletableFuture.failedFuture(new IllegalStateException("boom"));
        try (HboneFixture hbone = HboneFixture.start(loops, failing)) {
            Throwable failure =
                    Await.failure(hbone.pool.connect(hbone.key(), TunnelRequest.to(Authority.of(echo.address()))));
            assertThat(((TunnelRejectedException) failure).status()).isEqualTo(503);
        }
        ConnectHandler silent = r -> new CompletableFuture<>();
        HboneServerConfig quick = HboneFixture.defaultServerConfig().withDecisionTimeout(Duration.ofMillis(200));
        try (HboneFixture hbone = HboneFixture.start(loops, quick, silent, io.ambit.hbone.pool.PoolConfig.defaults())) {
            Throwable failure =
                    Await.failure(hbone.pool.connect(hbone.key(), TunnelRequest.to(Authority.of(echo.address()))));
            assertThat(((TunnelRejectedException) failure).status()).isEqualTo(503);
        }
    }

    @ParameterizedTest(name = "{0} is answered 400 without asking the handler")
    @CsvSource(delimiter = '|', textBlock = """
            a GET                                  | GET     | 127.0.0.1:80        | /
            a CONNECT with a path                  | CONNECT | 127.0.0.1:80        | /x
            an authority without a port            | CONNECT | 127.0.0.1           |
            port 0                                 | CONNECT | 127.0.0.1:0         |
            a port over 65535                      | CONNECT | 127.0.0.1:65536     |
            an IPv6 address without brackets       | CONNECT | ::1:80              |
            an unclosed IPv6 bracket               | CONNECT | [::1:80             |
            user info                              | CONNECT | user@127.0.0.1:80   |
            an octal-looking IPv4 octet            | CONNECT | 127.0.0.010:80      |
            a host name with a space               | CONNECT | 'bad host:80'       |
            """)
    void malformedRequestsAre400(String name, String method, String authority, String path) throws Exception {
        UpstreamConnector handler = new UpstreamConnector(loops.transport);
        try (HboneFixture hbone = HboneFixture.start(loops, handler);
                Raw raw = Raw.connect(hbone)) {
            DefaultHttp2Headers headers = new DefaultHttp2Headers();
            headers.method(method).authority(authority);
            if (path != null) {
                headers.scheme("https").path(path);
            }
            raw.client.headers(1, headers, false);

            RawH2Client.Headers answer = raw.client.next(RawH2Client.Headers.class);
            assertThat(answer.headers().status().toString()).isEqualTo("400");
            assertThat(answer.endStream()).isTrue();
            assertThat(handler.calls).hasValue(0);
        }
    }

    @Test
    void earlyDataIsTunnelledOnlyAfterAcceptanceAndNeverParsed() throws Exception {
        CompletableFuture<ConnectStatus> decision = new CompletableFuture<>();
        UpstreamConnector handler = new UpstreamConnector(loops.transport, r -> decision);
        byte[] smuggled = "GET /admin HTTP/1.1\r\nHost: internal\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        try (TcpServer recorder = TcpServer.start(loops, TcpServer.Mode.RECORD);
                HboneFixture hbone = HboneFixture.start(loops, handler);
                Raw raw = Raw.connect(hbone)) {
            raw.client.headers(
                    1, RawH2Client.connect(Authority.of(recorder.address()).toString()), false);
            raw.client.data(1, Unpooled.wrappedBuffer(smuggled), false);
            handler.requests.take(); // the decision is pending, with the early bytes held
            assertThat(recorder.accepted).hasValue(0);

            decision.complete(ConnectStatus.OK);
            assertThat(raw.client
                            .next(RawH2Client.Headers.class)
                            .headers()
                            .status()
                            .toString())
                    .isEqualTo("200");
            raw.client.data(1, Unpooled.wrappedBuffer("more".getBytes(StandardCharsets.US_ASCII)), true);

            byte[] received = Await.get(recorder.connections.take().received());
            assertThat(new String(received, StandardCharsets.US_ASCII))
                    .isEqualTo(new String(smuggled, StandardCharsets.US_ASCII) + "more");
        }
    }

    @Test
    void earlyDataOfARejectedStreamGoesNowhere() throws Exception {
        CompletableFuture<ConnectStatus> decision = new CompletableFuture<>();
        UpstreamConnector handler = new UpstreamConnector(loops.transport, r -> decision);
        try (TcpServer recorder = TcpServer.start(loops, TcpServer.Mode.RECORD);
                HboneFixture hbone = HboneFixture.start(loops, handler);
                Raw raw = Raw.connect(hbone)) {
            raw.client.headers(
                    1, RawH2Client.connect(Authority.of(recorder.address()).toString()), false);
            raw.client.data(
                    1, Unpooled.wrappedBuffer("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII)), true);
            handler.requests.take();
            decision.complete(ConnectStatus.UNAUTHORIZED);

            assertThat(raw.client
                            .next(RawH2Client.Headers.class)
                            .headers()
                            .status()
                            .toString())
                    .isEqualTo("401");
            assertThat(recorder.accepted).hasValue(0);
        }
    }

    @Test
    void earlyDataBeyondTheStreamWindowIsAFlowControlErrorNotMemory() throws Exception {
        UpstreamConnector handler = new UpstreamConnector(loops.transport, r -> new CompletableFuture<>());
        try (HboneFixture hbone = HboneFixture.start(loops, handler);
                Raw raw = Raw.connect(hbone)) {
            raw.client.headers(1, RawH2Client.connect("127.0.0.1:9"), false);
            handler.requests.take();
            // A client ignoring flow control: 5 MiB against a 4 MiB stream window, while the decision is pending.
            byte[] chunk = new byte[16 * 1024];
            for (int i = 0; i < 5 * 64 && raw.client.channel.isActive(); i++) {
                raw.client.data(1, Unpooled.wrappedBuffer(chunk), false);
            }
            RawH2Client.Reset reset = raw.client.next(RawH2Client.Reset.class);
            assertThat(reset.streamId()).isEqualTo(1);
            assertThat(reset.errorCode()).isEqualTo(Http2Error.FLOW_CONTROL_ERROR.code());
        }
    }

    @Test
    void theStreamAfterTheAdvertisedLimitIsRefused() throws Exception {
        UpstreamConnector handler = new UpstreamConnector(loops.transport, r -> new CompletableFuture<>());
        try (HboneFixture hbone = HboneFixture.start(loops, handler);
                Raw raw = Raw.connect(hbone)) {
            for (int i = 0; i < 201; i++) {
                raw.client.headers(1 + 2 * i, RawH2Client.connect("127.0.0.1:9"), false);
            }
            RawH2Client.Reset reset = raw.client.next(RawH2Client.Reset.class);
            assertThat(reset.streamId()).isEqualTo(401);
            assertThat(reset.errorCode()).isEqualTo(Http2Error.REFUSED_STREAM.code());
            Await.until(() -> handler.calls.get() == 200, "200 streams reached the handler");
        }
    }

    @Test
    void aRapidResetFloodEndsTheConnectionWithEnhanceYourCalm() throws Exception {
        UpstreamConnector handler = new UpstreamConnector(loops.transport, r -> new CompletableFuture<>());
        try (HboneFixture hbone = HboneFixture.start(loops, handler);
                Raw raw = Raw.connect(hbone)) {
            int sent = 0;
            for (int i = 0; i < 10_000 && !raw.client.goAway.isDone() && raw.client.channel.isActive(); i++) {
                int id = 1 + 2 * i;
                raw.client.headers(id, RawH2Client.connect("127.0.0.1:9"), false);
                raw.client.reset(id, Http2Error.CANCEL.code());
                sent++;
            }
            // The server answers GOAWAY(ENHANCE_YOUR_CALM) and closes. The client is still writing then, so the
            // close may reach it as a TCP reset that discards the GOAWAY unread (RFC 9293 §3.6.1): what must
            // hold is that the connection ends early, and that a GOAWAY, when it is read, says why.
            Await.until(() -> raw.client.goAway.isDone() || !raw.client.channel.isActive(), "the connection ends");
            if (raw.client.goAway.isDone() && !raw.client.goAway.isCompletedExceptionally()) {
                assertThat(raw.client.goAway.join().errorCode()).isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
            }
            Await.until(() -> !raw.client.channel.isActive(), "the server closes the connection");
            assertThat(sent).isLessThan(10_000);
            assertThat(handler.calls.get()).isLessThan(1_000);
        }
    }

    @Test
    void aContinuationFloodEndsTheConnection() throws Exception {
        UpstreamConnector handler = new UpstreamConnector(loops.transport, r -> new CompletableFuture<>());
        try (HboneFixture hbone = HboneFixture.start(loops, handler);
                Raw raw = Raw.connect(hbone)) {
            // HEADERS without END_HEADERS, then CONTINUATION frames that never end the block.
            raw.client.raw(frame(0x1, 0, 1, hpackLiteral("x-a", 1000)));
            int sent = 0;
            for (int i = 0; i < 1000 && raw.client.channel.isActive() && !raw.client.goAway.isDone(); i++) {
                raw.client.raw(frame(0x9, 0, 1, new byte[16 * 1024])).await();
                sent++;
            }
            // The header-block limit (1.25 x 64 KiB) ends the connection; the loop stops when it notices.
            Await.get(raw.client.channel.closeFuture());
            assertThat(sent).isLessThan(1000);
            assertThat(handler.calls).hasValue(0);
        }
    }

    @Test
    void anOversizedHeaderListIsRefusedAndTheConnectionCarriesOn() throws Exception {
        UpstreamConnector handler = new UpstreamConnector(loops.transport);
        try (HboneFixture hbone = HboneFixture.start(loops, handler);
                Raw raw = Raw.connect(hbone)) {
            DefaultHttp2Headers big = (DefaultHttp2Headers)
                    RawH2Client.connect(Authority.of(echo.address()).toString());
            big.add("x-big", "a".repeat(70 * 1024));
            raw.client.headers(1, big, false);
            RawH2Client.Event refused =
                    raw.client.events.poll(Await.TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            assertThat(refused)
                    .satisfiesAnyOf(
                            e -> assertThat(((RawH2Client.Headers) e)
                                            .headers()
                                            .status()
                                            .toString())
                                    .isEqualTo("431"),
                            e -> assertThat(((RawH2Client.Reset) e).streamId()).isEqualTo(1));
            assertThat(handler.calls).hasValue(0);

            raw.client.headers(
                    3, RawH2Client.connect(Authority.of(echo.address()).toString()), false);
            RawH2Client.Headers ok = raw.client.next(RawH2Client.Headers.class);
            while (ok.streamId() != 3) {
                ok = raw.client.next(RawH2Client.Headers.class);
            }
            assertThat(ok.headers().status().toString()).isEqualTo("200");
        }
    }

    @Test
    void aClientThatNeverAnswersPingsIsDisconnected() throws Exception {
        HboneServerConfig fastPing = HboneFixture.defaultServerConfig()
                .withHttp2(io.ambit.hbone.transport.Http2Config.serverDefaults()
                        .withPing(Duration.ofMillis(50), Duration.ofMillis(150)));
        try (HboneFixture hbone = HboneFixture.start(
                        loops,
                        fastPing,
                        new UpstreamConnector(loops.transport),
                        io.ambit.hbone.pool.PoolConfig.defaults());
                Raw raw = Raw.connect(hbone)) {
            Await.get(raw.client.channel.closeFuture());
            // dropped abruptly, no GOAWAY
            assertThat(Await.failure(raw.client.goAway)).hasMessage("connection closed without GOAWAY");
        }
    }

    @Test
    void aClientThatAnswersPingsStaysConnected() throws Exception {
        io.ambit.hbone.pool.PoolConfig fastPing = io.ambit.hbone.pool.PoolConfig.defaults()
                .withHttp2(io.ambit.hbone.transport.Http2Config.clientDefaults()
                        .withPing(Duration.ofMillis(30), Duration.ofMillis(500)));
        try (HboneFixture hbone = HboneFixture.start(
                loops, HboneFixture.defaultServerConfig(), new UpstreamConnector(loops.transport), fastPing)) {
            HboneStream stream =
                    Await.get(hbone.pool.connect(hbone.key(), TunnelRequest.to(Authority.of(echo.address()))));
            Http2KeepAlive keepAlive = stream.channel().parent().pipeline().get(Http2KeepAlive.class);
            Await.until(() -> keepAlive.acknowledgements() >= 3, "three PINGs acknowledged");
            assertThat(stream.channel().parent().isActive()).isTrue();
            stream.channel().close();
        }
    }

    @Test
    void drainingSendsGoAwayAndLetsOpenTunnelsFinish() throws Exception {
        try (HboneFixture hbone = HboneFixture.start(loops, new UpstreamConnector(loops.transport));
                OutboundCapture outbound = OutboundCapture.start(
                        loops, hbone.pool, hbone.key(), TunnelRequest.to(Authority.of(echo.address())))) {
            TcpClient app = TcpClient.connect(loops, outbound.address());
            app.write("before ".getBytes(StandardCharsets.US_ASCII));
            CompletableFuture<RelayResult> relay = outbound.relays.take();
            Await.until(() -> hbone.server.stats().accepted() == 1, "the tunnel is up");

            CompletableFuture<Void> drained = hbone.server.drain(Duration.ofSeconds(10));
            Await.until(() -> hbone.pool.connectionCount(hbone.key()) == 0, "GOAWAY retired the pooled connection");
            assertThat(drained).isNotDone();

            app.write("after".getBytes(StandardCharsets.US_ASCII));
            app.shutdownOutput();
            assertThat(new String(Await.get(app.received), StandardCharsets.US_ASCII))
                    .isEqualTo("before after");
            assertThat(Await.get(relay).outcome()).isEqualTo(RelayResult.Outcome.CLEAN);
            Await.get(drained);
            assertThat(hbone.server.stats().connectionsOpen()).isZero();
            app.close();
        }
    }

    // --- helpers

    /** A raw HTTP/2 client with our client certificate, and its TLS context to release. */
    private record Raw(RawH2Client client, SslContext tls) implements AutoCloseable {
        static Raw connect(HboneFixture hbone) throws Exception {
            SslContext tls = RawTls.client(hbone.clientCert, null, "TLSv1.3");
            return new Raw(RawH2Client.connect(loops, hbone.server.localAddress(), tls), tls);
        }

        @Override
        public void close() {
            client.close();
            ReferenceCountUtil.release(tls);
        }
    }

    private static io.netty.buffer.ByteBuf frame(int type, int flags, int streamId, byte[] payload) {
        io.netty.buffer.ByteBuf b = Unpooled.buffer(9 + payload.length);
        b.writeMedium(payload.length)
                .writeByte(type)
                .writeByte(flags)
                .writeInt(streamId)
                .writeBytes(payload);
        return b;
    }

    /** An HPACK literal header without indexing, new name (value length below 2^14). */
    private static byte[] hpackLiteral(String name, int valueLength) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(0x00);
        out.write(name.length());
        out.writeBytes(name.getBytes(StandardCharsets.US_ASCII));
        // 7-bit prefix integer
        int v = valueLength;
        if (v < 127) {
            out.write(v);
        } else {
            out.write(127);
            v -= 127;
            while (v >= 128) {
                out.write((v & 0x7f) | 0x80);
                v >>>= 7;
            }
            out.write(v);
        }
        out.writeBytes("a".repeat(valueLength).getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }
}
