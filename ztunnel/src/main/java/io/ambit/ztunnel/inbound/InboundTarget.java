package io.ambit.ztunnel.inbound;

import io.ambit.hbone.server.Authority;
import io.ambit.hbone.server.ConnectStatus;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.ApplicationTunnel;
import io.ambit.xds.mesh.GatewayAddress;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Set;

/**
 * Where an inbound CONNECT may go and goes (ztunnel-reference.md §1.5 steps 2–3 and §2.6): the
 * destination check, then the next hop.
 *
 * <p>The check: the {@code :authority} IP must be the address the client dialed — otherwise a peer that
 * may reach one pod's 15008 could name a neighbour and reach it under the first pod's listener. Two
 * exceptions, as ztunnel's: the local workload takes tunnelled traffic itself (an {@code
 * applicationTunnel}: it gets the authority in a PROXY header and decides), or the authority's service
 * or workload has the local workload as its waypoint (a sandwiched waypoint, matching L7 attributes
 * only). A {@code host:port} authority (double HBONE) names a service; its port is a service port.
 *
 * <p>The next hop is always the local workload (the dialed address): at the authority's port, the
 * service's target port for a hostname, or the application tunnel's port. With a PROXY tunnel and
 * {@code localhost} set (ztunnel's {@code LOCALHOST_APP_TUNNEL}, in a pod) it is the pod's loopback, so
 * the tunnel port can be bound to localhost and reached only through the ztunnel.
 */
final class InboundTarget {
    /** ztunnel's own ports: a tunnel to one of them would loop (ztunnel's {@code SelfCall}). */
    static final Set<Integer> ILLEGAL_PORTS = Set.of(15001, 15006, 15008, 15080);

    /** PROXY v2 TLV with the client's SPIFFE id (ztunnel's {@code PROXY_PROTOCOL_AUTHORITY_TLV}). */
    static final byte TLV_IDENTITY = (byte) 0xD0;

    /** PROXY v2 TLV with the service hostname of a hostname authority. */
    static final byte TLV_SERVICE_HOSTNAME = (byte) 0xD1;

    sealed interface Result {}

    /** The CONNECT is answered with {@code status}. */
    record Refused(ConnectStatus status, String reason) implements Result {}

    /**
     * @param app          the connection to open
     * @param bindLoopback open it from the loopback address (a localhost app tunnel), not the client's
     * @param policyPort   the port policies see: the app's port before the loopback swap (ztunnel decides
     *                     on the upstream address)
     * @param service      the service the tunnel reaches, for telemetry, or null
     * @param proxy        the PROXY header to write first, or null
     */
    record Next(InetSocketAddress app, boolean bindLoopback, int policyPort, Service service, ProxyHeader proxy)
            implements Result {}

    /**
     * The PROXY v2 header of an application tunnel.
     *
     * @param tunnelTarget    what the client asked for (for a hostname: a VIP of the service)
     * @param serviceHostname the hostname the client asked for, or null
     */
    record ProxyHeader(InetSocketAddress tunnelTarget, String serviceHostname) {}

    private InboundTarget() {}

    /**
     * @param local     the workload whose listener was dialed
     * @param dialed    the address the client dialed (the socket's local address)
     * @param localhost a PROXY application tunnel goes to the loopback address
     */
    static Result resolve(MeshState state, Workload local, IpAddress dialed, Authority authority, boolean localhost) {
        int port;
        Service service;
        InetSocketAddress tunnelTarget;
        String serviceHostname = null;
        if (authority.isIp()) {
            InetSocketAddress asked = authority.socketAddress().orElseThrow();
            IpAddress askedIp = IpAddress.of(asked.getAddress()).unmap();
            if (!askedIp.equals(dialed)
                    && local.applicationTunnel() == null
                    && !isItsWaypoint(state, local, dialed, askedIp)) {
                return new Refused(
                        ConnectStatus.BAD_REQUEST,
                        "authority " + authority + " is not the address dialed (" + dialed
                                + ") and has no waypoint there");
            }
            port = asked.getPort();
            service = serviceOf(state, local, port);
            tunnelTarget = asked;
        } else {
            service = serviceNamed(state, local, authority.host());
            if (service == null) {
                return new Refused(ConnectStatus.SERVICE_UNAVAILABLE, "no service " + authority.host());
            }
            int target = local.targetPort(service.key(), authority.port());
            port = target > 0 ? target : service.targetPort(authority.port());
            if (port <= 0) {
                return new Refused(
                        ConnectStatus.SERVICE_UNAVAILABLE,
                        "service " + service.hostname() + " has no target port for port " + authority.port() + " on "
                                + local.name());
            }
            tunnelTarget = null;
            serviceHostname = service.hostname();
        }
        if (ILLEGAL_PORTS.contains(port)) {
            return new Refused(ConnectStatus.SERVICE_UNAVAILABLE, "self-call to ztunnel port " + port);
        }
        InetAddress dialedAddress = address(dialed);
        ApplicationTunnel tunnel = local.applicationTunnel();
        if (tunnel == null) {
            return new Next(new InetSocketAddress(dialedAddress, port), false, port, service, null);
        }
        int appPort = tunnel.port() != 0 ? tunnel.port() : port;
        if (tunnel.protocol() != ApplicationTunnel.Protocol.PROXY) {
            return new Next(new InetSocketAddress(dialedAddress, appPort), false, appPort, service, null);
        }
        if (tunnelTarget == null) {
            // PROXY carries addresses, not names: a VIP of the service, IPv4 first, of the local network.
            NetworkAddress vip = vipOf(service, local.network());
            if (vip == null) {
                return new Refused(
                        ConnectStatus.SERVICE_UNAVAILABLE,
                        "service " + service.hostname() + " has no address for the PROXY header");
            }
            tunnelTarget = new InetSocketAddress(address(vip.ip()), authority.port());
        }
        var header = new ProxyHeader(tunnelTarget, serviceHostname);
        InetSocketAddress app = new InetSocketAddress(localhost ? loopback(dialed) : dialedAddress, appPort);
        return new Next(app, localhost, appPort, service, header);
    }

    /**
     * Whether the service or workload at {@code asked} has the local workload as its waypoint: a waypoint
     * named by address must hold the dialed IP, one named as a service must list the local workload.
     */
    private static boolean isItsWaypoint(MeshState state, Workload local, IpAddress dialed, IpAddress asked) {
        var at = new NetworkAddress(local.network(), asked);
        GatewayAddress waypoint = state.serviceByVip(at)
                .map(Service::waypoint)
                .orElseGet(() -> state.workload(at).map(Workload::waypoint).orElse(null));
        if (waypoint == null) {
            return false;
        }
        if (waypoint.address() != null) {
            var byIp = state.workload(waypoint.address());
            if (byIp.isPresent()) {
                return byIp.get().ips().stream().anyMatch(a -> a.ip().equals(dialed));
            }
            return state.serviceByVip(waypoint.address())
                    .map(s -> lists(state, s, local))
                    .orElse(false);
        }
        return state.service(waypoint.hostname())
                .map(s -> lists(state, s, local))
                .orElse(false);
    }

    private static boolean lists(MeshState state, Service service, Workload local) {
        return state.endpoints(service).stream().anyMatch(w -> w.uid().equals(local.uid()));
    }

    /** The service of that hostname, the local workload's namespace first (ztunnel's choice). */
    private static Service serviceNamed(MeshState state, Workload local, String hostname) {
        Service found = null;
        for (var s : state.services()) {
            if (s.hostname().equalsIgnoreCase(hostname)) {
                if (s.namespace().equals(local.namespace())) {
                    return s;
                }
                if (found == null) {
                    found = s;
                }
            }
        }
        return found;
    }

    /**
     * The service the tunnel reaches, for {@code destination_service*}: the first of the workload's services
     * that maps a port to the target port, as ztunnel's inbound guesses it (the authority is a pod address,
     * so which VIP the client dialed is known only at the source).
     */
    static Service serviceOf(MeshState state, Workload workload, int targetPort) {
        for (var s : state.servicesOf(workload)) {
            for (var p : s.ports()) {
                int t = workload.targetPort(s.key(), p.servicePort());
                if ((t > 0 ? t : p.targetPort()) == targetPort) {
                    return s;
                }
            }
        }
        return null;
    }

    private static NetworkAddress vipOf(Service service, String network) {
        NetworkAddress best = null;
        int bestRank = -1;
        for (var vip : service.vips()) {
            int rank = !vip.network().equals(network) ? 0 : vip.ip().isV4() ? 2 : 1;
            if (rank > bestRank) {
                best = vip;
                bestRank = rank;
            }
        }
        return best;
    }

    private static InetAddress address(IpAddress ip) {
        return ip.toInetAddress();
    }

    /** The loopback address of the dialed address's family (the family the app listens on). */
    private static InetAddress loopback(IpAddress dialed) {
        return address(IpAddress.parse(dialed.isV4() ? "127.0.0.1" : "::1"));
    }
}
