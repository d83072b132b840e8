package io.ambit.waypoint.ingress;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.policy.engine.PeerIdentity;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.Workload;

/**
 * Who sent a tunnel's requests. The identity comes only from the client certificate the HBONE handshake
 * verified; no header of the request (forwarded, x-forwarded-*, x-forwarded-client-cert, baggage) can
 * change it.
 *
 * @param identity the verified SPIFFE id of the HBONE peer
 * @param policyIdentity the same, as authorization policies match it
 * @param sourceIp the original client address: the {@code for=} of the CONNECT's {@code forwarded}
 *     header that the client's ztunnel wrote (the HBONE hop's own concern, as Istio's waypoint reads it),
 *     else the HBONE connection's remote address
 * @param workload the source workload, when the mesh knows the source address (for telemetry only)
 */
public record Peer(SpiffeId identity, PeerIdentity policyIdentity, IpAddress sourceIp, Workload workload) {

    /** The SPIFFE URI, as Istio's {@code source_principal} label writes it. */
    public String principal() {
        return identity.toString();
    }
}
