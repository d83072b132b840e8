package io.ambit.bench.waypoint;

import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.Relay;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;

/**
 * The client hop as Ambit's own ztunnel does its outbound ({@code OutboundFlow}): each accepted socket's tunnel is
 * opened on a pooled HBONE connection of the socket's own event loop ({@code HbonePool.connect(key, request,
 * loop)}), so a tunnel's reads and writes never change threads, and a node with N loops keeps up to N connections
 * to the waypoint (a new one on a loop only at the stream limit, as in the shared pool). The default client hop
 * ({@code TcpTunnelListener}, pooled) shares one connection among all loops: one thread per hop for all traffic,
 * and a hand-over between threads for the sockets on the other loops.
 */
final class PerLoopClient {
    private PerLoopClient() {}

    static Channel start(
            Transport transport,
            EventLoopGroup group,
            HbonePool pool,
            PoolKey key,
            InetSocketAddress target,
            InetSocketAddress listen)
            throws InterruptedException {
        TunnelRequest request = TunnelRequest.to(Authority.of(target));
        return new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.AUTO_READ, false) // nothing is read until the tunnel is up
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel app) {
                        app.pipeline().addLast(InboundHold.NAME, new InboundHold(64 * 1024));
                        pool.connect(key, request, app.eventLoop()).whenComplete((stream, error) -> {
                            if (error != null) {
                                Relay.reset(app);
                            } else {
                                Relay.start(app, stream.channel());
                            }
                        });
                    }
                })
                .bind(listen)
                .sync()
                .channel();
    }
}
