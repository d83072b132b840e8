package io.ambit.waypoint.route;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/2 connection to one endpoint inside an HBONE tunnel, shared by the requests of one event loop
 * (each its own stream), up to the server's {@code SETTINGS_MAX_CONCURRENT_STREAMS} (and at most
 * {@code maxStreams}). GOAWAY retires it: no new streams, it closes when the last one ends. Without
 * streams for the idle timeout it closes too.
 */
final class H2Session extends ChannelInboundHandlerAdapter {
    private final Channel tunnel;
    private final LoopUpstreams owner;
    private final UpstreamKey key;
    private final Duration idleTimeout;
    private int maxStreams;
    private int active;
    private boolean retired;
    private ScheduledFuture<?> idleTimer;

    H2Session(Channel tunnel, LoopUpstreams owner, UpstreamKey key, int maxStreams, Duration idleTimeout) {
        this.tunnel = tunnel;
        this.owner = owner;
        this.key = key;
        this.maxStreams = maxStreams;
        this.idleTimeout = idleTimeout;
    }

    UpstreamKey key() {
        return key;
    }

    Channel tunnel() {
        return tunnel;
    }

    /** Whether a new stream may start on it now. */
    boolean hasCapacity() {
        return !retired && tunnel.isActive() && active < maxStreams;
    }

    /** Opens a stream for one request; completes on the loop. */
    Future<Http2StreamChannel> open() {
        active++;
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
        Future<Http2StreamChannel> opened = new Http2StreamChannelBootstrap(tunnel)
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel stream) {
                        stream.pipeline()
                                .addLast("h2-http", new Http2StreamFrameToHttpObjectCodec(false))
                                .addLast("upstream", new H2Upstream(stream));
                    }
                })
                .open();
        opened.addListener(f -> {
            if (f.isSuccess()) {
                ((Channel) f.getNow()).closeFuture().addListener(c -> streamEnded());
            } else {
                streamEnded();
            }
        });
        return opened;
    }

    private void streamEnded() {
        active--;
        if (active == 0) {
            if (retired) {
                tunnel.close();
            } else if (tunnel.isActive()) {
                idleTimer =
                        tunnel.eventLoop().schedule(() -> tunnel.close(), idleTimeout.toNanos(), TimeUnit.NANOSECONDS);
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // Connection-level frames the multiplexer passes on: the server's limits and its GOAWAY.
        if (msg instanceof Http2SettingsFrame settings) {
            Long max = settings.settings().maxConcurrentStreams();
            if (max != null) {
                maxStreams = (int) Math.min(maxStreams, max);
            }
        } else if (msg instanceof Http2GoAwayFrame) {
            retire();
        }
        ReferenceCountUtil.release(msg);
    }

    private void retire() {
        if (!retired) {
            retired = true;
            owner.removeSession(this);
            if (active == 0) {
                tunnel.close();
            }
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
            ctx.close(); // the tunnel ended: the HTTP/2 connection is over
            return;
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        retired = true;
        if (idleTimer != null) {
            idleTimer.cancel(false);
        }
        owner.removeSession(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
