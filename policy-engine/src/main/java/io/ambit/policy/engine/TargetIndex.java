package io.ambit.policy.engine;

import io.ambit.policy.crd.PolicyMeta;
import io.ambit.policy.crd.TargetRef;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Waypoint attachment by {@code targetRefs} (authz-semantics §1): a Service or ServiceEntry in the
 * policy's namespace, a Gateway (the waypoint) in the policy's namespace, or the {@code istio-waypoint}
 * GatewayClass from the root namespace. Lookups are two hash probes per kind.
 *
 * @param <B> the frozen bucket type
 */
final class TargetIndex<B> {
    private final Map<String, Map<String, B>> services;
    private final Map<String, Map<String, B>> gateways;
    private final B allWaypoints;

    private TargetIndex(Map<String, Map<String, B>> services, Map<String, Map<String, B>> gateways, B allWaypoints) {
        this.services = services;
        this.gateways = gateways;
        this.allWaypoints = allWaypoints;
    }

    /** Up to three buckets: the Service's, the waypoint's, and the GatewayClass-wide one. Nulls are absent. */
    B service(String ns, String name) {
        var m = ns == null || name == null ? null : services.get(ns);
        return m == null ? null : m.get(name);
    }

    B gateway(String ns, String name) {
        var m = ns == null || name == null ? null : gateways.get(ns);
        return m == null ? null : m.get(name);
    }

    B allWaypoints() {
        return allWaypoints;
    }

    /** Collects items by their targetRefs, then freezes every list into a bucket. */
    static final class Builder<T, B> {
        private final String rootNamespace;
        private final Map<String, Map<String, List<T>>> services = new HashMap<>();
        private final Map<String, Map<String, List<T>>> gateways = new HashMap<>();
        private final List<T> allWaypoints = new ArrayList<>();

        Builder(String rootNamespace) {
            this.rootNamespace = rootNamespace;
        }

        /** Returns false when no targetRef can ever match (e.g. another namespace), for explanations. */
        boolean add(PolicyMeta meta, List<TargetRef> refs, T item) {
            boolean any = false;
            String ns = meta.namespace();
            for (TargetRef r : refs) {
                if (r.namespace() != null && !r.namespace().equals(ns)) {
                    continue; // a targetRef into another namespace never matches
                }
                if (r.isService() || r.isServiceEntry()) {
                    put(services, ns, r.name(), item);
                    any = true;
                } else if (r.isGateway()) {
                    put(gateways, ns, r.name(), item);
                    any = true;
                } else if (r.isGatewayClass()
                        && r.name().equals(TargetRef.WAYPOINT_CLASS)
                        && ns.equals(rootNamespace)) {
                    if (!allWaypoints.contains(item)) {
                        allWaypoints.add(item);
                    }
                    any = true;
                }
            }
            return any;
        }

        private void put(Map<String, Map<String, List<T>>> m, String ns, String name, T item) {
            var l = m.computeIfAbsent(ns, k -> new HashMap<>()).computeIfAbsent(name, k -> new ArrayList<>());
            if (!l.contains(item)) {
                l.add(item);
            }
        }

        TargetIndex<B> build(Function<List<T>, B> freeze) {
            return new TargetIndex<>(
                    freeze(services, freeze),
                    freeze(gateways, freeze),
                    allWaypoints.isEmpty() ? null : freeze.apply(allWaypoints));
        }

        private static <T, B> Map<String, Map<String, B>> freeze(
                Map<String, Map<String, List<T>>> m, Function<List<T>, B> f) {
            var out = new HashMap<String, Map<String, B>>();
            m.forEach((ns, byName) -> {
                var inner = new HashMap<String, B>();
                byName.forEach((name, list) -> inner.put(name, f.apply(list)));
                out.put(ns, Map.copyOf(inner));
            });
            return Map.copyOf(out);
        }
    }
}
