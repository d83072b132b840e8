package io.ambit.hbone.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.flow.ConnectionFlow;
import io.ambit.hbone.relay.HboneStreamCodec;
import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.server.ConnectHandler;
import io.ambit.hbone.server.ConnectRequest;
import io.ambit.hbone.server.ConnectResponse;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.transport.Http2Config;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Streams whose reader stopped (a slow client behind a waypoint) must not stall the other streams of their HBONE
 * connection, and what they park must stay bounded. Real HBONE connections over loopback (TLS, HTTP/2): a server
 * that sends each stream a response as fast as flow control lets it, streams that never read past the pool's
 * hold, and one that reads.
 *
 * <p>With ztunnel's windows (4 MiB stream, 16 MiB connection) five stalled streams can hold 20 MiB unread: more
 * than the connection window, which then stays at 0 with Netty's own flow controller, and the reading stream gets
 * nothing (these tests fail that way with {@code -Dambit.hbone.parking=false}).
 */
@ExtendWith(NoLeaks.class)
final class StalledStreamsTest {
    private static final TunnelRequest ANYWHERE = TunnelRequest.to(Authority.parse("127.71.0.9:9"));
    private static final int MIB = 1024 * 1024;
    private static TestLoops loops;

    @BeforeAll
    static void start() {
        loops = TestLoops.start();
    }

    @AfterAll
    static void stop() {
        loops.close();
    }

    private static HboneFixture fixture(int responseBytes, PoolConfig pool) throws Exception {
        return HboneFixture.builder(loops, new Firehose(responseBytes))
                .serverConfig(HboneServerConfig.defaults(new InetSocketAddress("127.71.0.1", 0)))
                .poolConfig(pool)
                .start();
    }

    @Test
    void aReadingStreamKeepsReceivingWhileStalledStreamsOnItsConnectionHoldMoreThanItsWindow() throws Exception {
        try (HboneFixture hbone = fixture(8 * MIB, PoolConfig.defaults())) {
            HboneStream reader = Await.get(hbone.pool.connect(hbone.key(), ANYWHERE));
            List<HboneStream> stalled = openStalled(hbone, 5);
            assertThat(stalled)
                    .as("the stalled streams share the reader's connection")
                    .allMatch(s -> s.channel().parent() == reader.channel().parent());
            awaitAtRest(stalled);

            CompletableFuture<Long> received = read(reader);
            assertThat(Await.get(received))
                    .as("the reading stream got its whole response while 5 x 4 MiB sat unread beside it")
                    .isEqualTo(8L * MIB);

            ConnectionFlow flow = flowOf(hbone, reader.channel().parent());
            Http2Config http2 = PoolConfig.defaults().http2();
            assertThat(flow.lentCredit()).isBetween(1, http2.parkingBudget());
            assertThat(flow.unconsumedBytes())
                    .as("held unread: at most the connection window plus the budget")
                    .isLessThanOrEqualTo((long) http2.connectionWindow() + http2.parkingBudget());

            endAll(stalled);
            Await.until(
                    () -> {
                        Channel connection = reader.channel().parent();
                        ConnectionFlow after = onLoop(connection, () -> ConnectionFlow.of(connection));
                        return after.lentCredit() == 0 && after.parkedBytes() == 0 && after.streams() == 0;
                    },
                    "the credit lent for parked bytes is taken back when their streams end");
        }
    }

    @Test
    void aConnectionCongestedByStalledStreamsTakesNoNewStreamAndTheNextOneGoesToAnotherConnection() throws Exception {
        try (HboneFixture hbone = fixture(8 * MIB, PoolConfig.defaults())) {
            List<HboneStream> stalled = openStalled(hbone, 5);
            awaitAtRest(stalled);
            Channel congested = stalled.getFirst().channel().parent();
            assertThat(flowOf(hbone, congested).congested()).isTrue();

            HboneStream fresh = Await.get(hbone.pool.connect(hbone.key(), ANYWHERE));
            assertThat(fresh.channel().parent()).isNotSameAs(congested);
            assertThat(hbone.pool.stats().dials()).isEqualTo(2);
            assertThat(Await.get(hbone.pool.flows()))
                    .as("one congested connection, one with room")
                    .extracting(ConnectionFlow::congested)
                    .containsExactlyInAnyOrder(true, false);
            assertThat(Await.get(read(fresh))).isEqualTo(8L * MIB);
            endAll(stalled);
        }
    }

    @Test
    void parkedBytesBeyondTheBudgetHoldTheConnectionWindowAgainSoMemoryStaysBounded() throws Exception {
        // Small windows: 64 KiB per stream, 256 KiB per connection (so a budget of 256 KiB); twelve stalled streams
        // could park 12 x 64 KiB = 768 KiB, more than window + budget (512 KiB).
        Http2Config small = new Http2Config(
                64 * 1024,
                256 * 1024,
                MIB,
                16 * 1024,
                100,
                64 * 1024,
                Duration.ofSeconds(10),
                Duration.ofSeconds(20),
                200,
                Duration.ofSeconds(30),
                16);
        // A hold of one byte: the stalled streams consume nothing (what Netty delays returning would blur the sums).
        PoolConfig pool = new PoolConfig(small, Duration.ofMinutes(5), Duration.ofSeconds(10), 1);
        try (HboneFixture hbone = fixture(MIB, pool)) {
            List<HboneStream> stalled = openStalled(hbone, 12);
            awaitAtRest(stalled);
            ConnectionFlow flow = flowOf(hbone, stalled.getFirst().channel().parent());
            assertThat(flow.lentCredit()).as("lent: the whole budget, no more").isEqualTo(small.parkingBudget());
            assertThat(flow.receiveWindow())
                    .as("past the budget parked bytes hold the window")
                    .isZero();
            assertThat(flow.unconsumedBytes())
                    .isLessThanOrEqualTo((long) small.connectionWindow() + small.parkingBudget());
            endAll(stalled);
        }
    }

    /** Streams that ask for their response and then never read past the pool's hold. */
    private static List<HboneStream> openStalled(HboneFixture hbone, int n) throws Exception {
        List<HboneStream> streams = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            streams.add(Await.get(hbone.pool.connect(hbone.key(), ANYWHERE)));
        }
        // All open before any asks: the first ones' parked bytes would otherwise send the later ones elsewhere.
        for (HboneStream s : streams) {
            s.channel().writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'g'}));
        }
        return streams;
    }

    /**
     * Nothing more can reach the stalled streams: each has its own window full, or the connection's window is
     * exhausted. A state, not a pause: the server keeps sending while either has room.
     */
    private static void awaitAtRest(List<HboneStream> stalled) throws Exception {
        Await.until(
                () -> onLoop(stalled.getFirst().channel(), () -> {
                    Http2Connection c =
                            codecOf(stalled.getFirst().channel().parent()).connection();
                    if (c.local().flowController().windowSize(c.connectionStream()) == 0) {
                        return true;
                    }
                    for (HboneStream s : stalled) {
                        var stream = c.stream(s.channel().stream().id());
                        if (stream == null || c.local().flowController().windowSize(stream) > 0) {
                            return false;
                        }
                    }
                    return true;
                }),
                "the stalled streams' windows (or their connection's) are full");
    }

    /** Reads {@code stream} to its end: asks for the response, counts and drops it; completes with the count. */
    private static CompletableFuture<Long> read(HboneStream stream) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        Http2StreamChannel ch = stream.channel();
        ch.eventLoop().execute(() -> {
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                long bytes;

                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof ByteBuf b) {
                        bytes += b.readableBytes();
                    }
                    ReferenceCountUtil.release(msg);
                }

                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    if (evt == ChannelInputShutdownEvent.INSTANCE) {
                        done.complete(bytes);
                        ctx.close();
                    }
                    ReferenceCountUtil.release(evt);
                }

                @Override
                public void channelInactive(ChannelHandlerContext ctx) {
                    done.completeExceptionally(new AssertionError("stream closed after " + bytes + " bytes"));
                }
            });
            InboundHold.release(ch.pipeline());
            ch.config().setAutoRead(true);
            ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'g'}));
        });
        return done;
    }

    /** The flow-control view of {@code connection}, as its pool reports it. */
    private static ConnectionFlow flowOf(HboneFixture hbone, Channel connection) throws Exception {
        ConnectionFlow now = onLoop(connection, () -> ConnectionFlow.of(connection));
        assertThat(Await.get(hbone.pool.flows()))
                .as("the pool reports its connection")
                .anySatisfy(f -> assertThat(f.peer()).isEqualTo(connection.remoteAddress()));
        return now;
    }

    private static Http2FrameCodec codecOf(Channel connection) {
        return connection.pipeline().get(Http2FrameCodec.class);
    }

    private static <T> T onLoop(Channel channel, java.util.concurrent.Callable<T> task) {
        try {
            return channel.eventLoop().submit(task).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void endAll(List<HboneStream> streams) throws Exception {
        for (HboneStream s : streams) {
            Await.get(s.channel().close());
        }
    }

    /**
     * Answers every CONNECT and, once the client sends its first byte, sends {@code size} bytes as fast as the
     * stream's writability lets it (the way a relay from a fast app would), then ends the stream.
     */
    private static final class Firehose implements ConnectHandler {
        private static final int CHUNK = 16 * 1024;
        private final int size;

        Firehose(int size) {
            this.size = size;
        }

        @Override
        public CompletionStage<ConnectResponse> onConnect(ConnectRequest request) {
            return CompletableFuture.completedFuture(ConnectResponse.accept(Map.of(), stream -> {
                stream.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    int sent = -1; // -1: not asked yet

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ReferenceCountUtil.release(msg);
                        if (sent < 0) {
                            sent = 0;
                            pump(ctx);
                        }
                    }

                    @Override
                    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                        if (sent >= 0) {
                            pump(ctx);
                        }
                        ctx.fireChannelWritabilityChanged();
                    }

                    private void pump(ChannelHandlerContext ctx) {
                        if (sent >= size) {
                            return;
                        }
                        while (sent < size && ctx.channel().isWritable()) {
                            int n = Math.min(CHUNK, size - sent);
                            ctx.write(Unpooled.wrappedBuffer(new byte[n]));
                            sent += n;
                        }
                        if (sent >= size) {
                            ctx.write(HboneStreamCodec.END_STREAM);
                        }
                        ctx.flush();
                    }

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        ReferenceCountUtil.release(evt);
                    }
                });
                InboundHold.release(stream.pipeline());
                stream.config().setAutoRead(true);
            }));
        }
    }
}
