package io.ambit.cli.ztunnel;

import io.ambit.cli.process.Opened;
import io.ambit.cli.process.ProcessMesh;
import io.ambit.cli.process.StatusEndpoints;
import io.ambit.hbone.ca.LocalCa;
import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.cert.CertificateSource;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.ambit.xds.ca.IstioCaClient;
import io.ambit.xds.client.NodeInfo;
import io.ambit.xds.client.XdsMeshSource;
import io.ambit.xds.file.ChangeTrigger;
import io.ambit.xds.file.LocalFileSource;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.admin.AdminRoutes;
import io.ambit.ztunnel.admin.ConfigDump;
import io.ambit.ztunnel.admin.HttpEndpoint;
import io.ambit.ztunnel.admin.LogLevels;
import io.ambit.ztunnel.inpod.InPodProxies;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ztunnel process, as {@code ambit ztunnel} runs it: the mesh from istiod (Delta ADS) or a local file,
 * certificates from istiod's CA or the embedded one, and the {@link Node} that proxies the workloads on
 * this node. Ports as ztunnel's: metrics on {@code bind:15020} ({@code /metrics}, {@code /stats/prometheus}),
 * readiness on {@code bind:15021} ({@code /healthz/ready}), admin on {@code 127.0.0.1:15000}.
 *
 * <p><b>Start-up, as ztunnel's</b> (ztunnel-reference §4.3, §7.4): the endpoints open first and readiness
 * answers 503 naming what is pending; the node starts only after the first ACK of both xDS types, and
 * opens each workload's listeners once its certificate is in; then readiness answers 200. Later mesh
 * states reach the node by themselves (it follows its source). When istiod goes away the last state keeps
 * serving; readiness stays 200, as ztunnel's does.
 *
 * <p><b>In-pod capture (ZDS).</b> Without a ZDS socket the node opens each workload's listeners on the
 * workload's own IP ({@link #startNode}). With one ({@code --inpod-uds}), as in a cluster, istio-cni hands
 * ztunnel each pod's network namespace over ZDS and {@link InPodProxies} opens the pod's listeners inside
 * it; it starts after the mesh source is ready, as ztunnel starts its in-pod manager after xDS, and
 * readiness then also waits for its first snapshot and for no pod to be pending. Metrics, readiness and
 * admin stay node-wide.
 */
public final class ZtunnelProcess implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ZtunnelProcess.class);

    private final ZtunnelSettings settings;
    private final AccessLog accessLog;
    private final LogLevels logLevels;
    private final Duration drain;
    private final Path zdsSocket;
    private final TlsSettings tls; // HBONE listeners and pool of the node or of every in-pod proxy
    private volatile InPodProxies inpod;
    private final Opened opened = new Opened();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile String pending = "xds, certificates";
    private volatile Node node;
    private MeshSource source;
    private XdsMeshSource xds;
    private CertificateManager certificates;
    private Transport transport;
    private EventLoopGroup loops;
    private StatusEndpoints endpoints;
    private HttpEndpoint admin;

    private ZtunnelProcess(
            ZtunnelSettings settings,
            AccessLog accessLog,
            LogLevels logLevels,
            Duration drain,
            Path zdsSocket,
            TlsSettings tls) {
        this.zdsSocket = zdsSocket;
        this.tls = tls;
        this.settings = settings;
        this.accessLog = accessLog;
        this.logLevels = logLevels;
        this.drain = drain;
    }

    /**
     * Opens the endpoints and the mesh source, and starts the node in the background once the mesh is in.
     *
     * @throws Exception when a local file is invalid, a CA directory unusable or a port taken; nothing stays
     *     open
     */
    public static ZtunnelProcess start(
            ZtunnelSettings settings, AccessLog accessLog, LogLevels logLevels, Duration drain) throws Exception {
        return start(settings, accessLog, logLevels, drain, null);
    }

    /**
     * As {@link #start(ZtunnelSettings, AccessLog, LogLevels, Duration)}, with pods from the CNI agent's ZDS
     * socket when {@code zdsSocket} is not null (in-pod capture).
     */
    public static ZtunnelProcess start(
            ZtunnelSettings settings, AccessLog accessLog, LogLevels logLevels, Duration drain, Path zdsSocket)
            throws Exception {
        return start(settings, accessLog, logLevels, drain, zdsSocket, TlsSettings.defaults());
    }

    /**
     * As {@link #start(ZtunnelSettings, AccessLog, LogLevels, Duration, Path)}, with these HBONE TLS settings
     * (e.g. the compliance policy) on every HBONE listener and client.
     */
    public static ZtunnelProcess start(
            ZtunnelSettings settings,
            AccessLog accessLog,
            LogLevels logLevels,
            Duration drain,
            Path zdsSocket,
            TlsSettings tls)
            throws Exception {
        var p = new ZtunnelProcess(settings, accessLog, logLevels, drain, zdsSocket, tls);
        try {
            p.open();
        } catch (Exception e) {
            p.close();
            throw e;
        }
        return p;
    }

    private void open() throws Exception {
        transport = Transports.select();
        loops = opened.loops(transport, "ambit-ztunnel");
        var mesh = ProcessMesh.config(settings.rootNamespace(), settings.trustDomain());
        CertificateSource ca;
        if (settings.ca() != null) {
            var self = new SpiffeId(settings.trustDomain(), settings.podNamespace(), settings.serviceAccount());
            ca = opened.add(new IstioCaClient(settings.ca(), self));
        } else {
            ca = LocalCa.open(settings.caDir(), Clock.systemUTC());
        }
        // certificate meters go to this process's /metrics and to the node's, like ambit run's
        var certificateMetrics = new CompositeMeterRegistry();
        certificateMetrics.add(registry);
        certificates = opened.certificates(ca, b -> b.ttl(settings.certTtl()).meterRegistry(certificateMetrics));
        endpoints = StatusEndpoints.open(
                opened,
                transport,
                loops,
                settings.bind(),
                settings.ports().metrics(),
                settings.ports().readiness(),
                () -> registry.scrape() + (node == null ? "" : node.registry().scrape()),
                this::readinessReply);
        admin = HttpEndpoint.start(
                transport,
                loops,
                new InetSocketAddress(
                        InetAddress.getLoopbackAddress(), settings.ports().admin()),
                AdminRoutes.of(
                        () -> ConfigDump.json(source.current(), certificates),
                        logLevels,
                        () -> Thread.ofPlatform().name("ambit-quit").start(this::close)));
        opened.add(admin);

        CompletableFuture<Void> meshReady;
        if (settings.meshFile() != null) {
            var file = LocalFileSource.open(settings.meshFile(), ChangeTrigger.polling(Duration.ofSeconds(1)));
            opened.add(file);
            source = file;
            meshReady = CompletableFuture.completedFuture(null);
        } else {
            var node = NodeInfo.ztunnel(
                    settings.instanceIp(),
                    settings.podName(),
                    settings.podNamespace(),
                    settings.nodeName(),
                    settings.xds().clusterId(),
                    settings.metadata());
            xds = XdsMeshSource.start(settings.xds(), node, mesh, registry);
            opened.add(xds);
            source = xds;
            meshReady = xds.ready();
            log.info(
                    "ztunnel {}: connecting to {} as {}",
                    settings.nodeName(),
                    settings.xds().address(),
                    node.id());
        }
        meshReady.thenRunAsync(this::startNode, Executors.newVirtualThreadPerTaskExecutor());
    }

    /**
     * Starts the node for this node's workloads, or the in-pod proxies (see the class comment). Runs once,
     * off the xDS thread, after the first full mesh arrived.
     */
    private void startNode() {
        if (zdsSocket != null) {
            startInPod();
            return;
        }
        pending = "certificates";
        var state = source.current();
        var mine = new ArrayList<Workload>();
        for (var w : state.workloads()) {
            if (settings.nodeName().equals(w.node())) {
                mine.add(w);
            }
        }
        try {
            var n = Node.start(
                    settings.nodeName(),
                    mine,
                    withoutDnsWhenOff(settings.ports()),
                    source,
                    certificates,
                    tls,
                    transport,
                    loops,
                    accessLog);
            synchronized (this) {
                if (closed.isDone()) {
                    n.close(Duration.ZERO);
                    return;
                }
                node = n;
            }
            log.info("ztunnel {} ready: {} workload(s) on this node, mesh {}", settings.nodeName(), mine.size(), state);
            started.complete(null);
        } catch (Exception e) {
            pending = "certificates or listeners (" + e.getMessage() + ")";
            log.error("ztunnel {}: the node did not start: {}", settings.nodeName(), e.toString());
            started.completeExceptionally(e);
        }
    }

    /** The node's ports, with no DNS proxy when {@code DNS_CAPTURE=false} (checked at start). */
    private static Node.Ports withoutDnsWhenOff(Node.Ports p) {
        if (io.ambit.ztunnel.dns.InPodDns.enabled(System.getenv())) {
            return p;
        }
        return p.toBuilder().dns(0).build();
    }

    /**
     * In-pod mode: no listeners on workload IPs (pod IPs are not this pod's); each pod the CNI agent hands
     * over gets its proxy inside its own namespace.
     */
    private void startInPod() {
        pending = "workload proxy manager";
        try {
            var pods = InPodProxies.start(new InPodProxies.Config(
                    zdsSocket,
                    source,
                    certificates,
                    tls,
                    transport,
                    loops,
                    accessLog,
                    registry,
                    InPodProxies.Ports.DEFAULT,
                    drain,
                    // DNS proxy per pod unless DNS_CAPTURE=false (values checked before start)
                    io.ambit.ztunnel.dns.InPodDns.fromEnvironment(System.getenv())
                            .orElse(null)));
            synchronized (this) {
                if (closed.isDone()) {
                    pods.close();
                    return;
                }
                inpod = pods;
            }
            log.info("ztunnel {}: pods from ZDS at {}", settings.nodeName(), zdsSocket);
            started.complete(null);
        } catch (Exception e) {
            pending = "workload proxy manager (" + e.getMessage() + ")";
            log.error("ztunnel {}: in-pod capture did not start: {}", settings.nodeName(), e.toString());
            started.completeExceptionally(e);
        }
    }

    /** ztunnel's readiness: the node up, and in in-pod mode the first ZDS snapshot in and no pod pending. */
    private HttpEndpoint.Reply readinessReply() {
        if (zdsSocket != null) {
            var pods = inpod;
            if (pods == null || !pods.ready()) {
                String why = pods == null ? pending : String.join(", ", pods.notReadyBecause());
                return HttpEndpoint.Reply.text(503, "not ready, pending: " + why + "\n");
            }
            return HttpEndpoint.Reply.text(200, "ready\n");
        }
        return node != null
                ? HttpEndpoint.Reply.text(200, "ready\n")
                : HttpEndpoint.Reply.text(503, "not ready, pending: " + pending + "\n");
    }

    /** The in-pod proxies (null without a ZDS socket, or before the mesh is in). */
    public InPodProxies inpod() {
        return inpod;
    }

    /** Completes when the node is up (ready); fails when it could not start. */
    public CompletableFuture<Void> started() {
        return started;
    }

    /** Completes once {@link #close()} has finished (e.g. after {@code POST /quitquitquit}). */
    public CompletableFuture<Void> closed() {
        return closed;
    }

    public MeshSource source() {
        return source;
    }

    /** The xDS client's view (null in local-file mode). */
    public XdsMeshSource xds() {
        return xds;
    }

    public Node node() {
        return node;
    }

    public CertificateManager certificates() {
        return certificates;
    }

    public InetSocketAddress metricsAddress() {
        return endpoints.metrics().address();
    }

    public InetSocketAddress readinessAddress() {
        return endpoints.readiness().address();
    }

    public InetSocketAddress adminAddress() {
        return admin.address();
    }

    /** Drains the node's connections (up to the drain deadline) and closes everything. */
    @Override
    public void close() {
        Node n;
        synchronized (this) {
            if (closed.isDone()) {
                return;
            }
            n = node;
            node = null;
            pending = "shutting down";
            closed.complete(null);
        }
        var pods = inpod;
        inpod = null;
        if (pods != null) {
            pods.close(); // stops ZDS, drains every pod up to the deadline
        }
        if (n != null) {
            n.close(drain);
        }
        opened.close();
    }
}
