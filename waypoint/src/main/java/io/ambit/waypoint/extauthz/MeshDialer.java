package io.ambit.waypoint.extauthz;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.server.Authority;
import io.ambit.policy.match.IpAddress;
import io.ambit.waypoint.ingress.Target;
import io.ambit.waypoint.route.Endpoint;
import io.ambit.waypoint.route.EndpointPicker;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Reaches an ext_authz provider that lives in the mesh as Istio's waypoint does: a CONNECT over HBONE to
 * one of the provider service's endpoints, presenting the waypoint's own identity (mTLS, the provider's
 * ztunnel authorizes it like any caller) and checking the endpoint's. A provider whose {@code service} is
 * not a mesh service (or one without workloads) is left to the plaintext connection, as before; an
 * endpoint outside the mesh (protocol TCP) is connected to in plaintext at its own address.
 *
 * <p>The service is looked up per new connection in the mesh as it is then ({@code service} by hostname, or
 * by VIP when it is an IP literal); its endpoints are chosen round robin by the route package's
 * {@link EndpointPicker} (healthy ones, capacity as weight, the workload's target port).
 */
public final class MeshDialer {
    private final SpiffeId self;
    private final InetAddress sourceIp;
    private final HbonePool pool;
    private final Supplier<MeshState> mesh;
    private final EndpointPicker picker;
    private final ConcurrentHashMap<String, Cached> lookups = new ConcurrentHashMap<>();

    /**
     * @param self the waypoint's identity, presented to the provider's node
     * @param sourceIp the local address of the tunnels, or null for the system's choice
     * @param pool an HBONE pool presenting {@code self}'s certificate
     * @param hbonePort the nodes' HBONE port (15008)
     */
    public MeshDialer(SpiffeId self, InetAddress sourceIp, HbonePool pool, Supplier<MeshState> mesh, int hbonePort) {
        this.self = self;
        this.sourceIp = sourceIp;
        this.pool = pool;
        this.mesh = mesh;
        this.picker = new EndpointPicker(hbonePort);
    }

    /** Where a connection to a provider goes. */
    sealed interface Route {
        /** Not a mesh service: connect to {@code host:port} directly. */
        record Direct() implements Route {}

        /** A mesh service: tunnel to this endpoint. */
        record Mesh(Service service, Endpoint endpoint) implements Route {}

        /** A mesh service whose chosen endpoint is not captured (protocol TCP): plaintext to it directly. */
        record Plain(Service service, java.net.InetSocketAddress address) implements Route {}

        /** A mesh service without an endpoint for the port: nothing to connect to (fail closed). */
        record Unavailable(String reason) implements Route {}
    }

    /** Where a new connection to {@code host:port} goes now (per check for HTTP providers: cheap). */
    Route route(String host, int port) {
        MeshState state = mesh.get();
        Lookup found = cachedLookup(state, host, port);
        if (found.route() != null) {
            return found.route();
        }
        Target target = found.target();
        return picker.pick(state, target, null)
                .map(e -> routeTo(target.service(), e))
                .orElseGet(() -> noEndpoint(target.service()));
    }

    /**
     * Every place the connections to {@code host:port} may go in {@code state}: one {@link Route.Mesh} or
     * {@link Route.Plain} per endpoint of the provider's mesh service (for a client that spreads its calls
     * over them itself), or else the one {@link Route.Direct} or {@link Route.Unavailable}.
     */
    List<Route> routes(MeshState state, String host, int port) {
        Lookup found = lookup(state, host, port);
        if (found.route() != null) {
            return List.of(found.route());
        }
        Target target = found.target();
        List<Route> out = new ArrayList<>();
        for (Endpoint e : picker.endpoints(state, target)) {
            out.add(routeTo(target.service(), e));
        }
        return out.isEmpty() ? List.of(noEndpoint(target.service())) : List.copyOf(out);
    }

    /** The mesh state connections are routed in now (an immutable snapshot: compare by reference). */
    MeshState meshNow() {
        return mesh.get();
    }

    /** The provider's mesh service to choose endpoints in ({@code target}), or the route when there is none. */
    private record Lookup(Target target, Route route) {}

    /** The last lookup per provider address, valid for one mesh snapshot (the service search is a scan). */
    private record Cached(MeshState state, Lookup lookup) {}

    private Lookup cachedLookup(MeshState state, String host, int port) {
        String key = host + ":" + port;
        Cached c = lookups.get(key);
        if (c == null || c.state() != state) {
            c = new Cached(state, lookup(state, host, port));
            lookups.put(key, c); // a race computes the same lookup twice
        }
        return c.lookup();
    }

    private static Lookup lookup(MeshState state, String host, int port) {
        Optional<Service> service = find(state, host);
        if (service.isEmpty()) {
            return new Lookup(null, new Route.Direct());
        }
        Service s = service.get();
        if (state.endpoints(s).isEmpty()) {
            // a name the mesh knows but serves nowhere: DNS decides, as before
            return new Lookup(null, new Route.Direct());
        }
        int targetPort = s.targetPort(port);
        if (targetPort < 0) {
            return new Lookup(null, new Route.Unavailable("mesh service " + s.hostname() + " has no port " + port));
        }
        return new Lookup(new Target(s, s.vips().isEmpty() ? null : s.vips().getFirst(), port, targetPort, null), null);
    }

    private static Route routeTo(Service s, Endpoint e) {
        return e.workload().protocol() == Workload.Protocol.TCP ? new Route.Plain(s, e.target()) : new Route.Mesh(s, e);
    }

    private static Route noEndpoint(Service s) {
        return new Route.Unavailable("mesh service " + s.hostname() + " has no healthy endpoint");
    }

    /** Opens a tunnel to {@code endpoint}; the stream channel carries the provider's protocol. */
    CompletableFuture<Channel> tunnel(Endpoint endpoint) {
        var key = new PoolKey(self, endpoint.identities(), sourceIp, endpoint.hbone());
        var request = new TunnelRequest(Authority.of(endpoint.target()), null, null, null, Map.of());
        return pool.connect(key, request).thenApply(stream -> stream.channel());
    }

    private static Optional<Service> find(MeshState state, String host) {
        var ip = IpAddress.tryParse(host);
        if (ip.isPresent()) {
            return state.serviceByVip(ip.get());
        }
        String h = host.toLowerCase(Locale.ROOT);
        for (Service s : state.services()) {
            if (s.hostname().toLowerCase(Locale.ROOT).equals(h)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** The pool's connections (closed with the waypoint's stages). */
    HbonePool pool() {
        return pool;
    }
}
