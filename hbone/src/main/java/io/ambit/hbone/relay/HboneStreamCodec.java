package io.ambit.hbone.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;

/**
 * Makes an HTTP/2 stream channel look like a TCP socket to the handlers after it, so one relay serves
 * both: DATA payloads are read as {@link ByteBuf}s, END_STREAM as {@link ChannelInputShutdownEvent} (as a
 * socket with half-closure reports a FIN), written {@code ByteBuf}s become DATA frames, and writing
 * {@link #END_STREAM} sends an empty DATA frame with END_STREAM (the FIN). HEADERS frames pass through
 * unchanged (the CONNECT request or response, or trailers), followed by the shutdown event if they end
 * the stream.
 *
 * <p>Ownership: a DATA frame's payload is handed on as is (the reader releases it); an empty payload is
 * released here. A written {@code ByteBuf} is owned by the frame that carries it.
 */
@ChannelHandler.Sharable
public final class HboneStreamCodec extends ChannelDuplexHandler {
    /** It keeps no state: one instance serves every stream (one object less per open tunnel). */
    public static final HboneStreamCodec INSTANCE = new HboneStreamCodec();

    /** Write this to end our side of the stream (empty DATA frame with END_STREAM). */
    public static final Object END_STREAM = new Object() {
        @Override
        public String toString() {
            return "END_STREAM";
        }
    };

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2DataFrame data) {
            boolean end = data.isEndStream();
            ByteBuf payload = data.content();
            if (payload.isReadable()) {
                ctx.fireChannelRead(payload);
            } else {
                data.release();
            }
            if (end) {
                ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            }
        } else if (msg instanceof Http2HeadersFrame headers) {
            ctx.fireChannelRead(headers);
            if (headers.isEndStream()) {
                ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            }
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf buf) {
            ctx.write(new DefaultHttp2DataFrame(buf, false), promise);
        } else if (msg == END_STREAM) {
            ctx.write(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true), promise);
        } else {
            ctx.write(msg, promise);
        }
    }
}
