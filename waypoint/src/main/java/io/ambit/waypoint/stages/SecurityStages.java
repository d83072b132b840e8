package io.ambit.waypoint.stages;

import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.waypoint.extauthz.ExtAuthzClients;
import io.ambit.waypoint.extauthz.MeshDialer;
import io.ambit.waypoint.extauthz.ProviderResolver;
import io.ambit.waypoint.ingress.Destinations;
import io.ambit.waypoint.ingress.WaypointIdentity;
import io.ambit.waypoint.jwt.JwksCache;
import io.ambit.waypoint.pipeline.StageSet;
import io.ambit.waypoint.ratelimit.RateLimits;
import io.ambit.waypoint.stages.RateLimitDocuments.RateLimitSet;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Service;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The security stages of every waypoint of one process, fed by one mesh source: CUSTOM ext_authz,
 * RequestAuthentication (JWT) and local rate limits, in the slots of {@link StageSet}.
 *
 * <p>Shared by the process: one {@link JwksCache} (remote key sets and verified tokens; new signatures are
 * checked on a bounded verifier pool, refused when it is full — fail closed). Per waypoint: its
 * {@link ExtAuthzClients} (connections to each provider; a provider inside the mesh is reached over HBONE
 * with that waypoint's identity) and its {@link RateLimits} (each waypoint has its own buckets, as each
 * Envoy waypoint has). Every state the source publishes updates them on the source's control
 * thread — providers from the mesh config, limits from the file's {@code EnvoyFilter}/{@code LocalRateLimit}
 * documents ({@link RateLimitDocuments}), and the key sets of the destinations' RequestAuthentications are
 * fetched ahead of the first request — so an edit applies to the next request without a restart.
 */
public final class SecurityStages implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SecurityStages.class);

    /** Queued signature checks beyond which new tokens are refused (each is up to ~2 ms of CPU). */
    static final int VERIFY_QUEUE = 1024;

    /** The nodes' HBONE port (Istio's): where tunnels to providers in the mesh go. */
    static final int HBONE_PORT = 15008;

    private final MeshSource mesh;
    private final ExecutorService verifier;
    private final JwksCache keys;
    private final Authenticators authenticators;
    private final Transport transport;
    private final EventLoopGroup group;
    private final CertificateManager certificates;
    private final ProviderResolver dns = ProviderResolver.dns();
    private final Map<WaypointIdentity, ProviderClients> extAuthz = new LinkedHashMap<>();
    private final Map<WaypointIdentity, RateLimits> limits = new LinkedHashMap<>();
    private boolean closed;

    /** One waypoint's ext_authz clients and, when providers in the mesh are reached over HBONE, its tunnels. */
    private record ProviderClients(ExtAuthzClients clients, HbonePool pool, ClientTls tls) {
        void close() {
            clients.close();
            if (pool != null) {
                pool.close();
                tls.close();
            }
        }
    }

    private SecurityStages(
            MeshSource mesh, Transport transport, EventLoopGroup group, CertificateManager certificates) {
        this.mesh = mesh;
        this.transport = transport;
        this.group = group;
        this.certificates = certificates;
        this.verifier =
                JwksCache.boundedVerifier(Math.max(1, Runtime.getRuntime().availableProcessors()), VERIFY_QUEUE);
        this.keys = new JwksCache(JwksCache.Settings.DEFAULT, InstantSource.system(), verifier);
        this.authenticators = new Authenticators(keys);
    }

    /**
     * Builds the shared parts, applies {@code mesh}'s current state and follows its updates until closed.
     * ext_authz providers are called in plaintext; see the overload to reach those in the mesh over HBONE.
     *
     * @param group the event loops provider connections run on (the waypoints'; they must outlive this)
     */
    public static SecurityStages start(MeshSource mesh, Transport transport, EventLoopGroup group) {
        return start(mesh, transport, group, null);
    }

    /**
     * As {@link #start(MeshSource, Transport, EventLoopGroup)}, and an ext_authz provider (HTTP or gRPC) whose
     * {@code service} is a mesh service with workloads is called over HBONE with the waypoint's own
     * certificate from {@code certificates}, as Istio's waypoint sends the check through the mesh.
     *
     * @param certificates the waypoints' certificates; null: every provider in plaintext
     */
    public static SecurityStages start(
            MeshSource mesh, Transport transport, EventLoopGroup group, CertificateManager certificates) {
        var stages = new SecurityStages(mesh, transport, group, certificates);
        stages.update(mesh.current());
        mesh.addListener(new MeshSource.Listener() {
            @Override
            public void updated(MeshState state) {
                stages.update(state);
            }
        });
        return stages;
    }

    /** The stages of one waypoint with the default TLS settings for its tunnels to providers. */
    public StageSet forWaypoint(WaypointIdentity self) {
        return forWaypoint(self, TlsSettings.defaults());
    }

    /**
     * The stages of one waypoint; its rate limits follow the mesh from now on. Its tunnels to providers in
     * the mesh use {@code tls}: the waypoint's own HBONE settings (compliance policy: key-exchange groups,
     * TLS 1.2, handshake timeout), as every other HBONE connection of the waypoint does.
     */
    public synchronized StageSet forWaypoint(WaypointIdentity self, TlsSettings tls) {
        var own = limits.computeIfAbsent(self, s -> new RateLimits());
        MeshState state = mesh.current();
        own.update(rateLimits(state));
        warm(state, self);
        var providers = extAuthz.computeIfAbsent(self, s -> providerClients(s, tls));
        providers.clients().update(state.mesh());
        return new StageSet(
                new ExtAuthzStage(providers.clients(), self),
                new JwtStage(authenticators),
                new RateLimitStage(own, self));
    }

    private ProviderClients providerClients(WaypointIdentity self, TlsSettings settings) {
        if (certificates == null) {
            return new ProviderClients(new ExtAuthzClients(group, transport.socketChannelClass(), dns), null, null);
        }
        var tls = new ClientTls(settings);
        var pool = new HbonePool(PoolConfig.defaults(), tls, SourceCertificates.from(certificates), transport, group);
        var dialer = new MeshDialer(self.identity(), sourceIp(self), pool, mesh::current, HBONE_PORT);
        return new ProviderClients(new ExtAuthzClients(group, transport.socketChannelClass(), dns, dialer), pool, tls);
    }

    /** The waypoint's own address, for its tunnels to providers (null: the system's choice). */
    private static InetAddress sourceIp(WaypointIdentity self) {
        for (var a : self.addresses()) {
            try {
                return InetAddress.ofLiteral(a.ip().toString());
            } catch (IllegalArgumentException e) {
                // not a literal: try the next one
            }
        }
        return null;
    }

    /** Applies a published state: providers, rate limits, and the key sets its RequestAuthentications name. */
    synchronized void update(MeshState state) {
        if (closed) {
            return; // the source outlives us (MeshSource has no removeListener)
        }
        try {
            for (var p : extAuthz.values()) {
                p.clients().update(state.mesh());
            }
            var declared = rateLimits(state);
            for (var e : limits.entrySet()) {
                e.getValue().update(declared);
                warm(state, e.getKey());
            }
        } catch (RuntimeException e) {
            // Never leave the listener chain broken; the previous clients and limits keep serving.
            log.error("cannot apply mesh state {} to the waypoint's security stages", state, e);
        }
    }

    private static List<io.ambit.waypoint.ratelimit.LocalRateLimit> rateLimits(MeshState state) {
        return state.extension(RateLimitSet.class).orElse(RateLimitSet.NONE).limits();
    }

    /** Starts fetching the JWKS of every RequestAuthentication on the services {@code self} serves. */
    private void warm(MeshState state, WaypointIdentity self) {
        for (Service s : state.services()) {
            if (self.is(s.waypoint())) {
                // The destination exactly as the ingress names it, so the request finds this authenticator.
                authenticators.warm(state.policies(), Destinations.destination(s, self));
            }
        }
    }

    /**
     * One line for a banner: what {@code self}'s stages enforce now, e.g. {@code ext_authz providers
     * [external-authz], 1 jwtRule, 2 rate limits}.
     */
    public synchronized String describe(WaypointIdentity self) {
        MeshState state = mesh.current();
        var providers = new java.util.ArrayList<String>();
        if (state.mesh().providers() != null) {
            for (var p : state.mesh().providers()) {
                if (!(p instanceof io.ambit.policy.mesh.ExtensionProvider.Other)) {
                    providers.add(p.name());
                }
            }
        }
        var rules = new java.util.HashSet<Object>();
        int limited = 0;
        var own = limits.get(self);
        for (Service s : state.services()) {
            if (self.is(s.waypoint())) {
                rules.addAll(state.policies().jwtRules(Destinations.destination(s, self)));
            }
        }
        if (own != null) {
            for (var l : own.limits()) {
                for (Service s : state.services()) {
                    if (self.is(s.waypoint())
                            && l.appliesTo(s.namespace(), s.name(), self.namespace(), self.gatewayName())) {
                        limited++;
                        break;
                    }
                }
            }
        }
        return "ext_authz providers " + providers + ", " + rules.size() + " jwtRule" + (rules.size() == 1 ? "" : "s")
                + ", " + limited + " rate limit" + (limited == 1 ? "" : "s");
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        extAuthz.values().forEach(ProviderClients::close);
        extAuthz.clear();
        keys.close();
        verifier.shutdownNow();
    }
}
