package io.ambit.ztunnel.inpod;

import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.transport.Transport;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pod's proxy (ztunnel-reference.md §1.3): its listeners inside the pod's network namespace
 * (15001 outbound, 15006 inbound plaintext, 15008 inbound HBONE with the pod's certificate, the DNS proxy
 * on the pod's 127.0.0.1:15053 unless DNS capture is off, optionally SOCKS5 on the pod's 127.0.0.1), its own
 * HBONE pool, DNS forwarder and app connections — every socket created in the pod and marked, through
 * {@link PodSockets} (UDP sockets here, the same way). Owns the namespace descriptor until closed.
 *
 * <p>Dual stack, as Istio's ztunnel: the TCP listeners bind {@code [::]} (both families, see
 * {@link PodSockets}) wherever the kernel has IPv6, and the DNS proxy listens on {@code [::1]:15053} too,
 * where the IPv6 capture rules send the pod's IPv6 DNS. Outbound HBONE connections bind no source address:
 * the pod's own routing picks its address of the destination's family (an IPv4 pod address bound for an
 * IPv6 destination could not connect).
 */
final class PodProxy {
    private static final Logger log = LoggerFactory.getLogger(PodProxy.class);
    private final String uid;
    private final NetnsFd netns;
    private final HbonePool pool;
    private final WorkloadProxy listeners;
    private final boolean transparent;
    private final DnsProxy.Shared dns;
    private final DnsProxy dnsOtherFamily;

    private PodProxy(
            String uid,
            NetnsFd netns,
            HbonePool pool,
            WorkloadProxy listeners,
            boolean transparent,
            DnsProxy.Shared dns,
            DnsProxy dnsOtherFamily) {
        this.uid = uid;
        this.netns = netns;
        this.pool = pool;
        this.listeners = listeners;
        this.transparent = transparent;
        this.dns = dns;
        this.dnsOtherFamily = dnsOtherFamily;
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
            var ctx = WorkloadProxy.Context.builder()
                    .mesh(shared.mesh())
                    .certificates(shared.certificates())
                    .tls(shared.tls())
                    .transport(transport)
                    .group(shared.group())
                    .accessLog(shared.accessLog())
                    .live(shared.live())
                    .metrics(shared.metrics())
                    .pool(pool)
                    .inbound(inbound)
                    .hbonePort(shared.ports().hbone())
                    .keepClientIp(sockets.transparent())
                    .dns(dns)
                    .build();
            var any = InetAddress.getByAddress(new byte[sockets.ipv6() ? 16 : 4]); // [::] takes both families
            var ports = shared.ports();
            var binds = WorkloadProxy.Binds.builder()
                    .hbone(new InetSocketAddress(any, ports.hbone()))
                    .plaintext(new InetSocketAddress(any, ports.plaintext()))
                    .socks(
                            ports.socks() > 0
                                    ? new InetSocketAddress(InetAddress.getLoopbackAddress(), ports.socks())
                                    : null)
                    .outbound(new InetSocketAddress(any, ports.outbound()))
                    .capture(true)
                    .dns(dns == null ? null : shared.dns().address())
                    .build();
            // no source IP to bind: the workload is known by its uid, and in its own namespace the kernel picks
            // its address of the destination's family (forwarded then names the app's address as the app used it)
            var source = new OutboundFlow.Source(null, workload.uid());
            var listeners = WorkloadProxy.open(ctx, workload, binds, source);
            DnsProxy otherFamily = null;
            if (dns != null && sockets.ipv6()) {
                try {
                    otherFamily = dnsOtherFamily(shared, workload, dns, transport);
                } catch (Exception e) {
                    listeners.close(Duration.ZERO);
                    throw e;
                }
            }
            return new PodProxy(workload.uid(), netns, pool, listeners, sockets.transparent(), dns, otherFamily);
        } catch (Exception e) {
            pool.close();
            if (dns != null) {
                dns.close();
            }
            throw e;
        }
    }

    /**
     * The DNS proxy on the other family's loopback ({@code [::1]:15053} next to {@code 127.0.0.1:15053}), or
     * null: none configured, or the pod has no such loopback (IPv6 disabled in it: then no IPv6 DNS to
     * capture either).
     */
    private static DnsProxy dnsOtherFamily(
            InPodProxies.Shared shared, Workload workload, DnsProxy.Shared dns, Transport transport) throws Exception {
        var address = shared.dns().otherLoopback();
        if (address == null) {
            return null;
        }
        try {
            return DnsProxy.open(address, shared.mesh(), workload, dns, transport, shared.group());
        } catch (Exception e) {
            if (!isAddressNotAvailable(e)) {
                throw e;
            }
            log.info(
                    "pod {}: no {} in its network namespace: its DNS proxy listens on {} only",
                    workload.uid(),
                    address.getAddress().getHostAddress(),
                    shared.dns().address());
            return null;
        }
    }

    /** EADDRNOTAVAIL from a bind, however Netty wraps it. */
    private static boolean isAddressNotAvailable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (String.valueOf(t.getMessage()).contains("Cannot assign requested address")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Makes the transport's UDP channels inside the pod's namespace, marked (as {@link PodSockets} does for
     * TCP): the DNS proxy's listener and its upstream sockets.
     */
    private static ChannelFactory<DatagramChannel> datagrams(NetnsThread thread, NetnsFd netns, Transport transport) {
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
            if (dnsOtherFamily != null) {
                dnsOtherFamily.close();
            }
            pool.close();
            if (dns != null) {
                dns.close();
            }
            netns.close();
        }
    }
}
