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
import java.time.Duration;

/**
 * An HTTP/2 connection to one endpoint inside an HBONE tunnel, shared by the requests of one event loop
 * (each its own stream), up to the server's {@code SETTINGS_MAX_CONCURRENT_STREAMS} (and at most
 * {@code maxStreams}). GOAWAY retires it: no new streams, it closes when the last one ends. Without
 * streams for the idle timeout it closes too.
 */
final class H2Session extends ChannelInboundHandlerAdapter {
    /** Both sharable: one instance each for every stream rather than two objects more per request. */
    private static final Http2StreamFrameToHttpObjectCodec HTTP = new Http2StreamFrameToHttpObjectCodec(false);

    private static final ChannelInitializer<Http2StreamChannel> STREAM = new ChannelInitializer<>() {
        @Override
        protected void initChannel(Http2StreamChannel stream) {
            stream.pipeline().addLast("h2-http", HTTP).addLast("upstream", new H2Upstream(stream));
        }
    };

    private final Channel tunnel;
    private final LoopUpstreams owner;
    private final UpstreamKey key;
    private final long idleTimeoutNanos;
    private final Deadlines deadlines;
    private final Deadlines.Entry idleTimer = new Deadlines.Entry() {
        @Override
        protected void expired() {
            tunnel.close();
        }
    };
    private int maxStreams;
    private int active;
    private boolean retired;

    H2Session(
            Channel tunnel,
            LoopUpstreams owner,
            UpstreamKey key,
            int maxStreams,
            Duration idleTimeout,
            Deadlines deadlines) {
        this.tunnel = tunnel;
        this.owner = owner;
        this.key = key;
        this.maxStreams = maxStreams;
        this.idleTimeoutNanos = idleTimeout.toNanos();
        this.deadlines = deadlines;
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
        deadlines.cancel(idleTimer);
        Future<Http2StreamChannel> opened =
                new Http2StreamChannelBootstrap(tunnel).handler(STREAM).open();
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
                deadlines.arm(idleTimer, idleTimeoutNanos);
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
        deadlines.cancel(idleTimer);
        owner.removeSession(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
