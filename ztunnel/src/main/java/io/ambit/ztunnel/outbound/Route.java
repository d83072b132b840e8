package io.ambit.ztunnel.outbound;

import io.ambit.hbone.identity.SpiffeId;
import java.net.InetSocketAddress;
import java.util.Set;

/** Where an outbound connection goes, as {@link OutboundRouter} decides it (ztunnel-reference.md §1.4). */
public sealed interface Route {

    /**
     * Through an HBONE tunnel.
     *
     * @param hbone       the HBONE server to dial: the endpoint's {@code ip:15008}
     * @param target      the CONNECT authority: the endpoint's {@code ip:targetPort}
     * @param identities  the server identities accepted: the endpoint's, plus the service's SANs
     * @param service     the service hostname when the destination was a service, or null
     * @param workload    the chosen endpoint's name
     */
    record Hbone(
            InetSocketAddress hbone,
            InetSocketAddress target,
            Set<SpiffeId> identities,
            String service,
            String workload)
            implements Route {
        public Hbone {
            identities = Set.copyOf(identities);
        }
    }

    /**
     * Plain TCP: a destination outside the mesh (passthrough), or an endpoint that does not speak HBONE.
     *
     * @param target   where to connect
     * @param service  the service hostname when the destination was a service, or null
     * @param workload the endpoint's name, or null outside the mesh
     */
    record Direct(InetSocketAddress target, String service, String workload) implements Route {}

    /**
     * Refused: ztunnel closes the client's connection.
     *
     * @param reason why, for the access log (e.g. no healthy endpoint)
     */
    record Refused(String reason) implements Route {}
}
