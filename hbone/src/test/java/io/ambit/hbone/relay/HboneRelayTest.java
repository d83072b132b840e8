package io.ambit.hbone.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.OutboundCapture;
import io.ambit.hbone.testsupport.TcpClient;
import io.ambit.hbone.testsupport.TcpServer;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.UpstreamConnector;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** App → outbound TCP → HBONE (pool) → HBONE server → upstream TCP echo, and back. */
@ExtendWith(NoLeaks.class)
final class HboneRelayTest {
    private static TestLoops loops;
    private static TcpServer echo;
    private static UpstreamConnector inbound;
    private static HboneFixture hbone;
    private static OutboundCapture outbound;

    @BeforeAll
    static void start() throws Exception {
        // Not io_uring: these tests need peer resets reported (io_uring misses some,
        // RelayTest#assumeResetsAreReported). HBONE over io_uring is exercised by the server, pool and
        // interop tests.
        loops = TestLoops.start(Transports.of(
                Transports.unavailabilityCause(Transport.Kind.EPOLL).isEmpty()
                        ? Transport.Kind.EPOLL
                        : Transport.Kind.NIO));
        echo = TcpServer.start(loops, TcpServer.Mode.ECHO);
        inbound = new UpstreamConnector(loops.transport);
        hbone = HboneFixture.start(loops, inbound);
        outbound =
                OutboundCapture.start(loops, hbone.pool, hbone.key(), TunnelRequest.to(Authority.of(echo.address())));
    }

    @AfterAll
    static void stop() throws Exception {
        outbound.close();
        hbone.close();
        echo.close();
        loops.close();
    }

    @Test
    void bytesGoBothWaysAndHalfCloseEndsTheRelayCleanly() throws Exception {
        byte[] payload = randomBytes(8 * 1024 * 1024 + 17);
        TcpClient app = TcpClient.connect(loops, outbound.address());
        app.write(payload);
        app.shutdownOutput();

        assertThat(Await.get(app.received)).isEqualTo(payload);
        RelayResult result = Await.get(outbound.relays.take());
        assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.CLEAN);
        assertThat(result.aToB()).isEqualTo(payload.length);
        assertThat(result.bToA()).isEqualTo(payload.length);
        app.close();
    }

    @Test
    void manyTunnelsShareOneConnection() throws Exception {
        List<TcpClient> apps = new ArrayList<>();
        List<byte[]> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            TcpClient app = TcpClient.connect(loops, outbound.address());
            byte[] data = randomBytes(1000 + i);
            app.write(data);
            app.shutdownOutput();
            apps.add(app);
            sent.add(data);
        }
        for (int i = 0; i < apps.size(); i++) {
            assertThat(Await.get(apps.get(i).received)).isEqualTo(sent.get(i));
            assertThat(Await.get(outbound.relays.take()).outcome()).isEqualTo(RelayResult.Outcome.CLEAN);
            apps.get(i).close();
        }
        assertThat(hbone.pool.stats().dials()).isEqualTo(1);
    }

    @Test
    void aSlowUpstreamStopsTheAppThroughHttp2FlowControlAndNothingIsLost() throws Exception {
        try (TcpServer slow = TcpServer.start(loops, TcpServer.Mode.PAUSED);
                OutboundCapture toSlow = OutboundCapture.start(
                        loops, hbone.pool, hbone.key(), TunnelRequest.to(Authority.of(slow.address())))) {
            byte[] payload = randomBytes(40 * 1024 * 1024);
            TcpClient app = TcpClient.connect(loops, toSlow.address());
            app.write(payload);
            app.shutdownOutput();
            OutboundCapture.Tunnel tunnel = toSlow.tunnels.take();

            // Upstream socket full -> server relay stops reading the stream -> no WINDOW_UPDATE -> the stream
            // stays unwritable -> the client relay stops reading the app.
            Await.until(
                    () -> !tunnel.app().config().isAutoRead() && tunnel.relay().bytesAToB() > 0,
                    "back-pressure reached the app socket");
            assertThat(tunnel.relay().bytesAToB()).isLessThan(payload.length);

            TcpServer.Connection upstream = slow.connections.take();
            TcpServer.resume(upstream);
            assertThat(RelayTest.sha256(Await.get(upstream.received()))).isEqualTo(RelayTest.sha256(payload));
            assertThat(Await.get(toSlow.relays.take()).outcome()).isEqualTo(RelayResult.Outcome.CLEAN);
            app.close();
        }
    }

    @Test
    void anAppResetBecomesRstStreamAndResetsTheUpstream() throws Exception {
        try (TcpServer recorder = TcpServer.start(loops, TcpServer.Mode.RECORD);
                OutboundCapture toRecorder = OutboundCapture.start(
                        loops, hbone.pool, hbone.key(), TunnelRequest.to(Authority.of(recorder.address())))) {
            TcpClient app = TcpClient.connect(loops, toRecorder.address());
            app.write("hello".getBytes());
            TcpServer.Connection upstream = recorder.connections.take();
            OutboundCapture.Tunnel tunnel = toRecorder.tunnels.take();
            Await.until(() -> tunnel.relay().bytesAToB() == 5, "the bytes went through");
            io.ambit.hbone.transport.Channels.reset(app.channel);

            assertThat(Await.failure(upstream.received())).isInstanceOf(java.io.IOException.class);
            assertThat(Await.get(tunnel.relay().result()).outcome()).isNotEqualTo(RelayResult.Outcome.CLEAN);
        }
    }

    @Test
    void anUpstreamResetBecomesRstStreamAndEndsTheApp() throws Exception {
        try (TcpServer recorder = TcpServer.start(loops, TcpServer.Mode.RECORD);
                OutboundCapture toRecorder = OutboundCapture.start(
                        loops, hbone.pool, hbone.key(), TunnelRequest.to(Authority.of(recorder.address())))) {
            TcpClient app = TcpClient.connect(loops, toRecorder.address());
            OutboundCapture.Tunnel tunnel = toRecorder.tunnels.take();
            io.ambit.hbone.transport.Channels.reset(recorder.connections.take().channel());

            assertThat(Await.get(tunnel.relay().result()).outcome()).isNotEqualTo(RelayResult.Outcome.CLEAN);
            assertThat(Await.failure(app.received)).isInstanceOf(java.io.IOException.class);
        }
    }

    @Test
    void bytesThatCameBeforeAnUpstreamResetReachTheAppBeforeTheReset() throws Exception {
        try (TcpServer recorder = TcpServer.start(loops, TcpServer.Mode.RECORD);
                OutboundCapture toRecorder = OutboundCapture.start(
                        loops, hbone.pool, hbone.key(), TunnelRequest.to(Authority.of(recorder.address())));
                Socket app = new Socket()) {
            app.connect(toRecorder.address(), 10_000);
            app.getOutputStream().write("hello".getBytes());
            OutboundCapture.Tunnel tunnel = toRecorder.tunnels.take();
            TcpServer.Connection upstreamConnection = recorder.connections.take();
            Channel upstream = upstreamConnection.channel();
            // The request reached the server: the server side's relay is running, so its upstream socket is
            // read (before that, the socket is held unread and a reset there would race the relay's start).
            Await.until(() -> upstreamConnection.readSoFar().get() == 5, "the request reached the server");
            byte[] lastWords = randomBytes(1000);
            // Both relays see the bytes and the reset in one read: the server side's upstream read, then
            // DATA and RST_STREAM on the client side.
            upstream.writeAndFlush(Unpooled.wrappedBuffer(lastWords))
                    .addListener(f -> io.ambit.hbone.transport.Channels.reset(upstream));

            assertThat(RelayTest.readUntilTheEnd(app)).isEqualTo(lastWords);
            assertThat(Await.get(tunnel.relay().result()).outcome()).isNotEqualTo(RelayResult.Outcome.CLEAN);
        }
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }
}
