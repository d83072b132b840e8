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
 * are ignored. Nothing set means PERMISSIVE.
 */
final class PeerAuthIndex {
    /** The mode for one connection and the policy that set it (null when nothing did). */
    record Resolved(MtlsMode mode, String policy, boolean portLevel) {
        boolean strict() {
            return mode == MtlsMode.STRICT;
        }
    }

    private static final Resolved DEFAULT = new Resolved(MtlsMode.PERMISSIVE, null, false);
    private static final Comparator<PeerAuthentication> OLDEST_FIRST = Comparator.comparing(
                    (PeerAuthentication p) -> p.meta().created(), Comparator.nullsLast(Comparator.naturalOrder()))
            .thenComparingLong(p -> p.meta().order());

    private final PeerAuthentication mesh;
    private final Map<String, PeerAuthentication> namespaces;
    private final Map<String, List<PeerAuthentication>> workloads;

    PeerAuthIndex(List<PeerAuthentication> all, String root) {
        var sorted = new ArrayList<>(all);
        sorted.sort(OLDEST_FIRST);
        PeerAuthentication m = null;
        var ns = new HashMap<String, PeerAuthentication>();
        var wl = new HashMap<String, List<PeerAuthentication>>();
        for (var p : sorted) {
            String n = p.meta().namespace();
            if (p.selector().isEmpty()) {
                if (n.equals(root)) {
                    m = m == null ? p : m;
                } else {
                    ns.putIfAbsent(n, p);
                }
            } else if (!n.equals(root)) {
                wl.computeIfAbsent(n, k -> new ArrayList<>()).add(p);
            }
        }
        this.mesh = m;
        this.namespaces = Map.copyOf(ns);
        var frozen = new HashMap<String, List<PeerAuthentication>>();
        wl.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
        this.workloads = Map.copyOf(frozen);
    }

    boolean isEmpty() {
        return mesh == null && namespaces.isEmpty() && workloads.isEmpty();
    }

    Resolved resolve(String ns, Map<String, String> labels, int port) {
        PeerAuthentication workload = null;
        var candidates = ns == null ? null : workloads.get(ns);
        if (candidates != null) {
            for (var p : candidates) {
                if (p.selector().matches(labels)) {
                    workload = p;
                    break;
                }
            }
        }
        Resolved base = DEFAULT;
        if (workload != null && workload.mode() != MtlsMode.UNSET) {
            base = new Resolved(workload.mode(), workload.meta().ref(), false);
        } else {
            var n = ns == null ? null : namespaces.get(ns);
            if (n != null && n.mode() != MtlsMode.UNSET) {
                base = new Resolved(n.mode(), n.meta().ref(), false);
            } else if (mesh != null && mesh.mode() != MtlsMode.UNSET) {
                base = new Resolved(mesh.mode(), mesh.meta().ref(), false);
            }
        }
        if (workload != null && port >= 0) {
            var portMode = workload.portLevelMtls().get(port);
            if (portMode != null && portMode != MtlsMode.UNSET) {
                return new Resolved(portMode, workload.meta().ref(), true);
            }
        }
        return base;
    }
}
