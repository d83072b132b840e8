package io.ambit.ztunnel.node;

import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.server.HboneServer;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.ztunnel.inbound.InboundHandler;
import io.ambit.ztunnel.mesh.MeshSource;
import io.ambit.ztunnel.mesh.Workload;
import io.ambit.ztunnel.outbound.Socks5Listener;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One ztunnel: the proxy of every workload the mesh places on one node. As ztunnel's in-pod mode opens
 * listeners inside each pod's network namespace, a node here opens them on each of its workloads' own
 * IPs (127.x.y.z on a laptop): inbound HBONE on {@code ip:15008} presenting that workload's certificate,
 * and SOCKS5 on {@code ip:15080} speaking as that workload. So a node needs no address of its own, the
 * socket's local IP is the authority IP of every tunnel it accepts (§1.5's destination check), and the
 * listener a client picks says which workload it is. One HBONE pool per node carries all its workloads'
 * outbound tunnels, keyed by source identity.
 *
 * <p>The listeners are opened for the workloads the node has when it starts; routing and policy follow
 * every later mesh state, but a workload added to the file later gets no listeners until a restart.
 */
public final class Node implements AutoCloseable {
    /** Where a node's listeners go. */
    public record Ports(int hbone, int socks) {
        public static final Ports DEFAULT = new Ports(15008, 15080);
    }

    private final String name;
    private final List<Workload> workloads;
    private final HbonePool pool;
    private final ClientTls clientTls;
    private final List<ServerTls> serverTls = new ArrayList<>();
    private final List<HboneServer> servers = new ArrayList<>();
    private final List<Socks5Listener> socks = new ArrayList<>();

    private Node(String name, List<Workload> workloads, HbonePool pool, ClientTls clientTls) {
        this.name = name;
        this.workloads = List.copyOf(workloads);
        this.pool = pool;
        this.clientTls = clientTls;
    }

    /**
     * Starts the listeners of {@code workloads} (those speaking HBONE), once each has its certificate.
     *
     * @throws Exception when a certificate cannot be had or an address cannot be bound; nothing stays open
     */
    public static Node start(
            String name,
            List<Workload> workloads,
            Ports ports,
            MeshSource mesh,
            CertificateManager certificates,
            TlsSettings tls,
            Transport transport,
            EventLoopGroup group,
            AccessLog accessLog)
            throws Exception {
        var clientTls = new ClientTls(tls);
        var pool = new HbonePool(
                PoolConfig.defaults(), clientTls, SourceCertificates.from(certificates), transport, group);
        var node = new Node(name, workloads, pool, clientTls);
        try {
            var inbound = new InboundHandler(mesh, transport, accessLog);
            for (var w : node.workloads) {
                if (w.protocol() != Workload.Protocol.HBONE) {
                    continue;
                }
                certificates.certificate(w.identity()).get(30, TimeUnit.SECONDS);
                for (var ip : w.ips()) {
                    InetAddress address = InetAddress.getByName(ip.ip().toString()); // a literal: no lookup
                    var serverTls = ServerTls.forIdentity(certificates, w.identity(), tls, null);
                    node.serverTls.add(serverTls);
                    node.servers.add(HboneServer.start(
                                    HboneServerConfig.defaults(new InetSocketAddress(address, ports.hbone())),
                                    serverTls,
                                    inbound,
                                    transport,
                                    group)
                            .get(30, TimeUnit.SECONDS));
                    node.socks.add(Socks5Listener.start(
                            new InetSocketAddress(address, ports.socks()),
                            ports.hbone(),
                            mesh,
                            pool,
                            transport,
                            group,
                            accessLog));
                }
            }
        } catch (Exception e) {
            node.close();
            throw e;
        }
        return node;
    }

    public String name() {
        return name;
    }

    public List<Workload> workloads() {
        return workloads;
    }

    /** The SOCKS5 listeners, one per workload IP. */
    public List<InetSocketAddress> socksAddresses() {
        return socks.stream().map(Socks5Listener::address).toList();
    }

    /** The inbound HBONE listeners, one per workload IP. */
    public List<InetSocketAddress> hboneAddresses() {
        return servers.stream().map(HboneServer::localAddress).toList();
    }

    /** Stops accepting, drains inbound tunnels (GOAWAY, up to {@code deadline}), closes everything. */
    public void close(Duration deadline) {
        for (var s : socks) {
            s.close();
        }
        for (var s : servers) {
            s.drain(deadline)
                    .orTimeout(deadline.toMillis() + 1000, TimeUnit.MILLISECONDS)
                    .exceptionally(e -> null)
                    .join();
            s.close();
        }
        pool.close();
        for (var t : serverTls) {
            t.close();
        }
        clientTls.close();
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(1));
    }
}
