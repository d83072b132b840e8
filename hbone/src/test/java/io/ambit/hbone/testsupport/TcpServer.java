package io.ambit.hbone.testsupport;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP application on 127.0.0.1:0 standing in for the workload behind ztunnel: {@link Mode#ECHO} writes
 * back what it reads (with back-pressure) and answers FIN with FIN; {@link Mode#RECORD} only keeps the
 * bytes. Either way each connection's received bytes complete a future at FIN.
 */
public final class TcpServer implements AutoCloseable {
    public enum Mode {
        ECHO,
        RECORD,
        /** As RECORD, but reading only starts when {@link TcpServer#resume} is called on the connection. */
        PAUSED
    }

    /** One accepted connection. */
    /**
     * @param readSoFar bytes read so far (the test can wait for them before acting on the connection)
     */
    public record Connection(Channel channel, CompletableFuture<byte[]> received, AtomicLong readSoFar) {}

    private final Channel listener;
    public final BlockingQueue<Connection> connections = new LinkedBlockingQueue<>();
    public final AtomicInteger accepted = new AtomicInteger();

    private TcpServer(TestLoops loops, Mode mode) throws Exception {
        ServerBootstrap b = new ServerBootstrap()
                .group(loops.group)
                .channel(loops.transport.serverChannelClass())
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.incrementAndGet();
                        CompletableFuture<byte[]> received = new CompletableFuture<>();
                        var readSoFar = new AtomicLong();
                        connections.add(new Connection(ch, received, readSoFar));
                        if (mode == Mode.PAUSED) {
                            ch.config().setAutoRead(false);
                        }
                        ch.pipeline().addLast(new App(mode, received, readSoFar));
                    }
                });
        listener = b.bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    public static TcpServer start(TestLoops loops, Mode mode) throws Exception {
        return new TcpServer(loops, mode);
    }

    /** Starts reading a {@link Mode#PAUSED} connection. */
    public static void resume(Connection connection) {
        connection.channel().config().setAutoRead(true);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        for (Connection c : connections) {
            c.channel().close();
        }
    }

    private static final class App extends ChannelInboundHandlerAdapter {
        private final Mode mode;
        private final CompletableFuture<byte[]> received;
        private final AtomicLong readSoFar;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        App(Mode mode, CompletableFuture<byte[]> received, AtomicLong readSoFar) {
            this.mode = mode;
            this.received = received;
            this.readSoFar = readSoFar;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            byte[] chunk = new byte[buf.readableBytes()];
            buf.getBytes(buf.readerIndex(), chunk);
            synchronized (bytes) {
                bytes.writeBytes(chunk);
            }
            readSoFar.addAndGet(chunk.length);
            if (mode == Mode.ECHO) {
                ctx.write(buf);
            } else {
                ReferenceCountUtil.release(buf);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (mode == Mode.ECHO) {
                if (!ctx.channel().isWritable()) {
                    ctx.channel().config().setAutoRead(false);
                }
                ctx.flush();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ChannelInputShutdownEvent.INSTANCE) {
                synchronized (bytes) {
                    received.complete(bytes.toByteArray());
                }
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER)
                        .addListener(f -> ((DuplexChannel) ctx.channel()).shutdownOutput())
                        .addListener(f -> ctx.close());
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            received.completeExceptionally(new java.io.IOException("closed before FIN"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            received.completeExceptionally(cause);
            ctx.close();
        }
    }
}
