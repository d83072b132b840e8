package io.ambit.ztunnel.node;

import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.admin.HttpEndpoint;
import io.ambit.ztunnel.dns.DnsMetrics;
import io.ambit.ztunnel.dns.DnsProxy;
import io.ambit.ztunnel.dns.DnsSettings;
import io.ambit.ztunnel.dns.InPodDns;
import io.ambit.ztunnel.inbound.InboundHandler;
import io.ambit.ztunnel.inbound.LiveConnections;
import io.ambit.ztunnel.outbound.OutboundFlow;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.ambit.ztunnel.telemetry.TrafficMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p>The listeners follow the mesh: a workload that later appears on this node (its {@code node} is this
 * node's name; {@code default} for none) gets its listeners, one that leaves or disappears has them
 * drained and closed, one whose identity changes has them reopened with the new certificate. This runs
 * on the node's own control thread, never on the mesh source's (a certificate may take a while).
 */
public final class Node implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Node.class);
    /** How long a workload that left the mesh gets to finish its inbound tunnels (ztunnel's default). */
    static final Duration REMOVED_DRAIN = Duration.ofSeconds(5);
    /** When a workload whose listeners failed to open is tried again (as ztunnel retries proxy starts). */
    static final Duration RETRY = Duration.ofSeconds(5);

    /**
     * Where a node's listeners go: per workload IP {@code hbone}, {@code socks} and {@code plaintext}
     * (inbound) and {@code dns} (UDP and TCP; 0: no DNS proxy); on the node's first workload IP
     * {@code metrics} ({@code /metrics}, {@code /stats/prometheus}) and {@code readiness}
     * ({@code /healthz/ready}); {@code admin} is the process's, on 127.0.0.1 (0: any free port).
     * {@link #builder} starts from ztunnel's ports and names the ones that differ.
     */
    public record Ports(int hbone, int socks, int metrics, int readiness, int admin, int plaintext, int dns) {
        /** ztunnel's ports, with the DNS proxy on each workload IP's 15053 ({@code ambit run}). */
        public static final Ports DEFAULT = new Ports(15008, 15080, 15020, 15021, 15000, 15006, DnsProxy.PORT);

        /**
         * A builder holding {@link #DEFAULT}. A call site names the ports it changes (seven ints in a row
         * are easy to misplace), and a new port is one more setter, not one more constructor.
         */
        public static Builder builder() {
            return DEFAULT.toBuilder();
        }

        /** A builder holding these ports, to change a few. */
        public Builder toBuilder() {
            return new Builder()
                    .hbone(hbone)
                    .socks(socks)
                    .metrics(metrics)
                    .readiness(readiness)
                    .admin(admin)
                    .plaintext(plaintext)
                    .dns(dns);
        }

        /**
         * The ports of a {@code hbone,socks,metrics,readiness,admin,plaintext} list, as {@code --ports}
         * takes them; no DNS proxy.
         *
         * @throws IllegalArgumentException naming the count or the port that is off
         */
        public static Ports ofList(int... values) {
            if (values.length != 6) {
                throw new IllegalArgumentException(
                        "has " + values.length + " values (expected: 6, hbone,socks,metrics,ready,admin,plaintext)");
            }
            String[] names = {"hbone", "socks", "metrics", "ready", "admin", "plaintext"};
            for (int i = 0; i < 6; i++) {
                if (values[i] < 0 || values[i] > 65535) {
                    throw new IllegalArgumentException(
                            names[i] + " is " + values[i] + " (expected: 0 to 65535; 0 picks a free port)");
                }
            }
            return builder()
                    .hbone(values[0])
                    .socks(values[1])
                    .metrics(values[2])
                    .readiness(values[3])
                    .admin(values[4])
                    .plaintext(values[5])
                    .dns(0)
                    .build();
        }

        /** Names the ports one by one (0 picks a free port; {@code dns} 0: no DNS proxy). */
        public static final class Builder {
            private int hbone;
            private int socks;
            private int metrics;
            private int readiness;
            private int admin;
            private int plaintext;
            private int dns;

            private Builder() {}

            public Builder hbone(int v) {
                hbone = v;
                return this;
            }

            public Builder socks(int v) {
                socks = v;
                return this;
            }

            public Builder metrics(int v) {
                metrics = v;
                return this;
            }

            public Builder readiness(int v) {
                readiness = v;
                return this;
            }

            public Builder admin(int v) {
                admin = v;
                return this;
            }

            public Builder plaintext(int v) {
                plaintext = v;
                return this;
            }

            public Builder dns(int v) {
                dns = v;
                return this;
            }

            public Ports build() {
                return new Ports(hbone, socks, metrics, readiness, admin, plaintext, dns);
            }
        }
    }

    /** One workload IP's listeners. */
    private record Key(String uid, String ip) {}

    private final String name;
    private final Ports ports;
    private final Set<String> pinned;
    private final HbonePool pool;
    private final ClientTls clientTls;
    private final LiveConnections live;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final List<HttpEndpoint> endpoints = new ArrayList<>();
    private final ScheduledExecutorService control;
    private final Map<Key, WorkloadProxy> proxies = new LinkedHashMap<>(); // control thread (start: caller)
    private volatile Map<Key, WorkloadProxy> published = Map.of();
    private WorkloadProxy.Context context;
    private DnsProxy.Shared dns;
    private volatile boolean ready;
    private volatile boolean closed;
    private boolean retryScheduled; // control thread
    /** Workloads of this node that another proxy serves (a waypoint binds its own ip:15008): no listeners. */
    private BiPredicate<MeshState, Workload> excluded = (state, w) -> false;

    private Node(
            String name, List<Workload> workloads, Ports ports, HbonePool pool, ClientTls clientTls, MeshSource mesh) {
        this.name = name;
        this.ports = ports;
        this.live = new LiveConnections(mesh);
        var pins = new HashSet<String>();
        for (var w : workloads) {
            if (!belongs(name, w)) {
                pins.add(w.uid()); // given explicitly: kept while the mesh has it, wherever it runs
            }
        }
        this.pinned = Set.copyOf(pins);
        this.pool = pool;
        this.clientTls = clientTls;
        this.control = Executors.newSingleThreadScheduledExecutor(r -> {
            var t = new Thread(r, "ambit-node-" + name);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts the listeners of {@code workloads} (those speaking HBONE), once each has its certificate;
     * later mesh states then add and remove workloads of this node (see the class comment).
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
        return start(name, workloads, ports, mesh, certificates, tls, transport, group, accessLog, (s, w) -> false);
    }

    /**
     * As the other {@code start}, leaving out the workloads {@code excluded} names, now and in later
     * states (e.g. waypoints, which listen on their own IP themselves).
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
            AccessLog accessLog,
            BiPredicate<MeshState, Workload> excluded)
            throws Exception {
        var clientTls = new ClientTls(tls);
        var pool = new HbonePool(
                PoolConfig.defaults(), clientTls, SourceCertificates.from(certificates), transport, group);
        var node = new Node(name, workloads, ports, pool, clientTls, mesh);
        node.excluded = excluded;
        // Every published state re-decides the open inbound tunnels (on the source's control thread).
        mesh.addListener(node.live);
        try {
            node.startEndpoints(workloads, ports, transport, group);
            var metrics = new TrafficMetrics(node.registry);
            var inbound = new InboundHandler(mesh, transport, accessLog, node.live, metrics);
            if (ports.dns() > 0) {
                // upstreams: this machine's resolver (AMBIT_RESOLV_CONF names another file)
                String resolv = System.getenv("AMBIT_RESOLV_CONF");
                var path = resolv == null || resolv.isBlank() ? DnsSettings.RESOLV_CONF : java.nio.file.Path.of(resolv);
                node.dns = DnsProxy.Shared.inProcess(
                        DnsSettings.of(InPodDns.upstreams(path, "AMBIT_RESOLV_CONF")),
                        transport,
                        group,
                        new DnsMetrics(node.registry));
            }
            node.context = WorkloadProxy.Context.builder()
                    .mesh(mesh)
                    .certificates(certificates)
                    .tls(tls)
                    .transport(transport)
                    .group(group)
                    .accessLog(accessLog)
                    .live(node.live)
                    .metrics(metrics)
                    .pool(pool)
                    .inbound(inbound)
                    .hbonePort(ports.hbone())
                    .dns(node.dns)
                    .build();
            for (var w : workloads) {
                if (w.protocol() != Workload.Protocol.HBONE) {
                    continue;
                }
                for (var ip : w.ips()) {
                    node.proxies.put(
                            new Key(w.uid(), ip.ip().toString()),
                            node.openProxy(w, ip.ip().toString()));
                }
            }
            node.published = node.snapshot();
            node.ready = true; // the mesh is loaded and every workload has its certificate
        } catch (Exception e) {
            node.close();
            throw e;
        }
        // Later states: reconciled on the node's thread; once now for a state published while starting.
        mesh.addListener(state -> node.reconcileLater());
        node.reconcileLater();
        return node;
    }

    private static boolean belongs(String node, Workload w) {
        return node.equals(w.node() == null || w.node().isEmpty() ? "default" : w.node());
    }

    private WorkloadProxy openProxy(Workload w, String ip) throws Exception {
        InetAddress address = InetAddress.getByName(ip); // a literal: no lookup
        var binds = WorkloadProxy.Binds.builder()
                .hbone(new InetSocketAddress(address, ports.hbone()))
                .plaintext(new InetSocketAddress(address, ports.plaintext()))
                .socks(new InetSocketAddress(address, ports.socks()))
                .dns(ports.dns() > 0 ? new InetSocketAddress(address, ports.dns()) : null)
                .build();
        return WorkloadProxy.open(context, w, binds, OutboundFlow.Source.at(address));
    }

    private void reconcileLater() {
        if (closed) {
            return;
        }
        try {
            control.execute(this::reconcile);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    /** Opens and closes listeners so that they match the current mesh state. Control thread. */
    private void reconcile() {
        if (closed) {
            return;
        }
        MeshState state = context.mesh().current();
        var desired = new LinkedHashMap<Key, Workload>();
        for (var w : state.workloads()) {
            if (w.protocol() == Workload.Protocol.HBONE
                    && (belongs(name, w) || pinned.contains(w.uid()))
                    && !excluded.test(state, w)) {
                for (var ip : w.ips()) {
                    desired.put(new Key(w.uid(), ip.ip().toString()), w);
                }
            }
        }
        boolean failed = false;
        for (var it = proxies.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            Workload wanted = desired.get(e.getKey());
            if (wanted == null) {
                it.remove();
                var proxy = e.getValue();
                log.info(
                        "node {}: workload {} ({}) left: draining its listeners",
                        name,
                        e.getKey().uid(),
                        e.getKey().ip());
                Thread.ofVirtual().name("ambit-drain-" + e.getKey().uid()).start(() -> proxy.close(REMOVED_DRAIN));
            } else if (!wanted.identity().equals(e.getValue().workload().identity())) {
                it.remove();
                log.info(
                        "node {}: workload {} is now {}: reopening its listeners",
                        name,
                        wanted.uid(),
                        wanted.identity());
                e.getValue().close(Duration.ofSeconds(1));
            }
        }
        for (var e : desired.entrySet()) {
            if (proxies.containsKey(e.getKey()) || closed) {
                continue;
            }
            try {
                proxies.put(e.getKey(), openProxy(e.getValue(), e.getKey().ip()));
                log.info(
                        "node {}: workload {} ({}) joined: listeners open",
                        name,
                        e.getKey().uid(),
                        e.getKey().ip());
            } catch (Exception ex) {
                failed = true;
                log.warn(
                        "node {}: listeners of workload {} ({}) did not open (retrying in {}): {}",
                        name,
                        e.getKey().uid(),
                        e.getKey().ip(),
                        RETRY,
                        ex.toString());
            }
        }
        published = snapshot();
        if (failed && !retryScheduled && !closed) {
            retryScheduled = true;
            try {
                control.schedule(
                        () -> {
                            retryScheduled = false;
                            reconcile();
                        },
                        RETRY.toMillis(),
                        TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                // closing
            }
        }
    }

    private Map<Key, WorkloadProxy> snapshot() {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(proxies));
    }

    /** Metrics and readiness on the first workload IP; readiness answers "not ready" until start ends. */
    private void startEndpoints(List<Workload> workloads, Ports ports, Transport transport, EventLoopGroup group)
            throws Exception {
        var first = workloads.stream().flatMap(w -> w.ips().stream()).findFirst();
        if (first.isEmpty()) {
            return;
        }
        InetAddress address = first.get().ip().toInetAddress();
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

    /** The workloads with listeners open now, in the order they were opened. */
    public List<Workload> workloads() {
        var out = new ArrayList<Workload>();
        var seen = new HashSet<String>();
        for (var p : published.values()) {
            if (seen.add(p.workload().uid())) {
                out.add(p.workload());
            }
        }
        return List.copyOf(out);
    }

    /** The inbound connections open now: HBONE tunnels and allowed plaintext connections. */
    public LiveConnections liveConnections() {
        return live;
    }

    /** The SOCKS5 listeners, one per workload IP. */
    public List<InetSocketAddress> socksAddresses() {
        return published.values().stream().map(WorkloadProxy::socksAddress).toList();
    }

    /** The inbound plaintext listeners, one per workload IP. */
    public List<InetSocketAddress> plaintextAddresses() {
        return published.values().stream().map(WorkloadProxy::plaintextAddress).toList();
    }

    /** The DNS proxies' addresses (UDP and TCP), one per workload IP; empty when {@code dns} port is 0. */
    public List<InetSocketAddress> dnsAddresses() {
        return published.values().stream()
                .map(WorkloadProxy::dnsAddress)
                .filter(java.util.Objects::nonNull)
                .toList();
    }

    /** The inbound HBONE listeners, one per workload IP. */
    public List<InetSocketAddress> hboneAddresses() {
        return published.values().stream().map(WorkloadProxy::hboneAddress).toList();
    }

    /** Stops accepting, drains inbound tunnels (GOAWAY, up to {@code deadline}), closes everything. */
    public void close(Duration deadline) {
        ready = false;
        closed = true;
        control.shutdown();
        try {
            // a reconcile in flight finishes first (it may be waiting for a certificate, up to 30 s)
            control.awaitTermination(40, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        control.shutdownNow();
        for (var e : endpoints) {
            e.close();
        }
        var all = new ArrayList<>(proxies.values());
        proxies.clear();
        published = Map.of();
        for (var p : all) {
            p.close(deadline);
        }
        pool.close();
        clientTls.close();
        if (dns != null) {
            dns.close();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(1));
    }
}
