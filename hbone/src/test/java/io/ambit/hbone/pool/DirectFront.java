package io.ambit.hbone.pool;

import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.RelayResult;
import io.ambit.hbone.testsupport.TestLoops;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

/**
 * A local listener whose every accepted socket is tunnelled through {@link HbonePool#tunnel} (direct streams), as the
 * ztunnel's outbound does: the socket holds what it reads until the tunnel is up, then the relay starts.
 */
final class DirectFront implements AutoCloseable {
    /** One accepted socket: the tunnel's answer, and the relay's end once it relays. */
    record Accepted(Channel socket, CompletableFuture<DirectTunnel> tunnel, CompletableFuture<RelayResult> ended) {}

    final BlockingQueue<Accepted> accepted = new LinkedBlockingQueue<>();
    private final Channel listener;

    private DirectFront(
            TestLoops loops, InetSocketAddress bind, Function<Channel, CompletableFuture<DirectTunnel>> open)
            throws InterruptedException {
        listener = new ServerBootstrap()
                .group(loops.group)
                .channel(loops.transport.serverChannelClass())
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel socket) {
                        socket.pipeline().addLast(InboundHold.NAME, new InboundHold(64 * 1024));
                        CompletableFuture<RelayResult> ended = new CompletableFuture<>();
                        CompletableFuture<DirectTunnel> tunnel = open.apply(socket);
                        accepted.add(new Accepted(socket, tunnel, ended));
                        tunnel.whenComplete((t, e) -> {
                            if (e == null) {
                                t.relay(socket, ended::complete);
                            } else {
                                ended.completeExceptionally(e);
                                socket.close();
                            }
                        });
                    }
                })
                .bind(bind)
                .sync()
                .channel();
    }

    /** Tunnels every accepted socket with {@code open} (given the socket, e.g. for its event loop). */
    static DirectFront start(
            TestLoops loops, InetSocketAddress bind, Function<Channel, CompletableFuture<DirectTunnel>> open)
            throws InterruptedException {
        return new DirectFront(loops, bind, open);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }
}
