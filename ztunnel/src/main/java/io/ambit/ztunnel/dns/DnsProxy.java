package io.ambit.ztunnel.dns;

import io.ambit.hbone.transport.Transport;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.Workload;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import java.net.InetSocketAddress;

/**
 * ztunnel's DNS proxy for one workload (ztunnel-reference.md §8): UDP and TCP listeners on one address
 * (15053; a pod's 127.0.0.1 in-pod, where its iptables send DNS to port 53), answering mesh names
 * from the mesh and forwarding the rest. The workload is the client of every query (in a pod, only the
 * pod's own processes reach its 127.0.0.1).
 */
public final class DnsProxy implements AutoCloseable {
    /** ztunnel's port. */
    public static final int PORT = 15053;

    /**
     * What the DNS proxies of one node (or one pod) share: the mesh index, the upstream forwarder (with its
     * cache), the metrics and how UDP sockets are made.
     */
    public record Shared(
            MeshResolver resolver,
            UpstreamForwarder forwarder,
            DnsMetrics metrics,
            ChannelFactory<? extends DatagramChannel> datagrams,
            DnsSettings settings)
            implements AutoCloseable {
        public static Shared of(
                UpstreamForwarder forwarder,
                DnsMetrics metrics,
                ChannelFactory<? extends DatagramChannel> datagrams,
                DnsSettings settings) {
            return new Shared(new MeshResolver(), forwarder, metrics, datagrams, settings);
        }

        /** Forwarding from this process's network namespace, with the transport's sockets. */
        public static Shared inProcess(
                DnsSettings settings, Transport transport, EventLoopGroup group, DnsMetrics metrics) {
            var datagrams = DatagramChannels.factory(transport);
            var forwarder = new UpstreamForwarder(settings, group.next(), datagrams, transport.socketChannelFactory());
            return of(forwarder, metrics, datagrams, settings);
        }

        @Override
        public void close() {
            forwarder.close();
        }
    }

    private final UdpDnsListener udp;
    private final TcpDnsListener tcp;

    private DnsProxy(UdpDnsListener udp, TcpDnsListener tcp) {
        this.udp = udp;
        this.tcp = tcp;
    }

    /**
     * Binds UDP and TCP on {@code bind}.
     *
     * @throws Exception when either cannot bind; nothing stays open
     */
    public static DnsProxy open(
            InetSocketAddress bind,
            MeshSource mesh,
            Workload client,
            Shared shared,
            Transport transport,
            EventLoopGroup group)
            throws Exception {
        var answerer = new DnsAnswerer(mesh, client, shared);
        var udp = UdpDnsListener.start(bind, shared.datagrams(), group, answerer);
        try {
            // the same port for TCP (an ephemeral UDP port is matched by the TCP listener's)
            var tcpBind = new InetSocketAddress(bind.getAddress(), udp.address().getPort());
            var tcp = TcpDnsListener.start(
                    tcpBind,
                    transport,
                    group,
                    answerer,
                    shared.settings().maxTcpConnections(),
                    shared.settings().tcpIdle());
            return new DnsProxy(udp, tcp);
        } catch (Exception e) {
            udp.close();
            throw e;
        }
    }

    /** The UDP listener's address (TCP listens on the same). */
    public InetSocketAddress address() {
        return udp.address();
    }

    @Override
    public void close() {
        try {
            udp.close();
        } finally {
            tcp.close();
        }
    }
}
