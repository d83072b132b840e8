package io.ambit.xds.mesh;

import io.ambit.hbone.identity.SpiffeId;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One workload (a pod, a VM) as ztunnel sees it (workload.proto's {@code Workload}).
 *
 * @param uid               unique id, e.g. {@code Kubernetes//Pod/default/httpbin-1}
 * @param name              workload (pod) name
 * @param namespace         its namespace
 * @param ips               its addresses; unique in their network across the mesh
 * @param serviceAccount    the identity's service account
 * @param trustDomain       the identity's trust domain
 * @param node              the node it runs on (which ztunnel captures it)
 * @param network           its network; empty for the default network
 * @param labels            its labels, for policy selectors. Istio's workload proto carries none:
 *                          istiod resolves selectors into {@code authorization_policies} before ztunnel
 *                          sees them. The local file has no istiod, so it carries the labels and the
 *                          policy engine resolves selectors itself.
 * @param canonicalName     {@code service.istio.io/canonical-name}, for telemetry
 * @param canonicalRevision {@code service.istio.io/canonical-revision}, for telemetry
 * @param protocol          how to reach it: through HBONE (captured) or plain TCP (not in the mesh)
 * @param waypoint          its waypoint, or null
 * @param services          the services it backs, with its own port map for each
 * @param status            whether it may receive traffic
 * @param capacity          load-balancing weight relative to other endpoints (1 by default)
 */
public record Workload(
        String uid,
        String name,
        String namespace,
        List<NetworkAddress> ips,
        String serviceAccount,
        String trustDomain,
        String node,
        String network,
        Map<String, String> labels,
        String canonicalName,
        String canonicalRevision,
        Protocol protocol,
        GatewayAddress waypoint,
        Map<NamespacedHostname, List<Port>> services,
        Status status,
        int capacity) {
    public Workload {
        ips = List.copyOf(ips);
        labels = Map.copyOf(labels);
        // file order matters to readers (servicesOf); Map.copyOf would scramble it
        services = Collections.unmodifiableMap(new LinkedHashMap<>(services));
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity " + capacity + " (expected: >= 0)");
        }
    }

    /** The workload's SPIFFE identity. */
    public SpiffeId identity() {
        return new SpiffeId(trustDomain, namespace, serviceAccount);
    }

    /** The workload's port for a service port of one of its services, or -1. */
    public int targetPort(NamespacedHostname service, int servicePort) {
        for (var p : services.getOrDefault(service, List.of())) {
            if (p.servicePort() == servicePort) {
                return p.targetPort();
            }
        }
        return -1;
    }

    /** workload.proto's {@code TunnelProtocol} (ztunnel's local file spells it {@code HBONE} or {@code TCP}). */
    public enum Protocol {
        HBONE,
        TCP
    }

    /** workload.proto's {@code WorkloadStatus}. */
    public enum Status {
        HEALTHY,
        UNHEALTHY
    }
}
