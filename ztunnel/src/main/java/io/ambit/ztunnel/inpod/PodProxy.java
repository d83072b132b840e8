package io.ambit.ztunnel.inpod;

import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.inbound.InboundHandler;
import io.ambit.ztunnel.inpod.sys.NetnsFd;
import io.ambit.ztunnel.inpod.sys.NetnsThread;
import io.ambit.ztunnel.node.WorkloadProxy;
import io.ambit.ztunnel.outbound.OutboundFlow;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * One pod's proxy (ztunnel-reference.md §1.3): its listeners inside the pod's network namespace
 * (15001 outbound, 15006 inbound plaintext, 15008 inbound HBONE with the pod's certificate, optionally
 * SOCKS5 on the pod's 127.0.0.1), its own HBONE pool and its own app connections — every socket created
 * in the pod and marked, through {@link PodSockets}. Owns the namespace descriptor until closed.
 */
final class PodProxy {
    private final String uid;
    private final NetnsFd netns;
    private final HbonePool pool;
    private final WorkloadProxy listeners;
    private final boolean transparent;

    private PodProxy(String uid, NetnsFd netns, HbonePool pool, WorkloadProxy listeners, boolean transparent) {
        this.uid = uid;
        this.netns = netns;
        this.pool = pool;
        this.listeners = listeners;
        this.transparent = transparent;
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
        try {
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
                    sockets.transparent());
            var any = InetAddress.getByAddress(new byte[4]);
            var ports = shared.ports();
            var binds = new WorkloadProxy.Binds(
                    new InetSocketAddress(any, ports.hbone()),
                    new InetSocketAddress(any, ports.plaintext()),
                    ports.socks() > 0 ? new InetSocketAddress(InetAddress.getLoopbackAddress(), ports.socks()) : null,
                    new InetSocketAddress(any, ports.outbound()),
                    true);
            InetAddress podIp = workload.ips().isEmpty()
                    ? null
                    : InetAddress.getByName(workload.ips().getFirst().ip().toString());
            var source = new OutboundFlow.Source(podIp, workload.uid());
            var listeners = WorkloadProxy.open(ctx, workload, binds, source);
            return new PodProxy(workload.uid(), netns, pool, listeners, sockets.transparent());
        } catch (Exception e) {
            pool.close();
            throw e;
        }
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
            netns.close();
        }
    }
}
