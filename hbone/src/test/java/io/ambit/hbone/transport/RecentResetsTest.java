package io.ambit.hbone.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.server.Authority;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.RawH2Client;
import io.ambit.hbone.testsupport.RawTls;
import io.ambit.hbone.testsupport.TcpServer;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.UpstreamConnector;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A tunnel that its upstream resets while the client is still sending must not take the connection, and
 * the other tunnels on it, down with it. When the server's RST_STREAM goes out, the client may have up to a
 * stream window of DATA in flight (iperf3 with 4 streams: hundreds of frames). Netty answers each frame on a
 * stream it no longer knows with RST_STREAM(STREAM_CLOSED); enough of them trip the server's limit on resets
 * it sends (the MadeYouReset defence, here lowered to 5 per 30 s), and the connection ends with
 * ENHANCE_YOUR_CALM. With {@link RecentResets} the server answers nothing to frames on streams it reset.
 */
@ExtendWith(NoLeaks.class)
final class RecentResetsTest {
    private static final int IN_FLIGHT_FRAMES = 20;

    @Test
    void framesInFlightOnAStreamTheServerResetAreIgnoredAndTheConnectionLives() throws Exception {
        Http2Config d = Http2Config.serverDefaults();
        Http2Config strict = new Http2Config(
                d.initialStreamWindow(),
                d.connectionWindow(),
                d.maxFrameSize(),
                d.maxHeaderListSize(),
                d.maxConcurrentStreams(),
                d.maxSendBuffer(),
                d.pingInterval(),
                d.pingTimeout(),
                5,
                Duration.ofSeconds(30),
                d.maxSmallContinuationFrames());
        // NIO: a peer's reset is reported reliably (see RelayTest)
        try (TestLoops loops = TestLoops.start(Transports.of(Transport.Kind.NIO));
                TcpServer sink = TcpServer.start(loops, TcpServer.Mode.RECORD);
                TcpServer echo = TcpServer.start(loops, TcpServer.Mode.ECHO);
                HboneFixture hbone = HboneFixture.builder(loops, new UpstreamConnector(loops.transport))
                        .serverConfig(HboneFixture.defaultServerConfig().withHttp2(strict))
                        .start()) {
            SslContext tls = RawTls.client(hbone.clientCert, null, "TLSv1.3");
            try (RawH2Client client = RawH2Client.connect(loops, hbone.server.localAddress(), tls)) {
                client.headers(
                        1, RawH2Client.connect(Authority.of(sink.address()).toString()), false);
                assertThat(status(client)).isEqualTo("200");
                client.data(1, bytes("upload"), false);
                TcpServer.Connection upstream = sink.connections.take();

                Channels.reset(upstream.channel()); // the app resets: the server resets the stream
                RawH2Client.Reset reset = client.next(RawH2Client.Reset.class);
                assertThat(reset.streamId()).isEqualTo(1);
                // what the client had sent before the RST_STREAM reached it
                for (int i = 0; i < IN_FLIGHT_FRAMES; i++) {
                    client.data(1, bytes("in flight " + i), false);
                }

                // another tunnel on the same connection still works
                client.headers(
                        3, RawH2Client.connect(Authority.of(echo.address()).toString()), false);
                assertThat(status(client)).isEqualTo("200");
                client.data(3, bytes("still here"), true);
                Await.until(
                        () -> client.data.containsKey(3) && client.data.get(3).size() == "still here".length(),
                        "the second tunnel echoes");
                List<RawH2Client.Event> rest = new ArrayList<>();
                client.events.drainTo(rest);
                assertThat(rest)
                        .as("no RST_STREAM(STREAM_CLOSED) for the frames in flight, no GOAWAY")
                        .noneMatch(e -> e instanceof RawH2Client.GoAway
                                || (e instanceof RawH2Client.Reset r
                                        && r.errorCode() == Http2Error.STREAM_CLOSED.code()));
                assertThat(client.goAway).isNotDone();
            } finally {
                ReferenceCountUtil.release(tls);
            }
        }
    }

    private static String status(RawH2Client client) throws Exception {
        return client.next(RawH2Client.Headers.class).headers().status().toString();
    }

    private static io.netty.buffer.ByteBuf bytes(String s) {
        return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.US_ASCII));
    }
}
