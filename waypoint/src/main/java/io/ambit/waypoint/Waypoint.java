package io.ambit.waypoint;

import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.server.HboneServer;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.transport.Transport;
import io.ambit.waypoint.authz.RbacStage;
import io.ambit.waypoint.http1.Http1Connection;
import io.ambit.waypoint.http2.Http2Server;
import io.ambit.waypoint.ingress.IngressHandler;
import io.ambit.waypoint.pipeline.RequestPipeline;
import io.ambit.waypoint.proxy.ProxyServices;
import io.ambit.waypoint.route.EndpointPicker;
import io.ambit.waypoint.route.LoopUpstreams;
import io.ambit.waypoint.telemetry.AccessLog;
import io.ambit.waypoint.telemetry.AdminServer;
import io.ambit.waypoint.telemetry.RequestMetrics;
import io.ambit.waypoint.telemetry.RequestObserver;
import io.ambit.waypoint.tracing.ZipkinExporter;
import io.ambit.xds.mesh.MeshSource;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running waypoint: HBONE in on 15008 with its own identity → HTTP/1.1 or HTTP/2 per tunnel → per
 * request the pipeline (CUSTOM → JWT → DENY → ALLOW → rate limit) → an endpoint of the destination
 * service over HBONE, with metrics on 15020, readiness on 15021, an access log line and a span per
 * request. The mesh (services, endpoints, policies) is read from {@code mesh} for every tunnel and
 * request, so a new mesh state applies to the next request. The event-loop group belongs to the caller.
 */
public final class Waypoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Waypoint.class);

    private final WaypointConfig config;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<EventLoop, LoopUpstreams> upstreams = new ConcurrentHashMap<>();
    private final List<AdminServer> admin = new ArrayList<>();
    private ServerTls serverTls;
    private ClientTls clientTls;
    private HboneServer server;
    private ZipkinExporter zipkin;
    private volatile boolean ready;

    private Waypoint(WaypointConfig config) {
        this.config = config;
    }

    /**
     * Starts the waypoint once its certificate is issued.
     *
     * @param accessLog where request lines go ({@link AccessLog#slf4j()} normally)
     * @throws Exception when the certificate cannot be had or an address cannot be bound; nothing stays open
     */
    public static Waypoint start(
            WaypointConfig config,
            MeshSource mesh,
            CertificateManager certificates,
            Transport transport,
            EventLoopGroup group,
            AccessLog accessLog)
            throws Exception {
        Waypoint w = new Waypoint(config);
        try {
            w.startAll(mesh, certificates, transport, group, accessLog);
        } catch (Exception e) {
            w.close();
            throw e;
        }
        return w;
    }

    private void startAll(
            MeshSource mesh,
            CertificateManager certificates,
            Transport transport,
            EventLoopGroup group,
            AccessLog accessLog)
            throws Exception {
        if (config.metrics() != null) {
            var scrape = (java.util.function.Supplier<AdminServer.Reply>)
                    () -> new AdminServer.Reply(200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
            admin.add(AdminServer.start(
                    transport, group, config.metrics(), Map.of("/metrics", scrape, "/stats/prometheus", scrape)));
        }
        if (config.readiness() != null) {
            admin.add(AdminServer.start(
                    transport,
                    group,
                    config.readiness(),
                    Map.of(
                            "/healthz/ready",
                            () -> ready
                                    ? AdminServer.Reply.text(200, "ready\n")
                                    : AdminServer.Reply.text(500, "not ready, pending: certificate, listener\n"))));
        }
        var identity = config.self().identity();
        certificates.certificate(identity).get(30, TimeUnit.SECONDS);
        clientTls = new ClientTls(config.tls());
        serverTls = ServerTls.forIdentity(certificates, identity, config.tls(), null);

        List<RequestObserver> observers = new ArrayList<>();
        observers.add(new RequestMetrics(registry, config.cluster()));
        observers.add(accessLog);
        if (config.zipkin() != null) {
            zipkin = ZipkinExporter.start(
                    config.zipkin(),
                    config.self().gatewayName() + "." + config.self().namespace());
            observers.add(zipkin);
        }
        PoolConfig poolConfig =
                PoolConfig.defaults().withConnectTimeout(config.route().connectTimeout());
        SourceCertificates source = SourceCertificates.from(certificates);
        var services = new ProxyServices(
                mesh,
                config.self(),
                new RequestPipeline(config.stages(), new RbacStage(), config.pipelineTimeout()),
                new EndpointPicker(config.route().hbonePort()),
                loop -> upstreams.computeIfAbsent(
                        loop,
                        l -> new LoopUpstreams(
                                l,
                                new HbonePool(poolConfig, clientTls, source, transport, l),
                                identity,
                                config.sourceIp(),
                                config.route())),
                RequestObserver.all(observers),
                config.samplingPercent(),
                config.route(),
                Clock.systemUTC());
        var ingress = new IngressHandler(
                mesh::current,
                config.self(),
                (p, t) -> Http1Connection.install(p, services, t, config.http1()),
                (p, t) -> Http2Server.install(p, services, t, config.http2()),
                config.http1().headersTimeout()); // a tunnel silent that long is closed
        server = HboneServer.start(HboneServerConfig.defaults(config.hbone()), serverTls, ingress, transport, group)
                .get(30, TimeUnit.SECONDS);
        ready = true;
        log.info("waypoint {} serving HBONE on {}", config.self(), server.localAddress());
    }

    /** The HBONE listener's address. */
    public InetSocketAddress hboneAddress() {
        return server.localAddress();
    }

    /** {@code /metrics} address, then {@code /healthz/ready} address, of those configured. */
    public List<InetSocketAddress> adminAddresses() {
        return admin.stream().map(AdminServer::address).toList();
    }

    /** The registry {@code /metrics} serves. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /**
     * The HBONE pools of the upstream connections, one per event loop that has routed a request: their {@code
     * flows()} show which connection's receive window is held by whose unread bytes (a debug view; tests).
     */
    public List<HbonePool> upstreamPools() {
        return upstreams.values().stream().map(LoopUpstreams::pool).toList();
    }

    /**
     * The upstream connections of each event loop that has routed a request: their {@code sessionFlows()} show which
     * inner HTTP/2 session's receive window is held by whose unread responses (a debug view; tests).
     */
    public List<LoopUpstreams> loopUpstreams() {
        return List.copyOf(upstreams.values());
    }

    public WaypointConfig config() {
        return config;
    }

    public boolean ready() {
        return ready;
    }

    /** Stops accepting, lets open tunnels finish for up to {@code deadline} (GOAWAY), closes everything. */
    public void close(Duration deadline) {
        ready = false;
        if (server != null) {
            server.drain(deadline)
                    .orTimeout(deadline.toMillis() + 1000, TimeUnit.MILLISECONDS)
                    .exceptionally(e -> null)
                    .join();
            server.close();
        }
        for (LoopUpstreams u : upstreams.values()) {
            u.pool().close();
        }
        upstreams.clear();
        for (AdminServer a : admin) {
            a.close();
        }
        admin.clear();
        if (zipkin != null) {
            zipkin.close();
        }
        if (serverTls != null) {
            serverTls.close();
        }
        if (clientTls != null) {
            clientTls.close();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(1));
    }
}
