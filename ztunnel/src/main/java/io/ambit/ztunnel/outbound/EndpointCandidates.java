package io.ambit.ztunnel.outbound;

import io.ambit.xds.mesh.LoadBalancing;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The endpoints of a service a connection may go to (ztunnel-reference.md §7, "Service VIP load
 * balancing"), before the pick weighted by capacity:
 *
 * <ul>
 *   <li>healthy ones, or all with {@code healthPolicy: AllowAll};
 *   <li>on the source's network with an address or a hostname (resolved at connect time), or on another
 *       network with a gateway;
 *   <li>with {@code FAILOVER} or {@code STRICT} and routing preferences, ranked by how many preferences,
 *       in order, the endpoint shares with the source (region, zone, subzone, node, cluster, network —
 *       counting stops at the first that differs): only the best rank is kept, and {@code STRICT} keeps
 *       only endpoints that share them all. Istio's {@code trafficDistribution: PreferClose} arrives as
 *       {@code FAILOVER} over network, region, zone and subzone.
 * </ul>
 *
 * A connection that is not from a workload has no locality: preferences do not apply to it.
 */
final class EndpointCandidates {
    private EndpointCandidates() {}

    static List<Workload> of(List<Workload> endpoints, Service service, Workload source) {
        LoadBalancing lb = service.loadBalancing();
        String network = source == null ? "" : source.network();
        boolean anyHealth = lb.healthPolicy() == LoadBalancing.HealthPolicy.ALLOW_ALL;
        boolean ranked = source != null
                && !lb.routingPreference().isEmpty()
                && (lb.mode() == LoadBalancing.Mode.FAILOVER || lb.mode() == LoadBalancing.Mode.STRICT);
        boolean strict = ranked && lb.mode() == LoadBalancing.Mode.STRICT;
        int best = 0;
        var candidates = new ArrayList<Workload>(endpoints.size());
        for (var w : endpoints) {
            if (!anyHealth && w.status() != Workload.Status.HEALTHY) {
                continue;
            }
            if (w.network().equals(network)
                    ? w.ips().isEmpty() && w.hostname().isEmpty()
                    : w.networkGateway() == null) {
                continue; // no address (nor a hostname to resolve) here, or another network with no way in
            }
            int rank = ranked ? rank(lb.routingPreference(), source, w) : 0;
            if (strict && rank < lb.routingPreference().size()) {
                continue;
            }
            if (rank < best) {
                continue;
            }
            if (rank > best) {
                candidates.clear();
                best = rank;
            }
            candidates.add(w);
        }
        return candidates;
    }

    /** How many of {@code preferences}, in order, {@code endpoint} shares with {@code source}. */
    static int rank(List<LoadBalancing.Scope> preferences, Workload source, Workload endpoint) {
        int rank = 0;
        for (var scope : preferences) {
            boolean same =
                    switch (scope) {
                        case REGION -> Objects.equals(region(source), region(endpoint));
                        case ZONE -> Objects.equals(zone(source), zone(endpoint));
                        case SUBZONE -> Objects.equals(subzone(source), subzone(endpoint));
                        case NODE -> Objects.equals(source.node(), endpoint.node());
                        case CLUSTER -> Objects.equals(source.clusterId(), endpoint.clusterId());
                        case NETWORK -> Objects.equals(source.network(), endpoint.network());
                    };
            if (!same) {
                break;
            }
            rank++;
        }
        return rank;
    }

    private static String region(Workload w) {
        return w.locality() == null ? "" : w.locality().region();
    }

    private static String zone(Workload w) {
        return w.locality() == null ? "" : w.locality().zone();
    }

    private static String subzone(Workload w) {
        return w.locality() == null ? "" : w.locality().subzone();
    }
}
