package io.ambit.waypoint.ingress;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Service;
import java.util.Map;
import java.util.Optional;

/**
 * Finds what a CONNECT to the waypoint is for. A client's ztunnel sends a request for a service with a
 * waypoint to that waypoint with {@code :authority = VIP:port}; the waypoint serves it only if the
 * service's {@code waypoint:} names this waypoint and the port is one of the service's. Anything else is
 * refused: the waypoint is not an open proxy to arbitrary addresses.
 */
public final class Destinations {
    private Destinations() {}

    /** The target for {@code vip:port}, or why there is none. */
    public static Result resolve(MeshState mesh, WaypointIdentity self, IpAddress vip, int port) {
        Optional<Service> found = mesh.serviceByVip(NetworkAddress.of(vip));
        if (found.isEmpty()) {
            return new Result(null, vip + " is not the VIP of any service");
        }
        Service service = found.get();
        if (!self.is(service.waypoint())) {
            return new Result(
                    null,
                    "service " + service.key() + " is not served by waypoint " + self.namespace() + "/"
                            + self.gatewayName());
        }
        int targetPort = service.targetPort(port);
        if (targetPort < 0) {
            return new Result(null, "service " + service.key() + " has no port " + port);
        }
        var destination = destination(service, self);
        return new Result(new Target(service, NetworkAddress.of(vip), port, targetPort, destination), null);
    }

    /**
     * The policy engine's target for {@code service} served by {@code self}: Service targetRefs attach in
     * the service's namespace, Gateway targetRefs in the waypoint's, which differs for a waypoint serving
     * another namespace ({@code istio.io/use-waypoint-namespace}). Every stage that looks policies up must
     * build its destination here, so that they all find the same policies.
     */
    public static AccessRequest.Destination destination(Service service, WaypointIdentity self) {
        return new AccessRequest.Destination(
                service.namespace(), Map.of(), null, service.name(), self.gatewayName(), self.namespace());
    }

    /** Either a target or the reason there is none. */
    public record Result(Target target, String refusal) {}
}
