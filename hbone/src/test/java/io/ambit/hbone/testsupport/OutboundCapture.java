package io.ambit.hbone.testsupport;

import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.Relay;
import io.ambit.hbone.relay.RelayResult;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The outbound half of a ztunnel in miniature: a TCP listener whose connections are tunnelled through the
 * pool to {@code request} and relayed; each relay's result is queued.
 */
public final class OutboundCapture implements AutoCloseable {
    private final Channel listener;
    public final BlockingQueue<CompletableFuture<RelayResult>> relays = new LinkedBlockingQueue<>();
    /** Each tunnelled connection: the app's socket and the relay (A = app, B = HBONE stream). */
    public record Tunnel(Channel app, Relay relay) {}

    public final BlockingQueue<Tunnel> tunnels = new LinkedBlockingQueue<>();

    private OutboundCapture(TestLoops loops, HbonePool pool, PoolKey key, TunnelRequest request) throws Exception {
        listener = new ServerBootstrap()
                .group(loops.group)
                .channel(loops.transport.serverChannelClass())
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.AUTO_READ, false) // nothing is read until the tunnel is up
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel app) {
                        // Netty reads a half-closed socket even with auto-read off: hold it until the relay.
                        app.pipeline().addLast(InboundHold.NAME, new InboundHold(64 * 1024));
                        CompletableFuture<RelayResult> result = new CompletableFuture<>();
                        relays.add(result);
                        pool.connect(key, request).whenComplete((stream, error) -> {
                            if (error != null) {
                                Relay.reset(app);
                                result.completeExceptionally(error);
                            } else {
                                Relay relay = Relay.start(app, stream.channel());
                                tunnels.add(new Tunnel(app, relay));
                                relay.result().whenComplete((r, e) -> result.complete(r));
                            }
                        });
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0))
                .sync()
                .channel();
    }

    public static OutboundCapture start(TestLoops loops, HbonePool pool, PoolKey key, TunnelRequest request)
            throws Exception {
        return new OutboundCapture(loops, pool, key, request);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }
}
