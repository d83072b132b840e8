package io.ambit.cli.waypoint;

import io.ambit.cli.process.Opened;
import io.ambit.cli.process.ProcessMesh;
import io.ambit.cli.process.StatusEndpoints;
import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.ambit.waypoint.Waypoint;
import io.ambit.waypoint.WaypointConfig;
import io.ambit.waypoint.ingress.WaypointIdentity;
import io.ambit.waypoint.stages.SecurityStages;
import io.ambit.waypoint.telemetry.AccessLog;
import io.ambit.xds.ca.IstioCaClient;
import io.ambit.xds.client.NodeInfo;
import io.ambit.xds.client.XdsMeshSource;
import io.ambit.xds.kube.ClusterMeshSource;
import io.ambit.xds.kube.KubeApi;
import io.ambit.xds.kube.KubePolicySource;
import io.ambit.xds.kube.WatchLimits;
import io.ambit.xds.mesh.MeshExtension;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NamespacedHostname;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.ztunnel.admin.HttpEndpoint;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ambit waypoint} in a cluster, as Istio's waypoint behaves there: who it is comes from the pod
 * (Gateway name, namespace, service account, IP); its certificate from istiod's CA for its own identity;
 * workloads and services from istiod over Delta ADS; L7 policy, rate limits and the mesh config's
 * {@code extensionProviders} from the Kubernetes API ({@link KubePolicySource}), merged into one mesh
 * ({@link ClusterMeshSource}) that the waypoint reads per request. Metrics on {@code :15020} (the waypoint's
 * request metrics, the xDS client's and the Kubernetes watches'), readiness on {@code :15021}: ready only once
 * istiod's first full view is in, every Kubernetes kind has been listed, the certificate is issued and the
 * HBONE listener is up.
 *
 * <p>The xDS node is a {@code router~} node (the type Istio's own waypoints used before istiod knew a
 * {@code waypoint} type): istiod serves {@code istio.workload.Address} and {@code istio.security.Authorization}
 * to any node type (its bootstrap registers both generators by type URL alone, and {@code findGenerator} falls
 * back to that key for every proxy) and, for a router, filters only ServiceEntry pushes, not Address ones. The
 * Authorization resources are ACKed but not applied here: the waypoint's policies come from Kubernetes. A {@code
 * ztunnel~} node would be wrong: istiod treats it as the node agent (CA impersonation for other pods, its
 * config dump, its L4 policies), which this pod is not.
 */
public final class ClusterWaypoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterWaypoint.class);

    /** Listener ports: HBONE, metrics, readiness. */
    public record Ports(int hbone, int metrics, int readiness) {
        public static final Ports ISTIO = new Ports(15008, 15020, 15021);
    }

    private final ClusterSettings settings;
    private final Ports ports;
    private final UnaryOperator<WaypointConfig> tune;
    private final AccessLog accessLog;
    private final WatchLimits watchLimits;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Opened opened = new Opened();
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private volatile String pending = "xds, kubernetes, certificate, listener";
    private volatile Waypoint waypoint;
    private volatile boolean closed;
    private Transport transport;
    private EventLoopGroup loops;
    private CertificateManager certificates;
    private XdsMeshSource xds;
    private KubePolicySource kube;
    private ClusterMeshSource mesh;
    private SecurityStages security;
    private StatusEndpoints endpoints;

    private ClusterWaypoint(
            ClusterSettings settings,
            Ports ports,
            UnaryOperator<WaypointConfig> tune,
            AccessLog accessLog,
            WatchLimits watchLimits) {
        this.settings = settings;
        this.ports = ports;
        this.tune = tune;
        this.accessLog = accessLog;
        this.watchLimits = watchLimits;
    }

    /**
     * Opens metrics and readiness, connects to istiod and the API server, and starts the waypoint in the
     * background once both have synced.
     *
     * @param tune last changes to the waypoint's config (TLS settings, tracing)
     * @throws Exception when a port is taken or a setting unusable; nothing stays open
     */
    public static ClusterWaypoint start(
            ClusterSettings settings,
            Ports ports,
            UnaryOperator<WaypointConfig> tune,
            AccessLog accessLog,
            WatchLimits watchLimits)
            throws Exception {
        var w = new ClusterWaypoint(settings, ports, tune, accessLog, watchLimits);
        try {
            w.open();
        } catch (Exception e) {
            w.close();
            throw e;
        }
        return w;
    }

    private void open() throws Exception {
        transport = Transports.select();
        loops = opened.loops(transport, "ambit-waypoint");
        var ca = opened.add(new IstioCaClient(settings.ca(), settings.identity()));
        certificates = opened.certificates(ca, b -> b.ttl(settings.certTtl()).meterRegistry(registry));
        endpoints = StatusEndpoints.open(
                opened,
                transport,
                loops,
                settings.bind(),
                ports.metrics(),
                ports.readiness(),
                () -> registry.scrape()
                        + (waypoint == null ? "" : waypoint.registry().scrape()),
                this::readinessReply);

        xds = opened.add(XdsMeshSource.start(
                settings.xds(), node(), ProcessMesh.config("istio-system", settings.trustDomain()), registry));
        var api = settings.kubeApi() != null
                ? KubeApi.of(
                        settings.kubeApi(),
                        settings.kubeServiceAccount().resolve("ca.crt"),
                        settings.kubeServiceAccount().resolve("token"))
                : KubeApi.inCluster(System.getenv(), settings.kubeServiceAccount());
        opened.add(api);
        var extensions = MeshExtension.installed();
        kube = KubePolicySource.start(
                api,
                new KubePolicySource.Settings(settings.meshConfigNamespace(), settings.meshConfigName(), watchLimits),
                extensions,
                registry);
        opened.add(kube);
        mesh = ClusterMeshSource.of(xds, kube, extensions);
        log.info(
                "waypoint {}/{} as {}: workloads from {} (node {}), policies from {}",
                settings.namespace(),
                settings.gatewayName(),
                settings.identity(),
                settings.xds().address(),
                node().id(),
                api.base());
        CompletableFuture.allOf(xds.ready(), kube.synced())
                // one named virtual thread, not an executor nobody would shut down
                .thenRunAsync(
                        this::startWaypoint,
                        r -> Thread.ofVirtual().name("ambit-waypoint-start").start(r))
                .exceptionally(e -> {
                    started.completeExceptionally(e);
                    return null;
                });
    }

    /** The xDS node: {@code router~IP~POD.NS~NS.svc.cluster.local}, labelled as Istio labels waypoint pods. */
    private NodeInfo node() {
        var meta = new LinkedHashMap<String, Object>(settings.metadata());
        meta.putIfAbsent(
                "LABELS",
                Map.of(
                        "gateway.networking.k8s.io/gateway-name",
                        settings.gatewayName(),
                        "gateway.istio.io/managed",
                        "istio.io-mesh-controller"));
        meta.putIfAbsent("SERVICE_ACCOUNT", settings.serviceAccount());
        return NodeInfo.of(
                "router",
                settings.instanceIp(),
                settings.podName(),
                settings.namespace(),
                null,
                settings.xds().clusterId(),
                meta);
    }

    /** Once both sources have synced: the waypoint's identity, its certificate, its listener. */
    private void startWaypoint() {
        if (closed) {
            return;
        }
        try {
            pending = "certificate, listener";
            security = SecurityStages.start(mesh, transport, loops, certificates);
            var self = identity(mesh.current(), true);
            var w = newWaypoint(self);
            if (closed) {
                w.close();
                return;
            }
            waypoint = w;
            pending = "";
            log.info(
                    "waypoint {} ready: serving {} on {}; security: {}",
                    self,
                    served(mesh.current(), self),
                    w.hboneAddress(),
                    security.describe(self));
            mesh.addListener(new MeshSource.Listener() {
                @Override
                public void updated(MeshState state) {
                    var current = waypoint;
                    if (current != null
                            && !identity(state, false)
                                    .addresses()
                                    .equals(current.config().self().addresses())) {
                        Thread.ofVirtual().name("ambit-waypoint-restart").start(ClusterWaypoint.this::restart);
                    }
                }
            });
            started.complete(null);
        } catch (Exception e) {
            log.error("waypoint {}/{} cannot start", settings.namespace(), settings.gatewayName(), e);
            pending = "start failed: " + e.getMessage();
            started.completeExceptionally(e);
        }
    }

    /** The waypoint for {@code self}: HBONE on the pod IP (or every address), the security stages, the mesh. */
    private Waypoint newWaypoint(WaypointIdentity self) throws Exception {
        var ip = settings.bind();
        var base = WaypointConfig.defaults(self, ip).withPorts(new InetSocketAddress(ip, ports.hbone()), null, null);
        if (settings.instanceIp().isEmpty()) {
            // no pod IP known: the system picks the source address of upstream tunnels
            base = base.toBuilder().sourceIp(null).build();
        }
        var tls = tune.apply(base).tls();
        var config = tune.apply(base.withStages(security.forWaypoint(self, tls)));
        return Waypoint.start(config, mesh, certificates, transport, loops, accessLog);
    }

    /**
     * The VIPs of the waypoint's own Service changed (it was created after the waypoint, or re-created): services
     * name their waypoint by that VIP, so the listener starts again with the new addresses — drained first, as
     * at shutdown, since the HBONE port is the same. Rare; one at a time.
     */
    private synchronized void restart() {
        var old = waypoint;
        if (closed || old == null) {
            return;
        }
        var self = identity(mesh.current(), true);
        if (self.addresses().equals(old.config().self().addresses())) {
            return; // an earlier restart already caught up
        }
        log.warn(
                "waypoint {}: its addresses changed from {} to {}; restarting its listener",
                self,
                old.config().self().addresses(),
                self.addresses());
        pending = "listener (restarting for new addresses)";
        waypoint = null;
        old.close(Duration.ofSeconds(5));
        try {
            var w = newWaypoint(self);
            if (closed) {
                w.close();
                return;
            }
            waypoint = w;
            pending = "";
            log.info("waypoint {} serving {} on {} again", self, served(mesh.current(), self), w.hboneAddress());
        } catch (Exception e) {
            log.error("waypoint {} cannot start again; not ready", self, e);
            pending = "restart failed: " + e.getMessage();
        }
    }

    /**
     * Who this waypoint is: its Gateway, identity, its pod IP, and the VIPs of its own Service
     * ({@code GATEWAY.NS.svc.SUFFIX}) — istiod names a service's waypoint by that VIP, or by the hostname.
     */
    WaypointIdentity identity(MeshState state, boolean warn) {
        var addresses = new HashSet<NetworkAddress>();
        if (!settings.instanceIp().isEmpty()) {
            addresses.add(NetworkAddress.parse(settings.network() + "/" + settings.instanceIp()));
        }
        var key = new NamespacedHostname(settings.namespace(), settings.serviceHostname());
        var own = state.service(key);
        own.ifPresent(s -> addresses.addAll(s.vips()));
        if (own.isEmpty() && warn) {
            log.warn(
                    "istiod knows no service {} yet: services naming this waypoint by that Service's VIP are"
                            + " refused until it exists (the listener then restarts with it)",
                    key);
        }
        return new WaypointIdentity(settings.gatewayName(), settings.namespace(), settings.identity(), addresses, key);
    }

    private static String served(MeshState state, WaypointIdentity self) {
        var names = state.services().stream()
                .filter(s -> self.is(s.waypoint()))
                .map(s -> s.namespace() + "/" + s.name())
                .toList();
        return names.isEmpty() ? "no service yet" : String.join(", ", names);
    }

    private HttpEndpoint.Reply readinessReply() {
        var w = waypoint;
        if (w != null && w.ready()) {
            return HttpEndpoint.Reply.text(200, "ready\n");
        }
        var why = new ArrayList<String>();
        if (xds != null && !xds.ready().isDone()) {
            why.add("xds");
        }
        if (kube != null && !kube.synced().isDone()) {
            why.add("kubernetes");
        }
        if (why.isEmpty()) {
            why.add(pending);
        }
        return HttpEndpoint.Reply.text(503, "not ready, pending: " + String.join(", ", why) + "\n");
    }

    /** Completes once the waypoint serves; fails when it could not start. */
    public CompletableFuture<Void> started() {
        return started;
    }

    public Waypoint waypoint() {
        return waypoint;
    }

    public ClusterMeshSource mesh() {
        return mesh;
    }

    public KubePolicySource kube() {
        return kube;
    }

    public XdsMeshSource xds() {
        return xds;
    }

    public InetSocketAddress metricsAddress() {
        return endpoints.metrics().address();
    }

    public InetSocketAddress readinessAddress() {
        return endpoints.readiness().address();
    }

    /** The first lines a user sees. */
    public String banner() {
        return "waypoint " + settings.namespace() + "/" + settings.gatewayName() + " as " + settings.identity()
                + ": workloads from " + settings.xds().address() + ", policies from the Kubernetes API\n"
                + "  metrics http://" + hostPort(metricsAddress()) + "/metrics  ready http://"
                + hostPort(readinessAddress()) + "/healthz/ready (200 once istiod and Kubernetes have synced)\n";
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /** Drains the waypoint (GOAWAY, up to {@code deadline}) and closes everything. */
    public void close(Duration deadline) {
        closed = true;
        var w = waypoint;
        if (w != null) {
            w.close(deadline);
        }
        if (security != null) {
            security.close();
        }
        opened.close();
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(1));
    }
}
