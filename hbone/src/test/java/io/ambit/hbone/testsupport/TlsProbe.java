package io.ambit.hbone.testsupport;

import io.ambit.hbone.tls.TlsPeer;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Plain TLS on loopback for handshake tests: a server whose connections report their verified peer (or
 * why there is none), and a client that does the same with any {@link SslHandler}.
 */
public final class TlsProbe implements AutoCloseable {
    /** How a handshake ended on one side: the verified peer, or the failure. */
    public interface Verifier {
        TlsPeer verify(SslHandler handler) throws Exception;
    }

    /** A handler factory that may throw (as building an SslHandler does). */
    public interface HandlerFactory {
        SslHandler create(Channel channel) throws Exception;
    }

    private final Channel listener;
    public final BlockingQueue<CompletableFuture<TlsPeer>> accepted = new LinkedBlockingQueue<>();

    private TlsProbe(TestLoops loops, HandlerFactory handlers, Verifier verifier) throws Exception {
        listener = new ServerBootstrap()
                .group(loops.group)
                .channel(loops.transport.serverChannelClass())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) throws Exception {
                        CompletableFuture<TlsPeer> outcome = new CompletableFuture<>();
                        accepted.add(outcome);
                        ch.pipeline().addLast(handlers.create(ch), new Outcome(outcome, verifier));
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0))
                .sync()
                .channel();
    }

    public static TlsProbe server(TestLoops loops, HandlerFactory handlers, Verifier verifier) throws Exception {
        return new TlsProbe(loops, handlers, verifier);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Connects with {@code handlers} and reports the client side's outcome. */
    public static CompletableFuture<TlsPeer> connect(
            TestLoops loops, InetSocketAddress to, HandlerFactory handlers, Verifier verifier) {
        CompletableFuture<TlsPeer> outcome = new CompletableFuture<>();
        new Bootstrap()
                .group(loops.group)
                .channel(loops.transport.socketChannelClass())
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) throws Exception {
                        ch.pipeline().addLast(handlers.create(ch), new Outcome(outcome, verifier));
                    }
                })
                .connect(to)
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        outcome.completeExceptionally(f.cause());
                    }
                });
        return outcome;
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }

    private static final class Outcome extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<TlsPeer> outcome;
        private final Verifier verifier;

        Outcome(CompletableFuture<TlsPeer> outcome, Verifier verifier) {
            this.outcome = outcome;
            this.verifier = verifier;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent done) {
                if (!done.isSuccess()) {
                    outcome.completeExceptionally(done.cause());
                    ctx.close();
                    return;
                }
                try {
                    outcome.complete(verifier.verify(ctx.pipeline().get(SslHandler.class)));
                } catch (Exception e) {
                    outcome.completeExceptionally(e);
                }
                ctx.close();
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            outcome.completeExceptionally(new java.io.IOException("closed before the handshake completed"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            outcome.completeExceptionally(cause);
            ctx.close();
        }
    }
}
