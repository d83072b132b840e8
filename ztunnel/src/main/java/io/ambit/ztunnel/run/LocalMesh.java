package io.ambit.ztunnel.run;

import io.ambit.hbone.ca.LocalCa;
import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.cert.Scheduler;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.ambit.xds.file.ChangeTrigger;
import io.ambit.xds.file.LocalFileSource;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.admin.AdminRoutes;
import io.ambit.ztunnel.admin.ConfigDump;
import io.ambit.ztunnel.admin.HttpEndpoint;
import io.ambit.ztunnel.admin.LogLevels;
import io.ambit.ztunnel.lifecycle.DrainDeadline;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;

/**
 * What {@code ambit run FILE} starts in one JVM: the mesh file (watched; edits apply to new connections),
 * the embedded CA, one {@link Node} per {@code node:} value in the file (a workload without one goes to
 * node {@code default}), and for every workload that backs a service, a demo HTTP echo server on each of
 * its {@code ip:targetPort}.
 */
public final class LocalMesh implements AutoCloseable {

    /**
     * How to start.
     *
     * @param file      the mesh file
     * @param caDir     the embedded CA's state directory (created with a new root when empty)
     * @param ports     the listeners of every workload
     * @param demos     whether to start the echo servers
     * @param accessLog where connections are reported (besides nothing: pass {@link AccessLog#slf4j()})
     * @param trigger   when to look at the file again; null: poll every second (tests fire by hand)
     * @param drainDeadline how long shutdown lets open connections drain before closing them
     * @param logLevels what admin {@code /logging} reads and changes
     * @param servedElsewhere workloads another proxy in this process serves (e.g. waypoints)
     * @param tls       the HBONE TLS settings of every node: listeners and client pools (compliance policy)
     */
    public record Config(
            Path file,
            Path caDir,
            Node.Ports ports,
            boolean demos,
            AccessLog accessLog,
            ChangeTrigger trigger,
            Duration drainDeadline,
            LogLevels logLevels,
            BiPredicate<MeshState, Workload> servedElsewhere,
            TlsSettings tls) {
        public Config {
            if (tls == null) {
                throw new IllegalArgumentException("tls: null (expected TLS settings, e.g. TlsSettings.defaults())");
            }
        }

        /** ztunnel's ports, demo servers, access log through SLF4J, the file polled every second. */
        public static Config of(Path file, Path caDir) {
            return new Builder(file, caDir).build();
        }

        /**
         * A builder holding this config, to change a few fields (a new field is one more setter with its
         * default, not one more constructor). The {@code withX} methods below are its common uses.
         */
        public Builder toBuilder() {
            return new Builder(file, caDir)
                    .ports(ports)
                    .demos(demos)
                    .accessLog(accessLog)
                    .trigger(trigger)
                    .drainDeadline(drainDeadline)
                    .logLevels(logLevels)
                    .servedElsewhere(servedElsewhere)
                    .tls(tls);
        }

        public Config withPorts(Node.Ports value) {
            return toBuilder().ports(value).build();
        }

        public Config withAccessLog(AccessLog value) {
            return toBuilder().accessLog(value).build();
        }

        public Config withTrigger(ChangeTrigger value) {
            return toBuilder().trigger(value).build();
        }

        /** How long shutdown lets open connections drain (ztunnel's 5 s by default). */
        public Config withDrainDeadline(Duration value) {
            return toBuilder().drainDeadline(value).build();
        }

        /**
         * Workloads another proxy of this process serves (waypoints: they bind their own {@code ip:15008}):
         * no ztunnel listeners and no demo server for them.
         */
        public Config withServedElsewhere(BiPredicate<MeshState, Workload> value) {
            return toBuilder().servedElsewhere(value).build();
        }

        /**
         * The HBONE TLS settings of every node (listeners and client pools), e.g. the compliance policy
         * ({@code COMPLIANCE_POLICY=pqc}: X25519MLKEM768 only).
         */
        public Config withTls(TlsSettings value) {
            return toBuilder().tls(value).build();
        }

        /** What admin {@code /logging} reads and changes. */
        public Config withLogLevels(LogLevels value) {
            return toBuilder().logLevels(value).build();
        }

        /** Names the fields one by one; starts from {@link #of}'s defaults. */
        public static final class Builder {
            private final Path file;
            private final Path caDir;
            private Node.Ports ports = Node.Ports.DEFAULT;
            private boolean demos = true;
            private AccessLog accessLog = AccessLog.slf4j();
            private ChangeTrigger trigger;
            private Duration drainDeadline = DrainDeadline.DEFAULT;
            private LogLevels logLevels = LogLevels.unsupported();
            private BiPredicate<MeshState, Workload> servedElsewhere = (state, w) -> false;
            private TlsSettings tls = TlsSettings.defaults();

            private Builder(Path file, Path caDir) {
                this.file = file;
                this.caDir = caDir;
            }

            public Builder ports(Node.Ports v) {
                ports = v;
                return this;
            }

            /** Whether to start the demo echo servers. */
            public Builder demos(boolean v) {
                demos = v;
                return this;
            }

            public Builder accessLog(AccessLog v) {
                accessLog = v;
                return this;
            }

            /** When to look at the file again; null: poll every second. */
            public Builder trigger(ChangeTrigger v) {
                trigger = v;
                return this;
            }

            public Builder drainDeadline(Duration v) {
                drainDeadline = v;
                return this;
            }

            public Builder logLevels(LogLevels v) {
                logLevels = v;
                return this;
            }

            public Builder servedElsewhere(BiPredicate<MeshState, Workload> v) {
                servedElsewhere = v;
                return this;
            }

            public Builder tls(TlsSettings v) {
                tls = v;
                return this;
            }

            public Config build() {
                return new Config(
                        file, caDir, ports, demos, accessLog, trigger, drainDeadline, logLevels, servedElsewhere, tls);
            }
        }
    }

    private final Config config;
    private final List<AutoCloseable> opened = new ArrayList<>(); // closed in reverse
    private final List<AutoCloseable> alongside = new ArrayList<>(); // other proxies: closed with the nodes
    private final List<Node> nodes = new ArrayList<>();
    private final List<InetSocketAddress> demoAddresses = new ArrayList<>();
    private LocalFileSource source;
    private CertificateManager certificates;
    private Transport transport;
    private EventLoopGroup loops;
    private HttpEndpoint admin;
    private final CompletableFuture<Void> quit = new CompletableFuture<>();

    private LocalMesh(Config config) {
        this.config = config;
    }

    /**
     * Loads the file, opens the CA and starts everything.
     *
     * @throws io.ambit.xds.file.InvalidMeshFileException naming the file's problems
     * @throws Exception when the CA or a listener cannot start; nothing stays open
     */
    public static LocalMesh start(Config config) throws Exception {
        var mesh = new LocalMesh(config);
        try {
            mesh.startAll();
        } catch (Exception e) {
            mesh.close();
            throw e;
        }
        return mesh;
    }

    private void startAll() throws Exception {
        source = LocalFileSource.open(
                config.file(),
                config.trigger() != null ? config.trigger() : ChangeTrigger.polling(Duration.ofSeconds(1)));
        opened.add(source);
        var ca = LocalCa.open(config.caDir(), Clock.systemUTC());
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ambit-cert-timer");
            t.setDaemon(true);
            return t;
        });
        opened.add(timer::shutdownNow);
        ExecutorService issuer = Executors.newVirtualThreadPerTaskExecutor();
        opened.add(issuer::shutdownNow);
        // The certificate meters (istio_cert_expiry_timestamp, ambit_cert_*) belong to no one node: they go
        // to every node's /metrics, each node's registry joining this composite as it starts.
        var certificateMetrics = new CompositeMeterRegistry();
        certificates = CertificateManager.builder(ca, Scheduler.of(timer), issuer)
                .meterRegistry(certificateMetrics)
                .build();
        opened.add(certificates);
        transport = Transports.select();
        var loops = transport.newEventLoopGroup(0, "ambit-run-" + transport);
        this.loops = loops;
        opened.add(() -> loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly());

        admin = HttpEndpoint.start(
                transport,
                loops,
                new InetSocketAddress(
                        InetAddress.getLoopbackAddress(), config.ports().admin()),
                AdminRoutes.of(
                        () -> ConfigDump.json(source.current(), certificates),
                        config.logLevels(),
                        // off the event loop: closing drains and shuts down the loops themselves
                        () -> Thread.ofPlatform().name("ambit-quit").start(this::close)));
        opened.add(admin);

        MeshState state = source.current();
        var byNode = new LinkedHashMap<String, List<Workload>>();
        for (var w : state.workloads()) {
            if (config.servedElsewhere().test(state, w)) {
                continue;
            }
            String node = w.node() == null || w.node().isEmpty() ? "default" : w.node();
            byNode.computeIfAbsent(node, k -> new ArrayList<>()).add(w);
        }
        for (var e : byNode.entrySet()) {
            var node = Node.start(
                    e.getKey(),
                    e.getValue(),
                    config.ports(),
                    source,
                    certificates,
                    config.tls(),
                    transport,
                    loops,
                    config.accessLog(),
                    config.servedElsewhere());
            nodes.add(node); // closed first, together, in close()
            certificateMetrics.add(node.registry());
        }
        if (config.demos()) {
            for (var w : state.workloads()) {
                if (config.servedElsewhere().test(state, w)) {
                    continue;
                }
                var ports = new LinkedHashSet<Integer>();
                for (var svc : state.servicesOf(w)) {
                    for (var p : svc.ports()) {
                        int target = w.targetPort(svc.key(), p.servicePort());
                        ports.add(target > 0 ? target : p.targetPort());
                    }
                }
                for (var ip : w.ips()) {
                    for (int port : ports) {
                        var bind = new InetSocketAddress(ip.ip().toInetAddress(), port);
                        var echo = EchoServer.start(
                                transport,
                                loops,
                                bind,
                                w.name() + " (namespace " + w.namespace() + ", " + w.identity() + ")");
                        opened.add(echo);
                        demoAddresses.add(echo.address());
                    }
                }
            }
        }
    }

    /**
     * Another proxy this process runs on the mesh's loops (waypoints): closed together with the nodes,
     * before the loops stop, however the mesh is closed (Ctrl-C, {@code /quitquitquit}).
     */
    public synchronized void closeAlongside(AutoCloseable proxy) {
        alongside.add(proxy);
    }

    /** The embedded CA's certificates, for other proxies this process runs (waypoints). */
    public CertificateManager certificates() {
        return certificates;
    }

    /** The transport every listener uses. */
    public Transport transport() {
        return transport;
    }

    /** The event loops every listener uses. */
    public EventLoopGroup loops() {
        return loops;
    }

    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    public LocalFileSource source() {
        return source;
    }

    /** The admin endpoint ({@code /config_dump}, {@code /logging}, {@code /quitquitquit}), on loopback. */
    public InetSocketAddress adminAddress() {
        return admin.address();
    }

    /** Completes once {@link #close()} has finished (e.g. after {@code /quitquitquit}). */
    public CompletableFuture<Void> closed() {
        return quit;
    }

    /** The echo servers' addresses. */
    public List<InetSocketAddress> demoAddresses() {
        return List.copyOf(demoAddresses);
    }

    /** A dig command asking a workload's DNS proxy for a service by its short name. */
    private void dnsHint(StringBuilder b, List<Workload> workloads, List<Service> services) {
        for (var w : workloads) {
            if (w.ips().isEmpty() || services.isEmpty()) {
                continue;
            }
            var s = services.getFirst();
            b.append("Ask the mesh's DNS as a workload (its DNS proxy answers service names, forwards the rest):\n")
                    .append("  dig @")
                    .append(w.ips().getFirst().ip())
                    .append(" -p ")
                    .append(config.ports().dns())
                    .append(' ')
                    .append(s.name())
                    .append('.')
                    .append(s.namespace())
                    .append("    # as ")
                    .append(w.name())
                    .append('\n');
            return;
        }
    }

    /** What {@code ambit run} prints: the nodes, their listeners, and curl commands to try. */
    public String banner() {
        var b = new StringBuilder();
        var state = source.current();
        b.append("ambit run: ").append(state).append('\n');
        for (var node : nodes) {
            b.append("node ").append(node.name()).append(":\n");
            for (var w : node.workloads()) {
                b.append("  ")
                        .append(w.namespace())
                        .append('/')
                        .append(w.name())
                        .append(" as ")
                        .append(w.identity());
                for (var ip : w.ips()) {
                    b.append("\n    socks5 ")
                            .append(ip.ip())
                            .append(':')
                            .append(config.ports().socks())
                            .append("  hbone ")
                            .append(ip.ip())
                            .append(':')
                            .append(config.ports().hbone());
                    if (config.ports().dns() > 0) {
                        b.append("  dns ")
                                .append(ip.ip())
                                .append(':')
                                .append(config.ports().dns());
                    }
                }
                b.append('\n');
            }
        }
        b.append("Talk through the mesh as a workload by using its SOCKS5 address, e.g.:\n");
        var workloads = state.workloads();
        var services = state.services();
        int shown = 0;
        for (var w : workloads) {
            if (!state.servicesOf(w).isEmpty() || w.ips().isEmpty()) {
                continue; // callers: workloads that back no service
            }
            for (var s : services) {
                if (s.ports().isEmpty() || shown >= 4) {
                    continue;
                }
                b.append("  curl --socks5-hostname ")
                        .append(w.ips().getFirst().ip())
                        .append(':')
                        .append(config.ports().socks())
                        .append(" http://")
                        .append(s.name())
                        .append('.')
                        .append(s.namespace())
                        .append(':')
                        .append(s.ports().getFirst().servicePort())
                        .append("/get    # as ")
                        .append(w.name())
                        .append('\n');
                shown++;
            }
        }
        if (config.ports().dns() > 0) {
            dnsHint(b, workloads, services);
        }
        for (var node : nodes) {
            var at = node.endpointAddresses();
            if (at.size() == 2) {
                b.append("node ")
                        .append(node.name())
                        .append(": metrics http://")
                        .append(hostPort(at.get(0)))
                        .append("/metrics  ready http://")
                        .append(hostPort(at.get(1)))
                        .append("/healthz/ready\n");
            }
        }
        b.append("admin: http://")
                .append(hostPort(admin.address()))
                .append("/config_dump  (POST /quitquitquit to stop)\n");
        b.append("Each connection is logged (logger \"access\") with the policy that decided it. Edit ")
                .append(config.file())
                .append(" to change policy: new connections use it, and open connections it now denies are closed.");
        return b.toString();
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /**
     * Stops accepting, lets open connections drain up to the deadline (all nodes at once, so the wait is
     * one deadline, not one per node), then closes everything else.
     */
    @Override
    public synchronized void close() {
        var draining = new ArrayList<Thread>();
        for (var other : alongside) {
            draining.add(Thread.ofVirtual().name("ambit-drain").start(() -> {
                try {
                    other.close();
                } catch (Exception e) {
                    // keep closing the rest
                }
            }));
        }
        alongside.clear();
        for (var node : nodes) {
            draining.add(Thread.ofVirtual()
                    .name("ambit-drain-" + node.name())
                    .start(() -> node.close(config.drainDeadline())));
        }
        for (var t : draining) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        nodes.clear();
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception e) {
                // keep closing the rest
            }
        }
        opened.clear();
        quit.complete(null);
    }
}
