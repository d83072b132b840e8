package io.ambit.hbone.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP/2 PING keep-alive, as ztunnel does on both sides of HBONE: a PING every {@code interval}, whether the
 * connection is busy or not; no acknowledgement within {@code timeout} closes the connection abruptly. TCP
 * keep-alives are not end-to-end through middleboxes, which is why HBONE has its own.
 *
 * <p>Sits on the connection pipeline after the frame codec (and after the multiplexer, which passes PING
 * frames on). One instance per connection; all state is touched on the connection's event loop.
 */
public final class Http2KeepAlive extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Http2KeepAlive.class);

    private final long intervalNanos;
    private final long timeoutNanos;
    private final AtomicLong acks = new AtomicLong();
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> nextPing;
    private ScheduledFuture<?> deadline;
    private long outstanding = -1; // payload of the unacknowledged PING; -1 when none is in flight

    public Http2KeepAlive(Duration interval, Duration timeout) {
        this.intervalNanos = interval.toNanos();
        this.timeoutNanos = timeout.toNanos();
    }

    /** PING acknowledgements received so far (for tests and metrics). */
    public long acknowledgements() {
        return acks.get();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            schedulePing();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (nextPing == null) {
            schedulePing();
        }
        ctx.fireChannelActive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2PingFrame ping && ping.ack()) {
            if (ping.content() == outstanding) {
                outstanding = -1;
                acks.incrementAndGet();
                if (deadline != null) {
                    deadline.cancel(false);
                    deadline = null;
                }
            }
            return; // acks are ours; nothing further down wants them
        }
        ctx.fireChannelRead(msg);
    }

    private void schedulePing() {
        nextPing = ctx.executor().schedule(this::ping, intervalNanos, TimeUnit.NANOSECONDS);
    }

    private void ping() {
        if (!ctx.channel().isActive()) {
            return;
        }
        if (outstanding < 0) {
            outstanding = ThreadLocalRandom.current().nextLong(Long.MAX_VALUE);
            ctx.writeAndFlush(new DefaultHttp2PingFrame(outstanding)).addListener(f -> {
                if (!f.isSuccess()) {
                    log.debug(
                            "{} PING failed, closing: {}",
                            ctx.channel(),
                            f.cause().toString());
                    ctx.close();
                }
            });
            deadline = ctx.executor().schedule(this::timedOut, timeoutNanos, TimeUnit.NANOSECONDS);
        }
        schedulePing();
    }

    private void timedOut() {
        if (outstanding >= 0 && ctx.channel().isActive()) {
            log.debug("{} no PING acknowledgement within {} ms, closing", ctx.channel(), timeoutNanos / 1_000_000);
            // Abrupt, as ztunnel: the peer is gone or wedged, a graceful GOAWAY would only wait longer.
            Channels.closeAbruptly(ctx.channel());
        }
    }

    private void cancel() {
        if (nextPing != null) {
            nextPing.cancel(false);
        }
        if (deadline != null) {
            deadline.cancel(false);
        }
    }
}
