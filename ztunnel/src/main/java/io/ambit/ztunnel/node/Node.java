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
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.admin.HttpEndpoint;
import io.ambit.ztunnel.inbound.InboundHandler;
import io.ambit.ztunnel.inbound.LiveConnections;
import io.ambit.ztunnel.inbound.PlaintextListener;
import io.ambit.ztunnel.outbound.Socks5Listener;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.ambit.ztunnel.telemetry.TrafficMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One ztunnel: the proxy of every workload the mesh places on one node. As ztunnel's in-pod mode opens
 * listeners inside each pod's network namespace, a node here opens them on each of its workloads' own
 * IPs (127.x.y.z on a laptop): inbound HBONE on {@code ip:15008} presenting that workload's certificate,
 * inbound plaintext on {@code ip:15006}, and SOCKS5 on {@code ip:15080} speaking as that workload. So a node needs no address of its own, the
 * socket's local IP is the authority IP of every tunnel it accepts (§1.5's destination check), and the
 * listener a client picks says which workload it is. One HBONE pool per node carries all its workloads'
 * outbound tunnels, keyed by source identity.
 *
 * <p>Inbound plaintext ({@link PlaintextListener}): in-pod, ztunnel captures plain TCP sent to any pod
 * port but 15008 and recovers the port from the redirected socket. Without capture the client has to
 * dial {@code ip:15006} itself, which loses the port it meant; so the listener forwards to the
 * workload's only app port (the one target port of the services it backs) and refuses a workload with
 * none or several, rather than invent a way to name the port that ztunnel does not have. The policy
 * decision is ztunnel's: L4 with no peer identity, so STRICT PeerAuthentication refuses it.
 *
 * <p>The listeners are opened for the workloads the node has when it starts; routing and policy follow
 * every later mesh state, but a workload added to the file later gets no listeners until a restart.
 */
public final class Node implements AutoCloseable {
    /**
     * Where a node's listeners go: per workload IP {@code hbone}, {@code socks} and {@code plaintext}
     * (inbound); on the node's first workload IP {@code metrics} ({@code /metrics},
     * {@code /stats/prometheus}) and {@code readiness} ({@code /healthz/ready}); {@code admin} is the
     * process's, on 127.0.0.1 (0: any free port).
     */
    public record Ports(int hbone, int socks, int metrics, int readiness, int admin, int plaintext) {
        public static final Ports DEFAULT = new Ports(15008, 15080, 15020, 15021, 15000, 15006);

        /** With inbound plaintext on ztunnel's 15006. */
        public Ports(int hbone, int socks, int metrics, int readiness, int admin) {
            this(hbone, socks, metrics, readiness, admin, 15006);
        }
    }

    private final String name;
    private final List<Workload> workloads;
    private final HbonePool pool;
    private final ClientTls clientTls;
    private final List<ServerTls> serverTls = new ArrayList<>();
    private final List<HboneServer> servers = new ArrayList<>();
    private final List<Socks5Listener> socks = new ArrayList<>();
    private final List<PlaintextListener> plaintext = new ArrayList<>();
    private final LiveConnections live;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final List<HttpEndpoint> endpoints = new ArrayList<>();
    private volatile boolean ready;

    private Node(String name, List<Workload> workloads, HbonePool pool, ClientTls clientTls, MeshSource mesh) {
        this.name = name;
        this.live = new LiveConnections(mesh);
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
        var node = new Node(name, workloads, pool, clientTls, mesh);
        // Every published state re-decides the open inbound tunnels (on the source's control thread).
        mesh.addListener(node.live);
        try {
            node.startEndpoints(ports, transport, group);
            var metrics = new TrafficMetrics(node.registry);
            var inbound = new InboundHandler(mesh, transport, accessLog, node.live, metrics);
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
                            accessLog,
                            metrics));
                    node.plaintext.add(PlaintextListener.start(
                            new InetSocketAddress(address, ports.plaintext()),
                            mesh,
                            transport,
                            group,
                            accessLog,
                            node.live,
                            metrics));
                }
            }
            node.ready = true; // the mesh is loaded and every workload has its certificate
        } catch (Exception e) {
            node.close();
            throw e;
        }
        return node;
    }

    /** Metrics and readiness on the first workload IP; readiness answers "not ready" until start ends. */
    private void startEndpoints(Ports ports, Transport transport, EventLoopGroup group) throws Exception {
        var first = workloads.stream().flatMap(w -> w.ips().stream()).findFirst();
        if (first.isEmpty()) {
            return;
        }
        InetAddress address = InetAddress.getByName(first.get().ip().toString());
        HttpEndpoint.Route scrape = (method, query) ->
                new HttpEndpoint.Reply(200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
        endpoints.add(HttpEndpoint.start(
                transport,
                group,
                new InetSocketAddress(address, ports.metrics()),
                Map.of("/metrics", scrape, "/stats/prometheus", scrape)));
        endpoints.add(HttpEndpoint.start(
                transport,
                group,
                new InetSocketAddress(address, ports.readiness()),
                Map.of(
                        "/healthz/ready",
                        (method, query) -> ready
                                ? HttpEndpoint.Reply.text(200, "ready\n")
                                : HttpEndpoint.Reply.text(500, "not ready, pending: certificates, proxy\n"))));
    }

    /** The registry this node's traffic metrics go to (what {@code /metrics} serves). */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** {@code ip:port} of {@code /metrics}, then of {@code /healthz/ready}; empty for a node without IPs. */
    public List<InetSocketAddress> endpointAddresses() {
        return endpoints.stream().map(HttpEndpoint::address).toList();
    }

    public String name() {
        return name;
    }

    public List<Workload> workloads() {
        return workloads;
    }

    /** The inbound connections open now: HBONE tunnels and allowed plaintext connections. */
    public LiveConnections liveConnections() {
        return live;
    }

    /** The SOCKS5 listeners, one per workload IP. */
    public List<InetSocketAddress> socksAddresses() {
        return socks.stream().map(Socks5Listener::address).toList();
    }

    /** The inbound plaintext listeners, one per workload IP. */
    public List<InetSocketAddress> plaintextAddresses() {
        return plaintext.stream().map(PlaintextListener::address).toList();
    }

    /** The inbound HBONE listeners, one per workload IP. */
    public List<InetSocketAddress> hboneAddresses() {
        return servers.stream().map(HboneServer::localAddress).toList();
    }

    /** Stops accepting, drains inbound tunnels (GOAWAY, up to {@code deadline}), closes everything. */
    public void close(Duration deadline) {
        ready = false;
        for (var e : endpoints) {
            e.close();
        }
        for (var s : socks) {
            s.close();
        }
        for (var p : plaintext) {
            p.close();
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
