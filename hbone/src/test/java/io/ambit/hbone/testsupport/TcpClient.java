package io.ambit.hbone.testsupport;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/** A TCP client application: sends bytes, half-closes, and collects what comes back until FIN. */
public final class TcpClient {
    public final Channel channel;
    /** Everything received, completed at the peer's FIN; fails if the connection is reset first. */
    public final CompletableFuture<byte[]> received = new CompletableFuture<>();

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    private TcpClient(Channel channel) {
        this.channel = channel;
    }

    public static TcpClient connect(TestLoops loops, InetSocketAddress to) throws Exception {
        TcpClient[] holder = new TcpClient[1];
        Bootstrap b = new Bootstrap()
                .group(loops.group)
                .channel(loops.transport.socketChannelClass())
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf buf = (ByteBuf) msg;
                        byte[] chunk = new byte[buf.readableBytes()];
                        buf.readBytes(chunk);
                        buf.release();
                        synchronized (holder[0].bytes) {
                            holder[0].bytes.writeBytes(chunk);
                        }
                    }

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        if (evt == ChannelInputShutdownEvent.INSTANCE) {
                            synchronized (holder[0].bytes) {
                                holder[0].received.complete(holder[0].bytes.toByteArray());
                            }
                        }
                        ReferenceCountUtil.release(evt);
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        holder[0].received.completeExceptionally(new java.io.IOException("closed before FIN"));
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        holder[0].received.completeExceptionally(cause);
                        ctx.close();
                    }
                });
        Channel ch = b.connect(to).sync().channel();
        holder[0] = new TcpClient(ch);
        return holder[0];
    }

    /** Writes and flushes {@code data}; the future completes when it has gone to the socket. */
    public io.netty.channel.ChannelFuture write(byte[] data) {
        return channel.writeAndFlush(Unpooled.wrappedBuffer(data));
    }

    /** Sends FIN after what was written. */
    public void shutdownOutput() {
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> ((DuplexChannel) channel).shutdownOutput());
    }

    public void close() {
        channel.close();
    }
}
