package io.ambit.hbone.testsupport;

import io.ambit.hbone.pool.HboneStream;
import io.ambit.hbone.relay.HboneStreamCodec;
import io.ambit.hbone.relay.InboundHold;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.CompletableFuture;

/** Talking over an HBONE stream directly, without a socket on our side. */
public final class StreamIo {
    private StreamIo() {}

    /**
     * Sends {@code data}, ends our side, and collects what comes back until the other side ends; fails if
     * the stream is reset or closed first.
     */
    public static CompletableFuture<byte[]> exchange(HboneStream stream, byte[] data) {
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        stream.channel().eventLoop().execute(() -> {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            stream.channel().pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof ByteBuf buf) {
                        byte[] chunk = new byte[buf.readableBytes()];
                        buf.readBytes(chunk);
                        bytes.writeBytes(chunk);
                    }
                    ReferenceCountUtil.release(msg);
                }

                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    if (evt == ChannelInputShutdownEvent.INSTANCE) {
                        received.complete(bytes.toByteArray());
                    }
                    ReferenceCountUtil.release(evt);
                }

                @Override
                public void channelInactive(ChannelHandlerContext ctx) {
                    received.completeExceptionally(new java.io.IOException("stream closed before its end"));
                }
            });
            InboundHold.release(stream.channel().pipeline());
            stream.channel().config().setAutoRead(true);
            stream.channel().write(Unpooled.wrappedBuffer(data));
            stream.channel().writeAndFlush(HboneStreamCodec.END_STREAM);
        });
        return received;
    }
}
