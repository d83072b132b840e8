package io.ambit.ztunnel.outbound;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.server.Authority;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.GatewayAddress;
import io.ambit.xds.mesh.LoadBalancing;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntUnaryOperator;

/**
 * ztunnel's outbound decision tree (ztunnel-reference.md §1.4) over one mesh state, without I/O:
 * service VIP → a healthy endpoint weighted by capacity → HBONE to that endpoint's {@code ip:hbonePort}
 * with authority {@code ip:targetPort}; a workload IP → the same, directly; an address outside the mesh
 * → plain TCP passthrough; a known service with no healthy endpoint → refused.
 *
 * <p>Waypoints (§1.4 steps 1 and 4): a service with a waypoint, or a workload IP whose workload has
 * one, is reached through the waypoint — HBONE to the waypoint's {@code ip:15008} with the original
 * {@code VIP:port} (or {@code podIP:port}) as the authority, expecting the waypoint's identity — unless
 * the source is that waypoint, which goes to the endpoint itself. A waypoint that cannot be resolved to
 * a healthy workload refuses the connection: falling back to the endpoint would skip the L7 policy the
 * waypoint enforces, so it fails closed.
 *
 * <p>Networks (§1.4 step 3, §2.7): an endpoint on another network than the source's is reached through
 * that network's gateway (double HBONE), or not at all when it has none.
 */
public final class OutboundRouter {
    private final int hbonePort;
    private final IntUnaryOperator random;
    /**
     * Recent HBONE routes to workloads, reused by the connections that take the same one: a route lives as
     * long as its connection, and thousands of idle connections to one endpoint need not hold thousands of
     * equal routes (socket addresses, identity sets). A few entries, searched in order and replaced round
     * robin; racy by design (a miss only builds the route again; entries are immutable). Keyed by the
     * workload object, so a new mesh snapshot's workloads take new entries.
     */
    private final RouteEntry[] recent = new RouteEntry[8];

    private int nextSlot; // round robin; races only pick a different victim

    private record RouteEntry(
            Workload workload, IpAddress ip, int port, String service, Set<SpiffeId> sans, Route.Hbone route) {}

    /**
     * @param hbonePort the port every node's inbound HBONE listens on (15008)
     * @param random    {@code bound -> [0, bound)}, for the weighted pick; tests pass a fixed one
     */
    public OutboundRouter(int hbonePort, IntUnaryOperator random) {
        this.hbonePort = hbonePort;
        this.random = random;
    }

    /** The route to {@code ip:port} for a connection from {@code source} (null when not a workload). */
    public Route route(MeshState state, Workload source, IpAddress ip, int port) {
        if (isSelfCall(port) && socket(ip, port).getAddress().isLoopbackAddress()) {
            return new Route.Refused("self-call to ztunnel port " + port);
        }
        var at = on(source, ip);
        var service = state.serviceByExactVip(at);
        if (service.isPresent()) {
            return toService(state, source, service.get(), ip, port);
        }
        var workload = state.workload(at);
        if (workload.isPresent()) {
            var w = workload.get();
            if (w.waypoint() != null) {
                return viaWaypoint(state, source, w.waypoint(), ip, port, null, "workload " + w.name());
            }
            return toWorkload(w, ip, port, null, Set.of());
        }
        // A CIDR VIP last: a workload's own IP inside a service's range is still that workload (ztunnel
        // looks workloads up before services; exact VIPs and workload IPs never overlap)
        service = state.serviceByCidrVip(at);
        if (service.isPresent()) {
            return toService(state, source, service.get(), ip, port);
        }
        return new Route.Direct(socket(ip, port), null, null);
    }

    /**
     * A service by name, as SOCKS5 clients send it: its full hostname ({@code httpbin.default.svc.cluster.local}),
     * or the short {@code name.namespace} and {@code name.namespace.svc} forms. Never DNS.
     */
    public static Optional<Service> serviceByName(MeshState state, String name) {
        return serviceByName(state, null, name);
    }

    /**
     * {@link #serviceByName(MeshState, String)} as {@code source} sees the mesh (ztunnel's choice among services
     * of one hostname): a service of {@code Namespace} visibility only from its own namespace; of several with
     * the name, the one in the source's namespace, then a canonical one, then the first.
     */
    public static Optional<Service> serviceByName(MeshState state, Workload source, String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.endsWith(".")) {
            n = n.substring(0, n.length() - 1);
        }
        String namespace = source == null ? null : source.namespace();
        Service best = null;
        int bestRank = -1;
        for (var s : state.services()) {
            String host = s.hostname().toLowerCase(Locale.ROOT);
            String shortName = s.name() + "." + s.namespace();
            if (!(n.equals(host) || n.equals(shortName) || n.equals(shortName + ".svc"))) {
                continue;
            }
            boolean ownNamespace = s.namespace().equals(namespace);
            if (s.visibility() == Service.Visibility.NAMESPACE && !ownNamespace) {
                continue;
            }
            int rank = ownNamespace ? 2 : s.canonical() ? 1 : 0;
            if (rank > bestRank) {
                best = s;
                bestRank = rank;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * The route to a service port named by hostname (SOCKS5), for a connection from {@code source} (null
     * when not a workload); through the service's waypoint when it has one, with its first VIP as the
     * authority.
     */
    public Route toService(MeshState state, Workload source, Service service, int port) {
        if (service.waypoint() != null && !service.vips().isEmpty()) {
            return toService(state, source, service, service.vips().getFirst().ip(), port);
        }
        return toService(state, source, service, null, port);
    }

    /** {@link #toService(MeshState, Workload, Service, int)} for a source that is no waypoint. */
    public Route toService(MeshState state, Service service, int port) {
        return toService(state, null, service, port);
    }

    private Route toService(MeshState state, Workload source, Service service, IpAddress vip, int port) {
        if (service.targetPort(port) < 0) {
            return new Route.Refused("service " + service.hostname() + " has no port " + port);
        }
        if (service.waypoint() != null) {
            if (vip == null) {
                // The waypoint needs an authority it can map back to the service: a VIP.
                return new Route.Refused("service " + service.hostname() + " has a waypoint but no VIP");
            }
            return viaWaypoint(
                    state, source, service.waypoint(), vip, port, service.hostname(), "service " + service.hostname());
        }
        return toEndpoint(state, source, service, vip, port);
    }

    /** @param vip the address the client dialed, or null when it named the service */
    private Route toEndpoint(MeshState state, Workload source, Service service, IpAddress vip, int port) {
        if (service.targetPort(port) < 0) {
            return new Route.Refused("service " + service.hostname() + " has no port " + port);
        }
        String network = source == null ? "" : source.network();
        if (service.loadBalancing().mode() == LoadBalancing.Mode.PASSTHROUGH) {
            // no endpoint choice: the connection goes where the client sent it
            return vip == null
                    ? new Route.Refused(
                            "service " + service.hostname() + " is PASSTHROUGH: reached at its address only")
                    : new Route.Direct(socket(vip, port), service.hostname(), null);
        }
        var healthy = EndpointCandidates.of(state.endpoints(service), service, source);
        if (healthy.isEmpty()) {
            return new Route.Refused(
                    service.loadBalancing().mode() == LoadBalancing.Mode.STRICT && source != null
                            ? "no healthy endpoint for service " + service.hostname()
                                    + " shares the source's "
                                    + service.loadBalancing().routingPreference()
                                    + " (STRICT)"
                            : "no healthy endpoint for service " + service.hostname());
        }
        Workload endpoint = pick(healthy);
        int target = endpoint.targetPort(service.key(), port);
        if (target <= 0) {
            target = service.targetPort(port);
        }
        if (target <= 0) {
            // istiod sends 0 for a named target port that each endpoint resolves; this one did not
            return new Route.Refused(
                    "service " + service.hostname() + " port " + port + " has no target port on " + endpoint.name());
        }
        var sans = new LinkedHashSet<SpiffeId>();
        for (var san : service.subjectAltNames()) {
            try {
                sans.add(SpiffeId.parse(san));
            } catch (IllegalArgumentException e) {
                // not a SPIFFE id: no identity to accept
            }
        }
        if (!endpoint.network().equals(network)) {
            return viaNetworkGateway(state, endpoint, service, port, sans, network);
        }
        if (endpoint.ips().isEmpty()) {
            // a hostname workload (ServiceEntry resolution DNS): its address is looked up at connect time
            return new Route.Resolve(endpoint, target, service.hostname(), sans, service.ipFamilies(), vip);
        }
        IpAddress address = addressOf(endpoint, service.ipFamilies(), vip);
        if (address == null) {
            return new Route.Refused("endpoint " + endpoint.name() + " of service " + service.hostname()
                    + " has no address of the service's family (" + service.ipFamilies() + ")");
        }
        return toWorkload(endpoint, address, target, service.hostname(), sans);
    }

    /**
     * The route to a hostname endpoint once its name resolved: one of its addresses, of the service's family
     * and of the dialed address's family when there is a choice (as for a dual-stack endpoint), chosen at
     * random among those as ztunnel does; then as any endpoint: plain TCP for a workload outside the mesh,
     * HBONE to {@code address:15008} for one in it.
     */
    public Route resolved(Route.Resolve pending, List<InetAddress> addresses) {
        var preferred = new ArrayList<IpAddress>();
        var other = new ArrayList<IpAddress>();
        for (var a : addresses) {
            IpAddress ip = IpAddress.of(a).unmap();
            if (pending.families() == Service.IpFamilies.IPV4_ONLY && !ip.isV4()
                    || pending.families() == Service.IpFamilies.IPV6_ONLY && ip.isV4()) {
                continue;
            }
            (pending.dialed() == null || ip.isV4() == pending.dialed().isV4() ? preferred : other).add(ip);
        }
        var candidates = preferred.isEmpty() ? other : preferred;
        if (candidates.isEmpty()) {
            return new Route.Refused("hostname " + pending.hostname() + " of endpoint "
                    + pending.endpoint().name() + " resolved to " + addresses + ", none of the service's family ("
                    + pending.families() + ")");
        }
        IpAddress ip =
                candidates.size() == 1 ? candidates.getFirst() : candidates.get(random.applyAsInt(candidates.size()));
        if (isSelfCall(pending.port())
                && socket(ip, pending.port()).getAddress().isLoopbackAddress()) {
            // a name pointing back at this proxy's own ports would loop
            return new Route.Refused("hostname " + pending.hostname() + " resolved to " + ip
                    + ": self-call to ztunnel port " + pending.port());
        }
        return toWorkload(pending.endpoint(), ip, pending.port(), pending.service(), pending.sans());
    }

    /**
     * The endpoint's address to dial (ztunnel's choice for single and dual stack): of the service's family
     * when it allows one only, and of the dialed address's family when there is a choice; null when none
     * fits.
     */
    static IpAddress addressOf(Workload endpoint, Service.IpFamilies families, IpAddress dialed) {
        IpAddress first = null;
        for (var a : endpoint.ips()) {
            IpAddress ip = a.ip();
            if (families == Service.IpFamilies.IPV4_ONLY && !ip.isV4()
                    || families == Service.IpFamilies.IPV6_ONLY && ip.isV4()) {
                continue;
            }
            if (dialed == null || ip.isV4() == dialed.isV4()) {
                return ip;
            }
            if (first == null) {
                first = ip;
            }
        }
        return first;
    }

    /**
     * Double HBONE to {@code endpoint} through its network's gateway: the outer tunnel is for the service
     * ({@code hostname:port}), since addresses on the other network mean nothing here; the inner connection
     * verifies the endpoint's identity and the service's SANs.
     */
    private Route viaNetworkGateway(
            MeshState state, Workload endpoint, Service service, int port, Set<SpiffeId> sans, String network) {
        GatewayAddress gateway = endpoint.networkGateway();
        var gateways = healthy(gatewayWorkloads(state, gateway));
        if (gateways.isEmpty()) {
            return new Route.Refused("the network gateway of " + endpoint.name() + " (" + describe(gateway)
                    + ") has no healthy workload");
        }
        Workload chosen = pick(gateways);
        IpAddress gatewayIp =
                gateway.address() != null && state.workload(gateway.address()).isPresent()
                        ? gateway.address().ip()
                        : chosen.ips().getFirst().ip();
        var gatewayIds = new LinkedHashSet<SpiffeId>();
        for (var g : gateways) {
            gatewayIds.add(g.identity());
        }
        var ids = new LinkedHashSet<SpiffeId>();
        ids.add(endpoint.identity());
        ids.addAll(sans);
        Authority authority;
        try {
            authority = Authority.parse(service.hostname() + ":" + port);
        } catch (IllegalArgumentException e) {
            return new Route.Refused(
                    "service hostname " + service.hostname() + " cannot be an HBONE authority: " + e.getMessage());
        }
        return new Route.DoubleHbone(
                socket(gatewayIp, gateway.hboneMtlsPort()),
                gatewayIds,
                authority,
                ids,
                service.hostname(),
                endpoint,
                network);
    }

    /**
     * HBONE to the waypoint with the original destination as the authority, or — when the source is
     * that waypoint — straight on (the waypoint's own traffic to the endpoint must not loop back to it).
     */
    private Route viaWaypoint(
            MeshState state,
            Workload source,
            GatewayAddress waypoint,
            IpAddress destination,
            int port,
            String service,
            String what) {
        var candidates = gatewayWorkloads(state, waypoint);
        if (source != null && candidates.stream().anyMatch(w -> w.uid().equals(source.uid()))) {
            var at = on(source, destination);
            var asService = state.serviceByExactVip(at);
            if (asService.isPresent()) {
                return toEndpoint(state, source, asService.get(), destination, port);
            }
            var w = state.workload(at);
            if (w.isPresent()) {
                return toWorkload(w.get(), destination, port, null, Set.of());
            }
            asService = state.serviceByCidrVip(at);
            return asService.isPresent()
                    ? toEndpoint(state, source, asService.get(), destination, port)
                    : new Route.Direct(socket(destination, port), null, null);
        }
        var healthy = healthy(candidates);
        if (healthy.isEmpty()) {
            return new Route.Refused(
                    "the waypoint of " + what + " (" + describe(waypoint) + ") has no healthy workload");
        }
        var chosen = pick(healthy);
        var sans = new LinkedHashSet<SpiffeId>();
        sans.add(chosen.identity());
        return new Route.Hbone(
                socket(chosen.ips().getFirst().ip(), waypoint.hboneMtlsPort()),
                socket(destination, port),
                sans,
                service,
                chosen.name());
    }

    /** The workloads a waypoint or gateway address names: the workload at that IP, or the endpoints of that service. */
    private static List<Workload> gatewayWorkloads(MeshState state, GatewayAddress waypoint) {
        if (waypoint.address() != null) {
            var byIp = state.workload(waypoint.address());
            if (byIp.isPresent()) {
                return List.of(byIp.get());
            }
            return state.serviceByVip(waypoint.address()).map(state::endpoints).orElse(List.of());
        }
        return state.service(waypoint.hostname()).map(state::endpoints).orElse(List.of());
    }

    private static String describe(GatewayAddress waypoint) {
        return waypoint.address() != null
                ? waypoint.address().toString()
                : waypoint.hostname().hostname();
    }

    private static List<Workload> healthy(List<Workload> workloads) {
        var healthy = new ArrayList<Workload>();
        for (var w : workloads) {
            if (w.status() == Workload.Status.HEALTHY && !w.ips().isEmpty()) {
                healthy.add(w);
            }
        }
        return healthy;
    }

    private Route toWorkload(Workload w, IpAddress ip, int port, String service, Set<SpiffeId> sans) {
        if (w.protocol() == Workload.Protocol.TCP) {
            return new Route.Direct(socket(ip, port), service, w.name());
        }
        for (RouteEntry e : recent) {
            if (e != null
                    && e.workload() == w
                    && e.port() == port
                    && e.ip().equals(ip)
                    && Objects.equals(e.service(), service)
                    && e.sans().equals(sans)) {
                return e.route();
            }
        }
        var ids = new LinkedHashSet<SpiffeId>();
        ids.add(w.identity());
        ids.addAll(sans);
        var route = new Route.Hbone(socket(ip, hbonePort), socket(ip, port), ids, service, w.name());
        int slot = nextSlot;
        nextSlot = (slot + 1) % recent.length;
        recent[slot] = new RouteEntry(w, ip, port, service, Set.copyOf(sans), route);
        return route;
    }

    /** One endpoint, chosen with probability proportional to its capacity (capacity 0 counts as 1). */
    private Workload pick(List<Workload> healthy) {
        if (healthy.size() == 1) {
            return healthy.getFirst();
        }
        int total = 0;
        for (var w : healthy) {
            total += Math.max(1, w.capacity());
        }
        int r = random.applyAsInt(total);
        for (var w : healthy) {
            r -= Math.max(1, w.capacity());
            if (r < 0) {
                return w;
            }
        }
        return healthy.getLast();
    }

    /** {@code ip} as the source sees it: on the source's network (the default one for no workload). */
    static NetworkAddress on(Workload source, IpAddress ip) {
        return new NetworkAddress(source == null ? "" : source.network(), ip);
    }

    /** An IP literal to a socket address: no name lookup happens for a literal. */
    static InetSocketAddress socket(IpAddress ip, int port) {
        return new InetSocketAddress(ip.toInetAddress(), port);
    }

    /** ztunnel's own ports (15001, 15006, 15008, 15080): a connection must not loop back into them. */
    static boolean isSelfCall(int port) {
        return port == 15001 || port == 15006 || port == 15008 || port == 15080;
    }
}
