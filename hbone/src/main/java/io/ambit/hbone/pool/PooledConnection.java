package io.ambit.hbone.pool;

import io.ambit.hbone.flow.ParkingFlowController;
import io.ambit.hbone.tls.TlsPeer;
import io.ambit.hbone.transport.Channels;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pooled HBONE connection and the end of its pipeline. It becomes ready when the server's first
 * SETTINGS arrive (so its stream limit is known); it takes no new stream while it has no free slot or while its
 * receive credit is congested by bytes parked on stalled streams ({@link ParkingFlowController#congested()}: the
 * pool then puts the stream on another connection, as for a full one); it retires — leaves the pool, to close once its
 * streams end — on GOAWAY, on error, or after the idle timeout without a checkout.
 *
 * <p>Stream accounting ({@code active}, {@code maxStreams}, {@code retired}, {@code lastCheckout}) is
 * guarded by the lock of the key's {@link KeyPool}.
 */
final class PooledConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(PooledConnection.class);

    final KeyPool pool;
    final Channel channel;
    final TlsPeer peer;
    private final int streamCap;
    private final long idleNanos;
    private final ParkingFlowController flow; // null: no parking (plain Netty controller)
    /** Its streams' handler when it carries direct streams, else null (child channels). */
    final DirectClientStreams directStreams;

    final CompletableFuture<PooledConnection> ready = new CompletableFuture<>();

    // guarded by pool
    int active;
    int maxStreams;
    boolean retired;
    long lastCheckout;

    private ScheduledFuture<?> idleCheck;

    PooledConnection(
            KeyPool pool,
            Channel channel,
            TlsPeer peer,
            int streamCap,
            long idleNanos,
            ParkingFlowController flow,
            DirectClientStreams directStreams) {
        this.pool = pool;
        this.directStreams = directStreams;
        this.channel = channel;
        this.peer = peer;
        this.streamCap = streamCap;
        this.idleNanos = idleNanos;
        this.flow = flow;
        this.maxStreams = streamCap;
        this.lastCheckout = System.nanoTime();
    }

    /** Takes a stream slot if this connection can carry one more stream. Caller holds the pool lock. */
    boolean tryReserve(long now) {
        if (retired || active >= maxStreams || !channel.isActive() || congested()) {
            return false;
        }
        active++;
        lastCheckout = now;
        return true;
    }

    /**
     * Whether stalled streams park so much here that a new stream would share a window they hold: the new one
     * goes to another connection (a client's slow reading must not slow other clients' new streams).
     */
    boolean congested() {
        return flow != null && flow.congested();
    }

    /** Gives a stream slot back; a retired connection closes with its last stream. */
    void release() {
        boolean close;
        synchronized (pool) {
            active--;
            close = retired && active == 0;
        }
        if (close) {
            channel.close();
        }
    }

    /** Leaves the pool; closes now if no stream is open, else once the last one ends. */
    void retire(String why) {
        boolean close;
        synchronized (pool) {
            if (!retired) {
                retired = true;
                pool.connections.remove(this);
                log.debug("{} retired ({}), {} streams open", channel, why, active);
            }
            close = active == 0;
        }
        pool.owner.forgetIfEmpty(pool);
        if (close && channel.isOpen()) {
            channel.close();
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        scheduleIdleCheck(idleNanos);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2SettingsFrame settings) {
                Long peerMax = settings.settings().maxConcurrentStreams();
                synchronized (pool) {
                    maxStreams = peerMax == null ? streamCap : (int) Math.min(streamCap, peerMax);
                }
                ready.complete(this);
            } else if (msg instanceof Http2GoAwayFrame goAway) {
                retire("GOAWAY " + goAway.errorCode() + " after stream " + goAway.lastStreamId());
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ready.completeExceptionally(new IOException(
                "HBONE connection to " + pool.key.destination() + " closed before its SETTINGS arrived"));
        if (idleCheck != null) {
            idleCheck.cancel(false);
        }
        retire("closed");
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("{} HBONE connection error: {}", ctx.channel(), cause.toString());
        retire("error");
        if (!(cause instanceof Http2Exception)) {
            Channels.closeAbruptly(ctx.channel()); // HTTP/2 errors: the codec sends GOAWAY and closes
        }
    }

    private void scheduleIdleCheck(long delayNanos) {
        idleCheck = channel.eventLoop().schedule(this::idleCheck, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void idleCheck() {
        long idleFor;
        synchronized (pool) {
            if (retired) {
                return;
            }
            idleFor = System.nanoTime() - lastCheckout;
        }
        if (idleFor >= idleNanos) {
            retire("idle");
        } else {
            scheduleIdleCheck(idleNanos - idleFor);
        }
    }
}
