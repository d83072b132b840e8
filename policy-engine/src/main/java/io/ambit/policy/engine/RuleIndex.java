package io.ambit.policy.engine;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An inverted index over the ztunnel rule groups of one bucket and action, so that thousands of
 * policies applying to the same workloads (mesh-wide lists, a namespace full of policies) cost a few
 * hash probes instead of a scan. A group whose {@code from} matches each require an exact principal,
 * namespace or service account is filed under those values; a group without such a key is always a
 * candidate. Candidates are then evaluated in full, so the index only narrows, never decides.
 */
final class RuleIndex {
    /** Buckets smaller than this are scanned: an index would cost more than it saves. */
    static final int MIN_POLICIES = 8;

    /** Tests switch the index off to compare it with a plain scan. */
    static volatile boolean enabled = true;

    private final CompiledPolicy[] policies;
    private final int[] entryPolicy;
    private final int[] entryGroup;
    private final Map<String, int[]> byPrincipal;
    private final Map<String, int[]> byNamespace;
    private final Map<String, int[]> byServiceAccount;
    private final int[] always;

    private RuleIndex(
            CompiledPolicy[] policies,
            int[] entryPolicy,
            int[] entryGroup,
            Map<String, int[]> byPrincipal,
            Map<String, int[]> byNamespace,
            Map<String, int[]> byServiceAccount,
            int[] always) {
        this.policies = policies;
        this.entryPolicy = entryPolicy;
        this.entryGroup = entryGroup;
        this.byPrincipal = byPrincipal;
        this.byNamespace = byNamespace;
        this.byServiceAccount = byServiceAccount;
        this.always = always;
    }

    /** Builds an index for L4 policies, or returns null when the bucket is small or not all L4. */
    static RuleIndex build(CompiledPolicy[] policies) {
        if (!enabled || policies.length < MIN_POLICIES) {
            return null;
        }
        var ep = new ArrayList<Integer>();
        var eg = new ArrayList<Integer>();
        var principal = new HashMap<String, List<Integer>>();
        var namespace = new HashMap<String, List<Integer>>();
        var sa = new HashMap<String, List<Integer>>();
        var always = new ArrayList<Integer>();
        for (int p = 0; p < policies.length; p++) {
            var groups = policies[p].groups();
            if (groups == null) {
                return null; // L7 rules are not indexed
            }
            for (int g = 0; g < groups.length; g++) {
                int entry = ep.size();
                ep.add(p);
                eg.add(g);
                if (!file(groups[g].from, entry, principal, namespace, sa)) {
                    always.add(entry);
                }
            }
        }
        return new RuleIndex(
                policies, ints(ep), ints(eg), freeze(principal), freeze(namespace), freeze(sa), ints(always));
    }

    /** Files an entry under the exact keys of its from-clause; false when some match has none. */
    private static boolean file(
            L4Match[] from,
            int entry,
            Map<String, List<Integer>> principal,
            Map<String, List<Integer>> namespace,
            Map<String, List<Integer>> sa) {
        if (from == null || from.length == 0) {
            return false;
        }
        // Decide first, so that an unkeyed match does not leave half the keys filed.
        for (L4Match m : from) {
            if (keyOf(m) == null) {
                return false;
            }
        }
        for (L4Match m : from) {
            Set<String> keys;
            Map<String, List<Integer>> target;
            if (m.principals != null && m.principals.exactValues() != null) {
                keys = m.principals.exactValues();
                target = principal;
            } else if (m.namespaces != null && m.namespaces.exactValues() != null) {
                keys = m.namespaces.exactValues();
                target = namespace;
            } else {
                keys = m.serviceAccounts;
                target = sa;
            }
            for (String k : keys) {
                target.computeIfAbsent(k, x -> new ArrayList<>()).add(entry);
            }
        }
        return true;
    }

    private static Object keyOf(L4Match m) {
        if (m.principals != null && m.principals.exactValues() != null) {
            return m.principals;
        }
        if (m.namespaces != null && m.namespaces.exactValues() != null) {
            return m.namespaces;
        }
        return m.serviceAccounts;
    }

    /**
     * The matching (policy, rule) with the lowest (rank, rule), folded into {@code best}; returns it.
     * Each candidate is evaluated in full.
     */
    Phase.Hit best(Phase.Hit best, Map<String, String> labels, EvalContext c) {
        var peer = c.peer;
        if (peer != null) {
            best = scan(byPrincipal.get(peer.principal()), best, labels, c);
            if (peer.namespace() != null) {
                best = scan(byNamespace.get(peer.namespace()), best, labels, c);
                best = scan(byServiceAccount.get(peer.namespacedServiceAccount()), best, labels, c);
            }
        }
        return scan(always, best, labels, c);
    }

    private Phase.Hit scan(int[] entries, Phase.Hit best, Map<String, String> labels, EvalContext c) {
        if (entries == null) {
            return best;
        }
        for (int e : entries) {
            var p = policies[entryPolicy[e]];
            int rule = p.ruleIndexOf(entryGroup[e]);
            if (best != null
                    && (p.rank > best.policy().rank || (p.rank == best.policy().rank && rule >= best.rule()))) {
                continue; // cannot beat what we have
            }
            if ((labels == null || p.selects(labels)) && p.groups()[entryGroup[e]].test(c)) {
                best = new Phase.Hit(p, rule);
            }
        }
        return best;
    }

    private static int[] ints(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    private static Map<String, int[]> freeze(Map<String, List<Integer>> m) {
        var out = new HashMap<String, int[]>();
        m.forEach((k, v) -> out.put(k, ints(v)));
        return Map.copyOf(out);
    }
}
