package io.ambit.waypoint.route;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.xds.mesh.Workload;
import java.net.InetSocketAddress;
import java.util.Set;

/**
 * One endpoint a request can go to: a workload of the destination service and where to reach it over
 * HBONE.
 *
 * @param workload the endpoint workload
 * @param target the app's {@code ip:targetPort}: the CONNECT authority
 * @param hbone the node's HBONE listener for that workload ({@code ip:15008}, ztunnel's in-pod address)
 * @param identities the identities the endpoint may present (its own, plus the service's SANs)
 */
public record Endpoint(Workload workload, InetSocketAddress target, InetSocketAddress hbone, Set<SpiffeId> identities) {

    public Endpoint {
        identities = Set.copyOf(identities);
    }

    /** {@code ip:port} of the app, as the CONNECT authority and the access log write it. */
    public String authority() {
        return target.getAddress().getHostAddress() + ":" + target.getPort();
    }
}
