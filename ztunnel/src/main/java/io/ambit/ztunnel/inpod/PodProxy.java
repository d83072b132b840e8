package io.ambit.ztunnel.inpod;

import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.dns.DatagramChannels;
import io.ambit.ztunnel.dns.DnsProxy;
import io.ambit.ztunnel.dns.UpstreamForwarder;
import io.ambit.ztunnel.inbound.InboundHandler;
import io.ambit.ztunnel.inpod.sys.ChannelFd;
import io.ambit.ztunnel.inpod.sys.NetnsFd;
import io.ambit.ztunnel.inpod.sys.NetnsThread;
import io.ambit.ztunnel.inpod.sys.SocketOptions;
import io.ambit.ztunnel.node.WorkloadProxy;
import io.ambit.ztunnel.outbound.OutboundFlow;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFactory;
import io.netty.channel.socket.DatagramChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * One pod's proxy (ztunnel-reference.md §1.3): its listeners inside the pod's network namespace
 * (15001 outbound, 15006 inbound plaintext, 15008 inbound HBONE with the pod's certificate, the DNS proxy
 * on the pod's 127.0.0.1:15053 unless DNS capture is off, optionally SOCKS5 on the pod's 127.0.0.1), its own
 * HBONE pool, DNS forwarder and app connections — every socket created in the pod and marked, through
 * {@link PodSockets} (UDP sockets here, the same way). Owns the namespace descriptor until closed.
 */
final class PodProxy {
    private final String uid;
    private final NetnsFd netns;
    private final HbonePool pool;
    private final WorkloadProxy listeners;
    private final boolean transparent;
    private final DnsProxy.Shared dns;

    private PodProxy(
            String uid,
            NetnsFd netns,
            HbonePool pool,
            WorkloadProxy listeners,
            boolean transparent,
            DnsProxy.Shared dns) {
        this.uid = uid;
        this.netns = netns;
        this.pool = pool;
        this.listeners = listeners;
        this.transparent = transparent;
        this.dns = dns;
    }

    /**
     * Opens the proxy of {@code workload} in {@code netns}. On failure nothing stays open except the
     * namespace descriptor, which the caller still owns.
     */
    static PodProxy open(
            InPodProxies.Shared shared, NetnsThread thread, ClientTls clientTls, Workload workload, NetnsFd netns)
            throws Exception {
        var sockets = new PodSockets(thread, netns, shared.transport());
        var transport = sockets.transport();
        var pool = new HbonePool(
                PoolConfig.defaults(),
                clientTls,
                SourceCertificates.from(shared.certificates()),
                transport,
                shared.group());
        DnsProxy.Shared dns = null;
        try {
            if (shared.dns() != null) {
                // the pod's own forwarder: its upstream sockets live in the pod and carry ztunnel's mark, so
                // the pod's DNS capture (udp/tcp 53 -> 15053) lets them out instead of looping them back here
                var datagrams = datagrams(thread, netns, transport);
                var settings = shared.dns().settings();
                dns = DnsProxy.Shared.of(
                        new UpstreamForwarder(
                                settings, shared.group().next(), datagrams, transport.socketChannelFactory()),
                        shared.dnsMetrics(),
                        datagrams,
                        settings);
            }
            var inbound = new InboundHandler(
                    shared.mesh(),
                    transport,
                    shared.accessLog(),
                    shared.live(),
                    shared.metrics(),
                    sockets.transparent());
            var ctx = new WorkloadProxy.Context(
                    shared.mesh(),
                    shared.certificates(),
                    shared.tls(),
                    transport,
                    shared.group(),
                    shared.accessLog(),
                    shared.live(),
                    shared.metrics(),
                    pool,
                    inbound,
                    shared.ports().hbone(),
                    sockets.transparent(),
                    dns);
            var any = InetAddress.getByAddress(new byte[4]);
            var ports = shared.ports();
            var binds = new WorkloadProxy.Binds(
                    new InetSocketAddress(any, ports.hbone()),
                    new InetSocketAddress(any, ports.plaintext()),
                    ports.socks() > 0 ? new InetSocketAddress(InetAddress.getLoopbackAddress(), ports.socks()) : null,
                    new InetSocketAddress(any, ports.outbound()),
                    true,
                    dns == null ? null : shared.dns().address());
            InetAddress podIp = workload.ips().isEmpty()
                    ? null
                    : workload.ips().getFirst().ip().toInetAddress();
            var source = new OutboundFlow.Source(podIp, workload.uid());
            var listeners = WorkloadProxy.open(ctx, workload, binds, source);
            return new PodProxy(workload.uid(), netns, pool, listeners, sockets.transparent(), dns);
        } catch (Exception e) {
            pool.close();
            if (dns != null) {
                dns.close();
            }
            throw e;
        }
    }

    /**
     * Makes the transport's UDP channels inside the pod's namespace, marked (as {@link PodSockets} does for
     * TCP): the DNS proxy's listener and its upstream sockets.
     */
    private static ChannelFactory<DatagramChannel> datagrams(
            NetnsThread thread, NetnsFd netns, io.ambit.hbone.transport.Transport transport) {
        var type = DatagramChannels.type(transport);
        return () -> {
            try {
                return thread.call(
                        netns,
                        () -> {
                            DatagramChannel channel = type.getConstructor().newInstance();
                            try {
                                int fd = ChannelFd.of(channel)
                                        .orElseThrow(
                                                () -> new IllegalStateException(type.getName() + " has no descriptor"));
                                SocketOptions.setMark(fd, SocketOptions.ZTUNNEL_MARK);
                            } catch (Exception | Error e) {
                                channel.unsafe().closeForcibly();
                                throw e;
                            }
                            return channel;
                        },
                        java.time.Duration.ofSeconds(5));
            } catch (Exception e) {
                throw new ChannelException("UDP socket in " + netns + ": " + e.getMessage(), e);
            }
        };
    }

    String uid() {
        return uid;
    }

    NetnsFd netns() {
        return netns;
    }

    Workload workload() {
        return listeners.workload();
    }

    /** Whether the pod's sockets are transparent (TPROXY inbound, app connections from the client's IP). */
    boolean transparent() {
        return transparent;
    }

    WorkloadProxy listeners() {
        return listeners;
    }

    /**
     * Drains the inbound tunnels (GOAWAY, up to {@code deadline}), closes every listener and pooled
     * connection, then the namespace descriptor. Blocks.
     */
    void close(Duration deadline) {
        try {
            listeners.close(deadline);
        } finally {
            pool.close();
            if (dns != null) {
                dns.close();
            }
            netns.close();
        }
    }
}
