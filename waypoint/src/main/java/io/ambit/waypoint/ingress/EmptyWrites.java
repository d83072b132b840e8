package io.ambit.waypoint.ingress;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * Drops empty buffers on their way into a tunnel. The HTTP/1.1 encoders write one for the end of a message
 * framed by Content-Length; on an HBONE stream it would become an empty DATA frame — a TLS record and a
 * system call carrying nothing, and it counts against the peer's empty-frame budget.
 */
@ChannelHandler.Sharable
public final class EmptyWrites extends ChannelOutboundHandlerAdapter {
    public static final EmptyWrites DROP = new EmptyWrites();

    private EmptyWrites() {}

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf buf && !buf.isReadable()) {
            buf.release();
            promise.trySuccess();
            return;
        }
        ctx.write(msg, promise);
    }
}
