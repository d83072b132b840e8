package io.ambit.waypoint.route;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * One HTTP/2 stream to an endpoint, on a shared HTTP/2 connection inside an HBONE tunnel: one request.
 * Releasing it ends the stream (a reset if it is not over yet).
 */
final class H2Upstream extends ChannelDuplexHandler implements Upstream {
    private final Channel stream;
    private UpstreamListener listener;

    H2Upstream(Channel stream) {
        this.stream = stream;
    }

    @Override
    public void listen(UpstreamListener l) {
        this.listener = l;
    }

    @Override
    public void write(HttpObject part) {
        stream.writeAndFlush(part, stream.voidPromise());
    }

    @Override
    public boolean isWritable() {
        return stream.isWritable();
    }

    @Override
    public void reading(boolean on) {
        stream.config().setAutoRead(on);
    }

    @Override
    public void release(boolean reusable) {
        listener = null;
        if (stream.isActive()) {
            stream.close(); // RST_STREAM(CANCEL) if either side is still open; nothing when both ended
        }
    }

    @Override
    public void abort() {
        release(false);
    }

    @Override
    public Channel channel() {
        return stream;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        UpstreamListener l = listener;
        if (l != null && msg instanceof HttpObject part) {
            l.onResponse(part);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame) {
            fail(new java.io.IOException("upstream reset the stream: " + ((Http2ResetFrame) evt).errorCode()));
            ctx.close();
            return;
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        UpstreamListener l = listener;
        if (l != null) {
            l.onUpstreamReadComplete();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        UpstreamListener l = listener;
        if (l != null && ctx.channel().isWritable()) {
            l.onUpstreamWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(null);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(cause);
        ctx.close();
    }

    private void fail(Throwable cause) {
        UpstreamListener l = listener;
        listener = null;
        if (l != null) {
            l.onUpstreamClosed(cause);
        }
    }
}
