package io.ambit.hbone.testsupport;

import io.ambit.hbone.pool.HboneStream;
import io.ambit.hbone.relay.HboneStreamCodec;
import io.ambit.hbone.relay.InboundHold;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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

    /**
     * Keeps {@code stream} open for round trips to an echo on the other side ({@link StreamEcho}): nothing
     * is ended until the stream closes.
     */
    public static Talk talk(HboneStream stream) {
        Talk talk = new Talk(stream.channel());
        stream.channel().eventLoop().execute(talk::install);
        return talk;
    }

    /** Round trips over one open stream; each waits for its bytes to come back. */
    public static final class Talk {
        private final Channel channel;
        /** Completes when the stream closes, for whatever reason. */
        public final CompletableFuture<Void> closed = new CompletableFuture<>();
        // event loop only
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private int expected;
        private CompletableFuture<byte[]> pending;

        private Talk(Channel channel) {
            this.channel = channel;
        }

        /** Sends {@code data}; completes with what came back once as many bytes did, or fails if the stream closes. */
        public CompletableFuture<byte[]> roundTrip(byte[] data) {
            CompletableFuture<byte[]> reply = new CompletableFuture<>();
            channel.eventLoop().execute(() -> {
                if (!channel.isActive() || pending != null) {
                    reply.completeExceptionally(new IOException(
                            pending != null ? "a round trip is under way" : "stream closed before the round trip"));
                    return;
                }
                pending = reply;
                received.reset();
                expected = data.length;
                channel.writeAndFlush(Unpooled.wrappedBuffer(data)).addListener(f -> {
                    if (!f.isSuccess()) {
                        fail(f.cause());
                    }
                });
            });
            return reply;
        }

        private void install() {
            channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof ByteBuf buf) {
                        byte[] chunk = new byte[buf.readableBytes()];
                        buf.readBytes(chunk);
                        received.writeBytes(chunk);
                    }
                    ReferenceCountUtil.release(msg);
                    if (pending != null && received.size() >= expected) {
                        CompletableFuture<byte[]> done = pending;
                        pending = null;
                        done.complete(received.toByteArray());
                    }
                }

                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    ReferenceCountUtil.release(evt);
                }

                @Override
                public void channelInactive(ChannelHandlerContext ctx) {
                    fail(new IOException("stream closed before the echo came back"));
                    closed.complete(null);
                }
            });
            InboundHold.release(channel.pipeline());
            channel.config().setAutoRead(true);
        }

        private void fail(Throwable cause) {
            if (pending != null) {
                CompletableFuture<byte[]> failed = pending;
                pending = null;
                failed.completeExceptionally(cause);
            }
        }
    }
}
