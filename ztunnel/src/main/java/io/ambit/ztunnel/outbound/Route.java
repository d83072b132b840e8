package io.ambit.ztunnel.outbound;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.server.Authority;
import io.ambit.xds.mesh.Workload;
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
     * Double HBONE (ztunnel-reference.md §2.7): an endpoint on another network, reached through that
     * network's gateway — an outer tunnel to the gateway for {@code authority}, and inside it a second
     * mutual-TLS connection and CONNECT to the endpoint, verified end to end.
     *
     * @param gateway           the gateway's {@code ip:hbonePort}
     * @param gatewayIdentities the identities the gateway may present
     * @param authority         {@code service-hostname:servicePort}, for both CONNECTs
     * @param identities        the identities the endpoint may present: its own and the service's SANs
     * @param service           the service hostname
     * @param endpoint          the chosen endpoint
     * @param network           the source's network, sent as {@code x-forwarded-network} on the inner CONNECT
     */
    record DoubleHbone(
            InetSocketAddress gateway,
            Set<SpiffeId> gatewayIdentities,
            Authority authority,
            Set<SpiffeId> identities,
            String service,
            Workload endpoint,
            String network)
            implements Route {
        public DoubleHbone {
            gatewayIdentities = Set.copyOf(gatewayIdentities);
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
     * An endpoint known by hostname only (a ServiceEntry with DNS resolution): its address is resolved at
     * connect time ({@link OnDemandDns}), then {@link OutboundRouter#resolved} gives the route to it.
     *
     * @param endpoint the chosen endpoint, with a hostname and no address
     * @param port     the target port on it
     * @param service  the service hostname
     * @param sans     the service's SANs, for an HBONE endpoint
     * @param families the address families the service allows
     * @param dialed   the address the client dialed (its family is preferred), or null when it named the service
     */
    record Resolve(
            Workload endpoint,
            int port,
            String service,
            Set<SpiffeId> sans,
            io.ambit.xds.mesh.Service.IpFamilies families,
            io.ambit.policy.match.IpAddress dialed)
            implements Route {
        public Resolve {
            sans = Set.copyOf(sans);
        }

        public String hostname() {
            return endpoint.hostname();
        }
    }

    /**
     * Refused: ztunnel closes the client's connection.
     *
     * @param reason why, for the access log (e.g. no healthy endpoint)
     */
    record Refused(String reason) implements Route {}
}
