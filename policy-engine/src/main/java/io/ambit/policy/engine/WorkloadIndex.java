package io.ambit.policy.engine;

import io.ambit.policy.crd.Selector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * ztunnel attachment by namespace and labels (authz-semantics §1): root-namespace policies without a
 * selector apply to every workload; namespace policies without a selector to their namespace; selector
 * policies (in the root namespace: any namespace) to workloads whose labels contain all matchLabels.
 * Selector policies are indexed under one of their labels, so a lookup probes once per workload label
 * instead of scanning the mesh; the full selector is checked on the few candidates.
 *
 * @param <B> the frozen bucket type
 */
final class WorkloadIndex<B> {
    private final B global;
    private final Map<String, B> namespaces;
    /** namespace (root namespace = every namespace) → label key → label value → bucket. */
    private final Map<String, Map<String, Map<String, B>>> labels;

    private final String root;

    private WorkloadIndex(
            B global, Map<String, B> namespaces, Map<String, Map<String, Map<String, B>>> labels, String root) {
        this.global = global;
        this.namespaces = namespaces;
        this.labels = labels;
        this.root = root;
    }

    /**
     * Adds every bucket that may apply to a workload to {@code out}; returns the new count. Buckets from
     * the label index hold candidates whose full selector the caller still checks.
     */
    int collect(String ns, Map<String, String> workloadLabels, Object[] out, int n) {
        if (global != null) {
            out[n++] = global;
        }
        if (ns != null && !ns.equals(root)) {
            var b = namespaces.get(ns);
            if (b != null) {
                out[n++] = b;
            }
        }
        if (!workloadLabels.isEmpty()) {
            n = collectLabels(labels.get(root), workloadLabels, out, n);
            if (ns != null && !ns.equals(root)) {
                n = collectLabels(labels.get(ns), workloadLabels, out, n);
            }
        }
        return n;
    }

    private int collectLabels(
            Map<String, Map<String, B>> byKey, Map<String, String> workloadLabels, Object[] out, int n) {
        if (byKey == null) {
            return n;
        }
        for (var e : workloadLabels.entrySet()) {
            var byValue = byKey.get(e.getKey());
            if (byValue != null) {
                var b = byValue.get(e.getValue());
                if (b != null && n < out.length) {
                    out[n++] = b;
                }
            }
        }
        return n;
    }

    /** The most buckets {@link #collect} can return for a workload with that many labels. */
    static int maxBuckets(int labelCount) {
        return 2 + 2 * labelCount;
    }

    static final class Builder<T, B> {
        private final String root;
        private final List<T> global = new ArrayList<>();
        private final Map<String, List<T>> namespaces = new HashMap<>();
        private final Map<String, Map<String, Map<String, List<T>>>> labels = new HashMap<>();

        Builder(String root) {
            this.root = root;
        }

        void add(String ns, Selector selector, T item) {
            if (selector.isEmpty()) {
                if (ns.equals(root)) {
                    global.add(item);
                } else {
                    namespaces.computeIfAbsent(ns, k -> new ArrayList<>()).add(item);
                }
                return;
            }
            // Index under the smallest label key, so the same policy always lands in one bucket.
            var first = new TreeMap<>(selector.matchLabels()).firstEntry();
            labels.computeIfAbsent(ns, k -> new HashMap<>())
                    .computeIfAbsent(first.getKey(), k -> new HashMap<>())
                    .computeIfAbsent(first.getValue(), k -> new ArrayList<>())
                    .add(item);
        }

        WorkloadIndex<B> build(Function<List<T>, B> freeze) {
            var ns = new HashMap<String, B>();
            namespaces.forEach((k, v) -> ns.put(k, freeze.apply(v)));
            var lab = new HashMap<String, Map<String, Map<String, B>>>();
            labels.forEach((n, byKey) -> {
                var k2 = new HashMap<String, Map<String, B>>();
                byKey.forEach((key, byValue) -> {
                    var v2 = new HashMap<String, B>();
                    byValue.forEach((value, list) -> v2.put(value, freeze.apply(list)));
                    k2.put(key, Map.copyOf(v2));
                });
                lab.put(n, Map.copyOf(k2));
            });
            return new WorkloadIndex<>(
                    global.isEmpty() ? null : freeze.apply(global), Map.copyOf(ns), Map.copyOf(lab), root);
        }
    }
}
