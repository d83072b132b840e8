package io.ambit.ztunnel.outbound;

import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.ReadAllocators;
import io.ambit.hbone.transport.Transport;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.ambit.ztunnel.telemetry.TrafficMetrics;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * ztunnel's SOCKS5 outbound listener (local mode, port 15080), for one source workload: it listens on
 * that workload's own IP, so whoever connects to it speaks as that workload (as a pod's traffic is that
 * pod's). Each connection: SOCKS5 handshake ({@link Socks5Handshake}), then the shared outbound flow
 * ({@link OutboundFlow}: route → HBONE or passthrough → reply → relay → report).
 *
 * <p>Reply codes: {@code 0x04} for a name that is no service in the mesh (never looked up in DNS),
 * {@code 0x02} when the destination's policy denied the tunnel (HBONE 401), {@code 0x05} for a refused
 * route (no healthy endpoint) or a failed connect.
 */
public final class Socks5Listener implements AutoCloseable {
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    /** RFC 1928 reply codes for the flow's answers. */
    private static final OutboundFlow.Reply REPLY = new OutboundFlow.Reply() {
        @Override
        public void connected(Channel client) {
            Socks5Handshake.reply(client, Socks5Handshake.SUCCEEDED);
        }

        @Override
        public void failed(Channel client, OutboundFlow.Failure failure) {
            Socks5Handshake.fail(
                    client,
                    switch (failure) {
                        case NO_SUCH_SERVICE -> Socks5Handshake.HOST_UNREACHABLE;
                        case NOT_ALLOWED -> Socks5Handshake.NOT_ALLOWED;
                        case REFUSED -> Socks5Handshake.CONNECTION_REFUSED;
                    });
        }
    };

    private final Channel listener;

    private Socks5Listener(Channel listener) {
        this.listener = listener;
    }

    /**
     * Binds {@code bind} (the source workload's {@code ip:15080}) and serves until closed, speaking as
     * the workload at that IP.
     *
     * @param hbonePort the port of every node's inbound HBONE listener (15008)
     * @param metrics   where {@code reporter="source"} counters go (the node's registry)
     */
    public static Socks5Listener start(
            InetSocketAddress bind,
            int hbonePort,
            MeshSource mesh,
            HbonePool pool,
            Transport transport,
            EventLoopGroup group,
            AccessLog accessLog,
            TrafficMetrics metrics)
            throws InterruptedException {
        var flow = new OutboundFlow(
                OutboundFlow.Source.at(bind.getAddress()), hbonePort, mesh, pool, transport, accessLog, metrics);
        return start(bind, flow, transport, group);
    }

    /** Binds {@code bind} and hands every handshaken connection to {@code flow}. */
    public static Socks5Listener start(
            InetSocketAddress bind, OutboundFlow flow, Transport transport, EventLoopGroup group)
            throws InterruptedException {
        Socks5Handshake.Receiver receiver = (client, request) ->
                flow.open(client, new OutboundFlow.Destination(request.ip(), request.host(), request.port()), REPLY);
        var listener = transport
                .configureChildren(new ServerBootstrap()) // keepalive with ztunnel's timers
                .group(group)
                .channelFactory(transport.serverChannelFactory())
                // a listener reopened on the same address (a workload re-added) must not wait out TIME_WAIT
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, ReadAllocators.SOCKET)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel client) {
                        client.pipeline()
                                .addLast(Socks5Handshake.NAME, new Socks5Handshake(receiver, HANDSHAKE_TIMEOUT))
                                .addLast(InboundHold.NAME, new InboundHold(64 * 1024));
                    }
                })
                .bind(bind)
                .sync()
                .channel();
        return new Socks5Listener(listener);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }
}
