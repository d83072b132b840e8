package io.ambit.waypoint.route;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.waypoint.ingress.Target;
import io.ambit.xds.mesh.LoadBalancing;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NamespacedHostname;
import io.ambit.xds.mesh.Workload;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Chooses the endpoint of each request, per request (not per connection): a long-lived HTTP/2 or gRPC
 * connection from one client spreads over every endpoint, which an L4 hop cannot do (security-cases C4).
 * Weighted round robin over the healthy endpoints that expose the port ({@code capacity} is the weight;
 * unhealthy ones only if the service's health policy is {@code AllowAll}). The candidate lists are built
 * once per mesh state and swapped with it.
 */
public final class EndpointPicker {
    private final int hbonePort;
    private final AtomicReference<Table> table = new AtomicReference<>();
    private final ConcurrentHashMap<Object, AtomicLong> cursors = new ConcurrentHashMap<>();

    /** @param hbonePort the port of the nodes' HBONE listeners (15008) */
    public EndpointPicker(int hbonePort) {
        this.hbonePort = hbonePort;
    }

    /**
     * The next endpoint for {@code target}, skipping {@code avoid} (the one a retry just failed on) when
     * there is another; empty when the service has none.
     */
    public Optional<Endpoint> pick(MeshState mesh, Target target, Endpoint avoid) {
        List<Endpoint> candidates = tableFor(mesh).candidates(target, this);
        int n = candidates.size();
        if (n == 0) {
            return Optional.empty();
        }
        long i = cursors.computeIfAbsent(
                        new CursorKey(target.service().key(), target.servicePort()), k -> new AtomicLong())
                .getAndIncrement();
        Endpoint e = candidates.get((int) Math.floorMod(i, (long) n));
        if (avoid != null && n > 1 && e.target().equals(avoid.target())) {
            e = candidates.get((int) Math.floorMod(i + 1, (long) n));
        }
        return Optional.of(e);
    }

    /**
     * Every endpoint {@link #pick} chooses among for {@code target}, each once (whatever its capacity), in
     * the order {@code pick} goes round: for a client that balances by itself (grpc-java's round_robin).
     */
    public List<Endpoint> endpoints(MeshState mesh, Target target) {
        return List.copyOf(new LinkedHashSet<>(tableFor(mesh).candidates(target, this)));
    }

    private Table tableFor(MeshState mesh) {
        Table t = table.get();
        if (t == null || t.mesh != mesh) {
            t = new Table(mesh);
            table.set(t); // a race builds it twice; both are equal
        }
        return t;
    }

    private record CursorKey(NamespacedHostname service, int port) {}

    /** Candidates per (service, port) for one mesh state, each repeated by its capacity. */
    private static final class Table {
        final MeshState mesh;
        final Map<CursorKey, List<Endpoint>> byService = new ConcurrentHashMap<>();

        Table(MeshState mesh) {
            this.mesh = mesh;
        }

        List<Endpoint> candidates(Target target, EndpointPicker picker) {
            return byService.computeIfAbsent(
                    new CursorKey(target.service().key(), target.servicePort()), k -> build(target, picker.hbonePort));
        }

        private List<Endpoint> build(Target target, int hbonePort) {
            var service = target.service();
            boolean allowUnhealthy = service.loadBalancing().healthPolicy() == LoadBalancing.HealthPolicy.ALLOW_ALL;
            Map<String, SpiffeId> sans = new HashMap<>();
            for (String san : service.subjectAltNames()) {
                sans.put(san, SpiffeId.parse(san));
            }
            List<Endpoint> out = new ArrayList<>();
            for (Workload w : mesh.endpoints(service)) {
                if (w.ips().isEmpty() || (w.status() != Workload.Status.HEALTHY && !allowUnhealthy)) {
                    continue;
                }
                int port = w.targetPort(service.key(), target.servicePort());
                if (port < 0) {
                    port = target.targetPort();
                }
                InetAddress ip = w.ips().getFirst().ip().toInetAddress();
                var ids = new LinkedHashSet<SpiffeId>();
                ids.add(w.identity());
                ids.addAll(sans.values());
                var endpoint =
                        new Endpoint(w, new InetSocketAddress(ip, port), new InetSocketAddress(ip, hbonePort), ids);
                for (int c = 0; c < Math.max(1, w.capacity()); c++) {
                    out.add(endpoint);
                }
            }
            return List.copyOf(out);
        }
    }
}
