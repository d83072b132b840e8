package io.ambit.ztunnel.outbound;

import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.ReadAllocators;
import io.ambit.hbone.transport.Transport;
import io.ambit.ztunnel.inpod.sys.OriginalDestination;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.Set;

/**
 * ztunnel's outbound capture listener (port 15001, ztunnel-reference.md §1.2–§1.3) for one source
 * workload: the pod's iptables {@code REDIRECT} every outbound TCP connection here. Each connection:
 * recover the destination the app dialed ({@code SO_ORIGINAL_DST}, else the socket's local address, as
 * ztunnel) → refuse a self-call → the shared outbound flow ({@link OutboundFlow}: route → HBONE or
 * passthrough → relay → report). A refused or failed connection is simply closed: plain TCP has no
 * way to say why, the access log does.
 *
 * <p>Self-call: a connection that was not redirected — its original destination is the listener's own
 * address; {@code SO_ORIGINAL_DST} answers for any connection conntrack tracks, NAT or not — and whose
 * port is one of ztunnel's (the app dialed {@code 127.0.0.1:15001} or its pod IP's 15001 itself) would
 * loop; it is refused. Redirected connections to ztunnel ports on loopback are refused by the router.
 */
public final class OriginalDstListener implements AutoCloseable {
    /** Closes the client: plain TCP has no failure reply. */
    private static final OutboundFlow.Reply CLOSE = new OutboundFlow.Reply() {
        @Override
        public void connected(Channel client) {}

        @Override
        public void failed(Channel client, OutboundFlow.Failure failure) {
            client.close();
        }
    };

    private final Channel listener;

    private OriginalDstListener(Channel listener) {
        this.listener = listener;
    }

    /**
     * Binds {@code bind} (in a pod: {@code 0.0.0.0:15001} inside its network namespace) and hands every
     * connection to {@code flow}.
     *
     * @param ownPorts  ztunnel's ports in this pod (15001, 15006, 15008, …): an unredirected connection to
     *                  one of them is a self-call
     * @param transport the transport whose (possibly namespaced) server channel is bound
     */
    public static OriginalDstListener start(
            InetSocketAddress bind, OutboundFlow flow, Set<Integer> ownPorts, Transport transport, EventLoopGroup group)
            throws InterruptedException {
        var ports = Set.copyOf(ownPorts);
        var listener = transport
                .configureChildren(new ServerBootstrap()) // keepalive with ztunnel's timers
                .group(group)
                .channelFactory(transport.serverChannelFactory())
                // a listener reopened on the same address (a workload re-added) must not wait out TIME_WAIT
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, ReadAllocators.SOCKET)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel client) {
                        client.pipeline()
                                .addLast(InboundHold.NAME, new InboundHold(64 * 1024))
                                .addLast(new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelActive(ChannelHandlerContext ctx) {
                                        ctx.pipeline().remove(this);
                                        accept(ctx.channel(), flow, ports);
                                    }
                                });
                    }
                })
                .bind(bind)
                .sync()
                .channel();
        return new OriginalDstListener(listener);
    }

    /** One captured connection, on its event loop. */
    private static void accept(Channel client, OutboundFlow flow, Set<Integer> ownPorts) {
        var local = (InetSocketAddress) client.localAddress();
        InetSocketAddress original = OriginalDestination.orLocal(client);
        var destination = OutboundFlow.Destination.of(original);
        // Not redirected (conntrack's original destination is this very socket, or there is no entry):
        // the client dialed ztunnel's port itself.
        if (original.equals(local) && ownPorts.contains(local.getPort())) {
            flow.refuse(
                    client,
                    destination,
                    CLOSE,
                    "self-call to ztunnel port " + local.getPort()
                            + " (not redirected: the client dialed the listener itself)");
            return;
        }
        flow.open(client, destination, CLOSE);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }
}
