package io.ambit.waypoint.ingress;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.xds.mesh.GatewayAddress;
import io.ambit.xds.mesh.NamespacedHostname;
import io.ambit.xds.mesh.NetworkAddress;
import java.util.Set;

/**
 * Which waypoint this is: the Gateway's name and namespace (what {@code targetRefs} of kind Gateway name),
 * the SPIFFE identity it presents, and how services point at it ({@code waypoint:} with its address, or
 * with its own service's hostname).
 *
 * @param gatewayName the Gateway (e.g. {@code payment-waypoint})
 * @param namespace the Gateway's namespace
 * @param identity the certificate identity presented on HBONE, both ways
 * @param addresses the waypoint's own addresses, as {@code waypoint: {destination: {address: ...}}} names them
 * @param service the waypoint's own service, as {@code waypoint: {destination: {hostname: ...}}} names it, or null
 */
public record WaypointIdentity(
        String gatewayName,
        String namespace,
        SpiffeId identity,
        Set<NetworkAddress> addresses,
        NamespacedHostname service) {

    public WaypointIdentity {
        if (gatewayName == null || gatewayName.isEmpty()) {
            throw new IllegalArgumentException("gatewayName: empty (expected the waypoint Gateway's name)");
        }
        if (namespace == null || namespace.isEmpty()) {
            throw new IllegalArgumentException("namespace: empty (expected the waypoint Gateway's namespace)");
        }
        if (identity == null) {
            throw new IllegalArgumentException("identity: null (expected the waypoint's SPIFFE id)");
        }
        addresses = Set.copyOf(addresses);
    }

    /** Whether {@code waypoint} (a service's or workload's {@code waypoint:}) points at this waypoint. */
    public boolean is(GatewayAddress waypoint) {
        if (waypoint == null) {
            return false;
        }
        return waypoint.address() != null
                ? addresses.contains(waypoint.address())
                : waypoint.hostname().equals(service);
    }

    @Override
    public String toString() {
        return namespace + "/" + gatewayName + " (" + identity + ")";
    }
}
