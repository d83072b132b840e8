package io.ambit.hbone.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.relay.RelayResult;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.server.ConnectStatus;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.Passthrough;
import io.ambit.hbone.testsupport.StreamIo;
import io.ambit.hbone.testsupport.TcpClient;
import io.ambit.hbone.testsupport.TcpServer;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.UpstreamConnector;
import io.ambit.hbone.transport.Channels;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pool's direct client streams ({@link HbonePool#tunnel}): a CONNECT stream without a child channel, relayed
 * straight to a real TCP client's socket (as the ztunnel's outbound does), against the real HBONE server in both of
 * its modes. Relay rules as {@code Relay}'s: half-close both ways, byte counts, resets, back-pressure, TLS errors; the
 * answers as {@link HbonePool#connect}'s; stream slots given back.
 */
@ExtendWith(NoLeaks.class)
final class DirectTunnelTest {
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.0.61.1", 0);
    private static final InetSocketAddress FRONT = new InetSocketAddress("127.0.61.2", 0);
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

    private static HboneFixture server(UpstreamConnector handler, boolean directServer) throws Exception {
        return HboneFixture.start(
                loops,
                HboneServerConfig.defaults(SERVER).withDirectStreams(directServer),
                handler,
                PoolConfig.defaults());
    }

    private static DirectFront front(HboneFixture hbone, PoolKey key, InetSocketAddress target)
            throws InterruptedException {
        return DirectFront.start(
                loops,
                FRONT,
                socket ->
                        hbone.pool.tunnel(key, TunnelRequest.to(Authority.of(target)), (EventLoop) socket.eventLoop()));
    }

    /** Tunnels each accepted socket over a connection on any loop: one set of connections for the key. */
    private static DirectFront anyLoopFront(HboneFixture hbone, PoolKey key, InetSocketAddress target)
            throws InterruptedException {
        return DirectFront.start(
                loops, FRONT, socket -> hbone.pool.tunnel(key, TunnelRequest.to(Authority.of(target)), null));
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + i / 251);
        }
        return b;
    }

    @ParameterizedTest(name = "server with direct streams: {0}")
    @ValueSource(booleans = {true, false})
    void relaysBothWaysHalfClosesAndCountsBytesFromTheSocketsView(boolean directServer) throws Exception {
        try (HboneFixture hbone = server(new UpstreamConnector(loops.transport), directServer);
                DirectFront front = front(hbone, hbone.key(), echo.address())) {
            byte[] sent = bytes(3 * 1024 * 1024 + 17); // several stream windows: flow control both ways
            TcpClient client = TcpClient.connect(loops, front.address());
            client.write(sent); // before the tunnel is up: held by the socket's hold, then relayed
            client.shutdownOutput();

            assertThat(Await.get(client.received)).isEqualTo(sent); // the echo's FIN came back as ours
            DirectFront.Accepted accepted = front.accepted.poll(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            RelayResult r = Await.get(accepted.ended());
            assertThat(r.outcome()).isEqualTo(RelayResult.Outcome.CLEAN);
            assertThat(r.aToB()).as("socket to stream").isEqualTo(sent.length);
            assertThat(r.bToA()).as("stream to socket").isEqualTo(sent.length);
            Await.until(() -> hbone.server.stats().streamsOpen() == 0, "the server's stream closed");
        }
    }

    @Test
    void streamSlotsAreGivenBackSoOneConnectionCarriesTunnelAfterTunnel() throws Exception {
        try (HboneFixture hbone = server(new UpstreamConnector(loops.transport), true);
                DirectFront front = anyLoopFront(hbone, hbone.key(), echo.address())) {
            for (int i = 0; i < 5; i++) {
                byte[] sent = ("tunnel " + i).getBytes(StandardCharsets.US_ASCII);
                TcpClient client = TcpClient.connect(loops, front.address());
                client.write(sent);
                client.shutdownOutput();
                assertThat(Await.get(client.received)).isEqualTo(sent);
            }
            assertThat(hbone.pool.stats().dials()).isEqualTo(1);
            assertThat(hbone.pool.connectionCount(hbone.key())).isEqualTo(1);
        }
    }

    @Test
    void aRefusalFailsWithItsStatusAndTheConnectionServesTheNextTunnel() throws Exception {
        var gate = new java.util.concurrent.atomic.AtomicReference<>(ConnectStatus.UNAUTHORIZED);
        try (HboneFixture hbone = server(
                new UpstreamConnector(loops.transport, r -> CompletableFuture.completedFuture(gate.get())), true)) {
            TunnelRequest request = TunnelRequest.to(Authority.of(echo.address()));

            Throwable refused = Await.failure(hbone.pool.tunnel(hbone.key(), request, null));
            assertThat(refused).isInstanceOf(TunnelRejectedException.class);
            assertThat(((TunnelRejectedException) refused).status()).isEqualTo(401);

            gate.set(ConnectStatus.OK);
            DirectTunnel tunnel = Await.get(hbone.pool.tunnel(hbone.key(), request, null));
            assertThat(tunnel.peer().identity()).isEqualTo(Ids.SERVER);
            tunnel.reset();
            assertThat(hbone.pool.stats().dials()).isEqualTo(1);
            Await.until(() -> hbone.server.stats().streamsOpen() == 0, "both streams closed on the server");
        }
    }

    @Test
    void whatTheServerSendsBeforeTheRelayStartsIsHeldThenRelayed() throws Exception {
        try (TcpServer banner = TcpServer.start(loops, TcpServer.Mode.RECORD);
                HboneFixture hbone = server(new UpstreamConnector(loops.transport), true);
                DirectFront sockets = DirectFront.start(loops, FRONT, s -> new CompletableFuture<>())) {
            DirectTunnel tunnel =
                    Await.get(hbone.pool.tunnel(hbone.key(), TunnelRequest.to(Authority.of(banner.address())), null));
            TcpServer.Connection upstream = banner.connections.poll(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            byte[] hello = "220 hello before anyone asked\r\n".getBytes(StandardCharsets.US_ASCII);
            Await.get(upstream.channel().writeAndFlush(Unpooled.wrappedBuffer(hello)));
            Await.get(upstream.channel().close());

            TcpClient client = TcpClient.connect(loops, sockets.address());
            DirectFront.Accepted accepted = sockets.accepted.poll(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            CompletableFuture<RelayResult> ended = new CompletableFuture<>();
            tunnel.relay(accepted.socket(), ended::complete);
            client.shutdownOutput();

            assertThat(Await.get(client.received)).isEqualTo(hello);
            RelayResult r = Await.get(ended);
            assertThat(r.outcome()).isEqualTo(RelayResult.Outcome.CLEAN);
            assertThat(r.bToA()).isEqualTo(hello.length);
        }
    }

    @Test
    void anUpstreamResetResetsTheClientAndEndsAsReset() throws Exception {
        try (TcpServer record = TcpServer.start(loops, TcpServer.Mode.RECORD);
                HboneFixture hbone = server(new UpstreamConnector(loops.transport), true);
                DirectFront front = front(hbone, hbone.key(), record.address())) {
            TcpClient client = TcpClient.connect(loops, front.address());
            byte[] sent = "before the reset".getBytes(StandardCharsets.US_ASCII);
            client.write(sent);
            TcpServer.Connection upstream = record.connections.poll(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            Await.until(() -> upstream.readSoFar().get() == sent.length, "the bytes reached the upstream");

            Channels.reset(upstream.channel());

            assertThat(Await.failure(client.received)).isNotNull(); // reset, not a FIN
            DirectFront.Accepted accepted = front.accepted.poll(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            RelayResult r = Await.get(accepted.ended());
            assertThat(r.outcome()).isEqualTo(RelayResult.Outcome.RESET);
            assertThat(r.aToB()).isEqualTo(sent.length);
        }
    }

    /**
     * One pool, one key, both kinds of streams at once: each works. Netty's multiplexer expects a child channel for
     * every active stream of its connection, so the pool puts the two kinds on separate connections of the key.
     */
    @Test
    void childChannelAndDirectStreamsToOneKeyWorkAtOnce() throws Exception {
        try (HboneFixture hbone = server(new UpstreamConnector(loops.transport), true);
                DirectFront front = anyLoopFront(hbone, hbone.key(), echo.address())) {
            HboneStream child =
                    Await.get(hbone.pool.connect(hbone.key(), TunnelRequest.to(Authority.of(echo.address()))));
            StreamIo.Talk talk = StreamIo.talk(child);
            byte[] one = "child channel".getBytes(StandardCharsets.US_ASCII);
            assertThat(Await.get(talk.roundTrip(one))).isEqualTo(one);

            TcpClient client = TcpClient.connect(loops, front.address());
            byte[] two = "direct stream".getBytes(StandardCharsets.US_ASCII);
            client.write(two);
            client.shutdownOutput();
            assertThat(Await.get(client.received)).isEqualTo(two);

            byte[] three = "child channel again".getBytes(StandardCharsets.US_ASCII);
            assertThat(Await.get(talk.roundTrip(three))).isEqualTo(three);
            assertThat(hbone.pool.connectionCount(hbone.key())).isEqualTo(2);
            child.channel().close();
            Await.get(talk.closed);
        }
    }

    /**
     * A TLS error on the whole connection (the server's fatal alert after a forged record reached it) ends the relay
     * as ERROR, as the child-channel path does.
     */
    @Test
    void aTlsErrorOnTheConnectionEndsTheRelayAsError() throws Exception {
        try (HboneFixture hbone = server(new UpstreamConnector(loops.transport), true);
                Passthrough wire = Passthrough.start(loops, hbone.server.localAddress())) {
            PoolKey throughTheWire =
                    new PoolKey(hbone.key().source(), hbone.key().destinationIdentities(), null, wire.address());
            try (DirectFront front = front(hbone, throughTheWire, echo.address())) {
                TcpClient client = TcpClient.connect(loops, front.address());
                byte[] hello = "before the forged record".getBytes(StandardCharsets.US_ASCII);
                client.write(hello);
                DirectFront.Accepted accepted = front.accepted.poll(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                Await.get(accepted.tunnel());
                Passthrough.Pair pair = wire.pairs.poll(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                assertThat(pair).as("the proxied HBONE connection").isNotNull();
                // Written between whole reads the passthrough relays: if it splits one of the client's records, the
                // server's decryption fails all the same.
                byte[] forged = new byte[5 + 64];
                forged[0] = 0x17;
                forged[1] = 0x03;
                forged[2] = 0x03;
                forged[4] = 64;
                for (int i = 5; i < forged.length; i++) {
                    forged[i] = (byte) (i * 31 + 7);
                }
                pair.upstream().writeAndFlush(Unpooled.wrappedBuffer(forged));

                RelayResult r = Await.get(accepted.ended());
                assertThat(r.outcome()).isEqualTo(RelayResult.Outcome.ERROR);
                assertThat(r.cause()).hasRootCauseInstanceOf(SSLException.class);
                assertThat(Await.failure(client.received)).isNotNull();
            }
        }
    }
}
