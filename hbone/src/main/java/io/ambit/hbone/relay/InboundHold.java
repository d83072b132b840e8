package io.ambit.hbone.relay;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Holds what a channel reads until whoever will consume it is in place, then replays it in order. This is
 * how bytes sent on a CONNECT stream before the {@code 200} (CVE-2025-64763) are kept: never parsed, never
 * forwarded, only ever delivered as tunnel data once the stream is accepted, and dropped if it is not.
 *
 * <p>Put one on every channel that will be relayed from the moment it exists, not only on HBONE streams:
 * Netty reads a socket whose peer half-closed even with auto-read off, and without a hold those bytes (and
 * the FIN) would pass by before the relay is in place.
 *
 * <p>Bounded: once {@code limit} bytes are held it turns auto-read off, so the peer is stopped by flow
 * control (HTTP/2 window, TCP window) rather than by our memory. Whoever removes it turns reading back on.
 * Remove it with {@link #release(ChannelPipeline)} after adding the consumer behind it.
 */
public final class InboundHold extends ChannelInboundHandlerAdapter {
    /** The pipeline name under which it is installed. */
    public static final String NAME = "hbone-hold";

    private final int limit;
    private final ArrayDeque<Object> held = new ArrayDeque<>();
    private long heldBytes;

    public InboundHold(int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit: " + limit + " (expected: > 0)");
        }
        this.limit = limit;
    }

    /** Bytes held so far. */
    public long heldBytes() {
        return heldBytes;
    }

    /** Removes the hold from {@code pipeline}, if there, replaying what it held to the handlers after it. */
    public static void release(ChannelPipeline pipeline) {
        InboundHold hold = pipeline.get(InboundHold.class);
        if (hold != null) {
            pipeline.remove(hold);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            heldBytes += buf.readableBytes();
            held.add(buf);
            if (heldBytes >= limit) {
                ctx.channel().config().setAutoRead(false);
            }
        } else {
            // Anything else (trailers, stray frames) is not tunnel data.
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // nothing for the consumer yet
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            held.add(evt); // the peer's FIN/END_STREAM must come after the bytes before it
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        drop();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (!ctx.channel().isActive()) {
            drop();
            return;
        }
        boolean any = !held.isEmpty();
        for (Object o; (o = held.poll()) != null; ) {
            if (o == ChannelInputShutdownEvent.INSTANCE) {
                ctx.fireUserEventTriggered(o);
            } else {
                ctx.fireChannelRead(o);
            }
        }
        heldBytes = 0;
        if (any) {
            ctx.fireChannelReadComplete();
        }
    }

    private void drop() {
        for (Object o; (o = held.poll()) != null; ) {
            ReferenceCountUtil.release(o);
        }
        heldBytes = 0;
    }
}
