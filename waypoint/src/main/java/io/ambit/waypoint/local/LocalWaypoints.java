package io.ambit.waypoint.local;

import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.waypoint.Waypoint;
import io.ambit.waypoint.WaypointConfig;
import io.ambit.waypoint.stages.SecurityStages;
import io.ambit.waypoint.telemetry.AccessLog;
import io.ambit.xds.mesh.MeshSource;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * Starts the waypoints a mesh declares ({@link WaypointDirectory}), each on its workload's IP with
 * Istio's ports, all on the caller's event loops and certificate manager: the one call {@code ambit run}
 * and {@code ambit waypoint} make. Each runs Istio's whole request pipeline: CUSTOM ext_authz (providers
 * from the mesh config's {@code extensionProviders}) → RequestAuthentication (JWT) → DENY → ALLOW → local
 * rate limit (the file's {@code EnvoyFilter} / {@code LocalRateLimit}), with one JWKS cache and one set of
 * provider clients for the process ({@link SecurityStages}). Mesh updates (services, endpoints, policies,
 * providers, limits) apply to the next request; a waypoint added to the file later starts on the next start.
 */
public final class LocalWaypoints implements AutoCloseable {
    /**
     * Where the listeners go on each waypoint's IP.
     *
     * @param hbone HBONE (15008)
     * @param metrics {@code /metrics} and {@code /stats/prometheus} (15020); 0: any free port
     * @param readiness {@code /healthz/ready} (15021); 0: any free port
     */
    public record Ports(int hbone, int metrics, int readiness) {
        public static final Ports ISTIO = new Ports(15008, 15020, 15021);
    }

    /**
     * What to start and how.
     *
     * @param select which declared waypoints to start (e.g. one namespace)
     * @param ports the listeners
     * @param tune last changes to each waypoint's config (tracing, timeouts); it receives a config whose
     *     stages are already the security stages, and may replace them
     */
    public record Options(Predicate<DeclaredWaypoint> select, Ports ports, UnaryOperator<WaypointConfig> tune) {
        public static Options all() {
            return new Options(d -> true, Ports.ISTIO, c -> c);
        }

        public Options withTracing(double samplingPercent, URI zipkin) {
            return new Options(select, ports, c -> tune.apply(c).withTracing(samplingPercent, zipkin));
        }

        /**
         * HBONE TLS settings (e.g. {@code COMPLIANCE_POLICY=pqc}) for the listener, the upstream pool and the
         * ext_authz provider tunnels of every waypoint.
         */
        public Options withTls(TlsSettings value) {
            return new Options(select, ports, c -> tune.apply(c).withTls(value));
        }
    }

    private final List<Waypoint> waypoints;
    private final SecurityStages security;

    private LocalWaypoints(List<Waypoint> waypoints, SecurityStages security) {
        this.waypoints = List.copyOf(waypoints);
        this.security = security;
    }

    /**
     * Starts every selected waypoint of {@code mesh}'s current state.
     *
     * @throws Exception when a certificate cannot be issued or an address cannot be bound; nothing stays open
     */
    public static LocalWaypoints start(
            MeshSource mesh,
            CertificateManager certificates,
            Transport transport,
            EventLoopGroup group,
            AccessLog accessLog,
            Options options)
            throws Exception {
        List<Waypoint> started = new ArrayList<>();
        // One JWKS cache for the process; ext_authz clients per waypoint, reaching providers in the mesh over
        // HBONE with the waypoint's certificate; all following the mesh's updates.
        var security = SecurityStages.start(mesh, transport, group, certificates);
        try {
            for (DeclaredWaypoint d : WaypointDirectory.find(mesh.current())) {
                if (!options.select().test(d)) {
                    continue;
                }
                var p = options.ports();
                var base = WaypointConfig.defaults(d.self(), d.ip())
                        .withPorts(
                                new InetSocketAddress(d.ip(), p.hbone()),
                                new InetSocketAddress(d.ip(), p.metrics()),
                                new InetSocketAddress(d.ip(), p.readiness()));
                // Tunnels to ext_authz providers use the waypoint's own TLS settings, known once tuned.
                var tls = options.tune().apply(base).tls();
                var config = options.tune().apply(base.withStages(security.forWaypoint(d.self(), tls)));
                started.add(Waypoint.start(config, mesh, certificates, transport, group, accessLog));
            }
        } catch (Exception e) {
            started.forEach(Waypoint::close);
            security.close();
            throw e;
        }
        return new LocalWaypoints(started, security);
    }

    public List<Waypoint> waypoints() {
        return waypoints;
    }

    /** One line per waypoint: who, where, which services. */
    public String banner() {
        var b = new StringBuilder();
        for (Waypoint w : waypoints) {
            var self = w.config().self();
            b.append("waypoint ")
                    .append(self.namespace())
                    .append('/')
                    .append(self.gatewayName())
                    .append(" as ")
                    .append(self.identity())
                    .append(": hbone ")
                    .append(hostPort(w.hboneAddress()));
            var admin = w.adminAddresses();
            if (admin.size() == 2) {
                b.append("  metrics http://")
                        .append(hostPort(admin.get(0)))
                        .append("/metrics  ready http://")
                        .append(hostPort(admin.get(1)))
                        .append("/healthz/ready");
            }
            b.append("\n  security: ").append(security.describe(self)).append(" (edits to the file apply live)");
            b.append('\n');
        }
        return b.toString();
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /** Drains each waypoint (GOAWAY, up to {@code deadline}) and closes it. */
    public void close(Duration deadline) {
        for (Waypoint w : waypoints) {
            w.close(deadline);
        }
        security.close(); // after the waypoints: no request is left to use a provider connection or key
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(1));
    }
}
