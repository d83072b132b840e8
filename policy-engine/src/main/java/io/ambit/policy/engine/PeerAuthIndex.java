package io.ambit.policy.engine;

import io.ambit.policy.crd.MtlsMode;
import io.ambit.policy.crd.PeerAuthentication;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * PeerAuthentication resolution (authz-semantics §3): workload (selector in the workload's namespace)
 * over namespace over mesh (root namespace, no selector); the oldest wins within a scope; UNSET inherits;
 * a port entry of the workload policy overrides for that port. Root-namespace policies with a selector
 * are ignored. Nothing set means PERMISSIVE. Every answer is built when the snapshot is, so resolving
 * allocates nothing.
 */
final class PeerAuthIndex {
    /** The mode for one connection and the policy that set it (null when nothing did). */
    record Resolved(MtlsMode mode, String policy, boolean portLevel) {
        boolean strict() {
            return mode == MtlsMode.STRICT;
        }
    }

    /** A workload-scoped policy, flattened for matching. */
    private record Workload(String[] keys, String[] values, Resolved mode, Map<Integer, Resolved> ports) {
        boolean selects(Map<String, String> labels) {
            for (int i = 0; i < keys.length; i++) {
                if (!values[i].equals(labels.get(keys[i]))) {
                    return false;
                }
            }
            return true;
        }
    }

    private static final Resolved DEFAULT = new Resolved(MtlsMode.PERMISSIVE, null, false);
    private static final Comparator<PeerAuthentication> OLDEST_FIRST = Comparator.comparing(
                    (PeerAuthentication p) -> p.meta().created(), Comparator.nullsLast(Comparator.naturalOrder()))
            .thenComparingLong(p -> p.meta().order());

    private final Resolved mesh;
    private final Map<String, Resolved> namespaces;
    private final Map<String, Workload[]> workloads;

    PeerAuthIndex(List<PeerAuthentication> all, String root) {
        var sorted = new ArrayList<>(all);
        sorted.sort(OLDEST_FIRST);
        PeerAuthentication m = null;
        var ns = new HashMap<String, Resolved>();
        var seenNs = new java.util.HashSet<String>();
        var wl = new HashMap<String, List<Workload>>();
        for (var p : sorted) {
            String n = p.meta().namespace();
            if (p.selector().isEmpty()) {
                if (n.equals(root)) {
                    m = m == null ? p : m;
                } else if (seenNs.add(n) && p.mode() != MtlsMode.UNSET) {
                    ns.put(n, new Resolved(p.mode(), p.meta().ref(), false));
                }
            } else if (!n.equals(root)) {
                var labels = p.selector().matchLabels();
                var keys = labels.keySet().toArray(String[]::new);
                var values = java.util.Arrays.stream(keys).map(labels::get).toArray(String[]::new);
                var ports = new HashMap<Integer, Resolved>();
                p.portLevelMtls().forEach((port, mode) -> {
                    if (mode != MtlsMode.UNSET) {
                        ports.put(port, new Resolved(mode, p.meta().ref(), true));
                    }
                });
                var mode = p.mode() == MtlsMode.UNSET
                        ? null
                        : new Resolved(p.mode(), p.meta().ref(), false);
                wl.computeIfAbsent(n, k -> new ArrayList<>()).add(new Workload(keys, values, mode, Map.copyOf(ports)));
            }
        }
        this.mesh = m == null || m.mode() == MtlsMode.UNSET
                ? DEFAULT
                : new Resolved(m.mode(), m.meta().ref(), false);
        this.namespaces = Map.copyOf(ns);
        var frozen = new HashMap<String, Workload[]>();
        wl.forEach((k, v) -> frozen.put(k, v.toArray(Workload[]::new)));
        this.workloads = Map.copyOf(frozen);
    }

    Resolved resolve(String ns, Map<String, String> labels, int port) {
        Workload workload = null;
        var candidates = ns == null ? null : workloads.get(ns);
        if (candidates != null) {
            for (var w : candidates) {
                if (w.selects(labels)) {
                    workload = w; // sorted oldest first: the first match wins
                    break;
                }
            }
        }
        if (workload != null && port >= 0) {
            var portMode = workload.ports().get(port);
            if (portMode != null) {
                return portMode;
            }
        }
        if (workload != null && workload.mode() != null) {
            return workload.mode();
        }
        var n = ns == null ? null : namespaces.get(ns);
        return n != null ? n : mesh;
    }
}
