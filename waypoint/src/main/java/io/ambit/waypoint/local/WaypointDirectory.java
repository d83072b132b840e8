package io.ambit.waypoint.local;

import io.ambit.waypoint.ingress.WaypointIdentity;
import io.ambit.xds.mesh.GatewayAddress;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NamespacedHostname;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the waypoints a mesh declares, with no new file syntax: as in Istio, a waypoint is a workload —
 * labelled {@code gateway.networking.k8s.io/gateway-name: NAME} (the label Istio puts on waypoint pods;
 * NAME is the Gateway that {@code targetRefs} name), or named by some service's or workload's
 * {@code waypoint:} (by address, or by the hostname of a service it backs, whose name is then the
 * Gateway's, as Istio names the waypoint Service after its Gateway).
 */
public final class WaypointDirectory {
    /** Istio's label on waypoint pods. */
    public static final String GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name";

    private WaypointDirectory() {}

    /** Every waypoint {@code mesh} declares, in workload order. */
    public static List<DeclaredWaypoint> find(MeshState mesh) {
        Set<NetworkAddress> byAddress = new HashSet<>();
        Set<NamespacedHostname> byHostname = new HashSet<>();
        for (Service s : mesh.services()) {
            collect(s.waypoint(), byAddress, byHostname);
        }
        for (Workload w : mesh.workloads()) {
            collect(w.waypoint(), byAddress, byHostname);
        }
        List<DeclaredWaypoint> out = new ArrayList<>();
        for (Workload w : mesh.workloads()) {
            String label = w.labels().get(GATEWAY_NAME_LABEL);
            Service ownService = null;
            for (Service s : mesh.servicesOf(w)) {
                if (byHostname.contains(s.key())) {
                    ownService = s;
                    break;
                }
            }
            boolean addressed = w.ips().stream().anyMatch(byAddress::contains);
            if (label == null && ownService == null && !addressed) {
                continue;
            }
            if (w.ips().isEmpty()) {
                continue; // nowhere to listen
            }
            String name = label != null
                    ? label
                    : ownService != null
                            ? ownService.name()
                            : (w.canonicalName() != null && !w.canonicalName().isEmpty()
                                    ? w.canonicalName()
                                    : w.name());
            var self = new WaypointIdentity(
                    name,
                    w.namespace(),
                    w.identity(),
                    Set.copyOf(w.ips()),
                    ownService == null ? null : ownService.key());
            out.add(new DeclaredWaypoint(self, w, literal(w.ips().getFirst())));
        }
        return List.copyOf(out);
    }

    /** Whether {@code workload} runs a waypoint (a node must not open its own listeners on its address). */
    public static boolean isWaypoint(MeshState mesh, Workload workload) {
        return find(mesh).stream().anyMatch(d -> d.workload().uid().equals(workload.uid()));
    }

    /** The services each waypoint serves, by Gateway ({@code namespace/name}), for banners. */
    public static Map<String, List<Service>> served(MeshState mesh) {
        Map<String, List<Service>> out = new LinkedHashMap<>();
        for (DeclaredWaypoint d : find(mesh)) {
            List<Service> services = new ArrayList<>();
            for (Service s : mesh.services()) {
                if (d.self().is(s.waypoint())) {
                    services.add(s);
                }
            }
            out.put(d.self().namespace() + "/" + d.self().gatewayName(), List.copyOf(services));
        }
        return out;
    }

    private static void collect(GatewayAddress g, Set<NetworkAddress> byAddress, Set<NamespacedHostname> byHostname) {
        if (g == null) {
            return;
        }
        if (g.address() != null) {
            byAddress.add(g.address());
        } else {
            byHostname.add(g.hostname());
        }
    }

    private static InetAddress literal(NetworkAddress a) {
        return a.ip().toInetAddress();
    }
}
