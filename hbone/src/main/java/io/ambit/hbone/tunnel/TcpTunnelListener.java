package io.ambit.hbone.tunnel;

import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.HboneStream;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.Relay;
import io.ambit.hbone.relay.RelayResult;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * ztunnel's outbound in miniature: a TCP listener whose every connection is tunnelled to one fixed target
 * through HBONE and relayed (used by {@code ambit hbone forward} and the load harness). Pooled, all tunnels share the
 * pool's connections (ztunnel's behaviour); unpooled, each tunnel dials its own HBONE connection (TCP, mTLS,
 * HTTP/2) through a pool of its own, closed when the relay ends: the cost of a new tunnel when nothing can
 * be reused, ztunnel's {@code hbone_connections} benchmark.
 */
public final class TcpTunnelListener implements AutoCloseable {
    private final InetSocketAddress target;
    private final boolean pooled;
    /** Tunnels opened, tunnels that failed to open, bytes relayed up (app to peer) and down. */
    public final LongAdder tunnels = new LongAdder();

    public final LongAdder failures = new LongAdder();
    public final LongAdder bytesUp = new LongAdder();
    public final LongAdder bytesDown = new LongAdder();
    /** The TLS parameters of the first tunnel, e.g. the negotiated key-exchange group. */
    public final AtomicReference<String> firstPeer = new AtomicReference<>();

    private Channel listener; // set once bound, before anyone else sees this object

    private TcpTunnelListener(InetSocketAddress target, boolean pooled) {
        this.target = target;
        this.pooled = pooled;
    }

    /**
     * Listens on 127.0.0.1 (a free port) and tunnels each connection to {@code target} through a pool from
     * {@code pools}: the same one every time when {@code pooled}, a new one per connection otherwise (then
     * closed with its tunnel).
     */
    public static TcpTunnelListener start(
            Transport transport,
            EventLoopGroup group,
            Supplier<HbonePool> pools,
            PoolKey key,
            InetSocketAddress target,
            boolean pooled)
            throws InterruptedException {
        return start(transport, group, pools, key, target, pooled, new InetSocketAddress("127.0.0.1", 0));
    }

    /** As above, listening on {@code listen}. */
    public static TcpTunnelListener start(
            Transport transport,
            EventLoopGroup group,
            Supplier<HbonePool> pools,
            PoolKey key,
            InetSocketAddress target,
            boolean pooled,
            InetSocketAddress listen)
            throws InterruptedException {
        HbonePool shared = pooled ? pools.get() : null;
        TunnelRequest request = TunnelRequest.to(Authority.of(target));
        TcpTunnelListener self = new TcpTunnelListener(target, pooled);
        self.listener = transport
                .configureChildren(new ServerBootstrap()) // keepalive with ztunnel's timers
                .group(group)
                .channel(transport.serverChannelClass())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.AUTO_READ, false) // nothing is read until the tunnel is up
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel app) {
                        app.pipeline().addLast(InboundHold.NAME, new InboundHold(64 * 1024));
                        HbonePool pool = pooled ? shared : pools.get();
                        pool.connect(key, request).whenComplete((stream, error) -> {
                            if (error != null) {
                                self.failures.increment();
                                Relay.reset(app);
                                if (!pooled) {
                                    pool.closeAsync();
                                }
                            } else {
                                self.relay(app, stream, pooled ? null : pool);
                            }
                        });
                    }
                })
                .bind(listen)
                .sync()
                .channel();
        return self;
    }

    private void relay(Channel app, HboneStream stream, HbonePool own) {
        tunnels.increment();
        firstPeer.compareAndSet(null, stream.peer().toString());
        CompletableFuture<RelayResult> result =
                Relay.start(app, stream.channel()).result();
        result.whenComplete((r, e) -> {
            if (r != null) {
                bytesUp.add(r.aToB());
                bytesDown.add(r.bToA());
            }
            if (own != null) {
                own.closeAsync();
            }
        });
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    public InetSocketAddress target() {
        return target;
    }

    public boolean pooled() {
        return pooled;
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }
}
