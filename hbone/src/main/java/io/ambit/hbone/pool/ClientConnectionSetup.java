package io.ambit.hbone.pool;

import io.ambit.hbone.flow.ParkingFlowController;
import io.ambit.hbone.metrics.HboneMetrics;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.PeerRevokedException;
import io.ambit.hbone.tls.TlsPeer;
import io.ambit.hbone.transport.Channels;
import io.ambit.hbone.transport.FlushGate;
import io.ambit.hbone.transport.Http2Config;
import io.ambit.hbone.transport.Http2KeepAlive;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * Turns a dialed TLS connection into a pooled HBONE one: verifies the server, then installs HTTP/2 and a
 * {@link PooledConnection} at the end of the pipeline, whose {@code ready} future (the server's SETTINGS)
 * completes {@code dialed}. Fails {@code dialed} on any failure or after the connect timeout.
 */
final class ClientConnectionSetup extends ChannelInboundHandlerAdapter {
    private final KeyPool pool;
    private final ClientTls tls;
    private final HboneMetrics.Side meters;
    private final PoolConfig config;
    private final Http2Config http2;
    private final long idleNanos;
    private final Duration connectTimeout;
    private final CompletableFuture<PooledConnection> dialed;
    private final List<Object> early = new ArrayList<>(1);
    private ScheduledFuture<?> timeout;

    ClientConnectionSetup(
            KeyPool pool,
            ClientTls tls,
            HboneMetrics.Side meters,
            PoolConfig config,
            CompletableFuture<PooledConnection> dialed) {
        this.pool = pool;
        this.tls = tls;
        this.meters = meters;
        this.config = config;
        this.http2 = config.http2();
        this.idleNanos = config.idleTimeout().toNanos();
        this.connectTimeout = config.connectTimeout();
        this.dialed = dialed;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        Channel channel = ctx.channel();
        timeout = channel.eventLoop()
                .schedule(
                        () -> {
                            if (dialed.completeExceptionally(new IOException("HBONE connect to "
                                    + pool.key.destination() + " did not complete within " + connectTimeout))) {
                                channel.close();
                            }
                        },
                        connectTimeout.toNanos(),
                        TimeUnit.NANOSECONDS);
        dialed.whenComplete((c, e) -> timeout.cancel(false));
        channel.closeFuture()
                .addListener(f -> dialed.completeExceptionally(
                        new IOException("HBONE connection to " + pool.key.destination() + " closed during setup")));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (!(evt instanceof SslHandshakeCompletionEvent done)) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        Channel channel = ctx.channel();
        if (!done.isSuccess()) {
            refused(ctx, done.cause());
            return;
        }
        TlsPeer peer;
        try {
            peer = tls.verifyPeer(ctx.pipeline().get(SslHandler.class), pool.key.destinationIdentities());
        } catch (SSLException e) {
            refused(ctx, e);
            return;
        }
        meters.handshake(peer.namedGroup(), true);
        meters.connectionOpened(channel);
        channel.attr(TlsPeer.ATTRIBUTE).set(peer);
        Http2FrameCodec codec = http2.newFrameCodec(false);
        DirectClientStreams direct = pool.direct ? new DirectClientStreams(meters, config) : null;
        PooledConnection connection = new PooledConnection(
                pool,
                channel,
                peer,
                http2.maxConcurrentStreams(),
                idleNanos,
                codec.connection().local().flowController() instanceof ParkingFlowController p ? p : null,
                direct);
        connection.ready.whenComplete((c, e) -> {
            if (e == null) {
                dialed.complete(c);
            } else {
                dialed.completeExceptionally(e);
            }
        });
        ctx.pipeline()
                .addAfter(
                        FlushGate.addAfter(ctx.pipeline(), ctx.name()),
                        Channels.FLUSH_CONSOLIDATION,
                        Channels.flushConsolidation());
        ctx.pipeline().addAfter(Channels.FLUSH_CONSOLIDATION, "h2", codec);
        ctx.pipeline()
                .addAfter(
                        "h2", "h2-streams", direct != null ? direct : new Http2MultiplexHandler(PushRefused.INSTANCE));
        ctx.pipeline()
                .addAfter("h2-streams", "h2-keepalive", new Http2KeepAlive(http2.pingInterval(), http2.pingTimeout()));
        ctx.pipeline().addAfter("h2-keepalive", "hbone-pool", connection);
        ctx.pipeline().remove(this);
        http2.openConnectionWindow(channel);
    }

    private void refused(ChannelHandlerContext ctx, Throwable cause) {
        meters.handshake(null, false);
        if (PeerRevokedException.isCause(cause)) {
            meters.crlRejection();
        }
        dialed.completeExceptionally(cause);
        ctx.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        early.add(msg); // decrypted bytes that beat the handshake event; replayed into the codec
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        boolean active = ctx.channel().isActive();
        for (Object msg : early) {
            if (active) {
                ctx.fireChannelRead(msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }
        if (active && !early.isEmpty()) {
            ctx.fireChannelReadComplete();
        }
        early.clear();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        dialed.completeExceptionally(cause);
        ctx.close();
    }

    /** Server-initiated streams (push) are refused: we advertise push disabled. */
    @ChannelHandler.Sharable
    static final class PushRefused extends ChannelInboundHandlerAdapter {
        static final PushRefused INSTANCE = new PushRefused();

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.channel().close();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }
}
