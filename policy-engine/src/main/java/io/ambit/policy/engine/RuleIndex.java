package io.ambit.policy.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An inverted index over the ztunnel rule groups of one bucket and action, so that thousands of
 * policies applying to the same workloads (mesh-wide lists, a namespace full of policies) cost a few
 * probes instead of a scan. Each group is filed under one attribute it requires — an exact principal,
 * service account or namespace of the peer, or the destination port — taken from a clause whose every
 * match demands it; a group that requires none of these is always a candidate. Candidates are then
 * evaluated in full, so the index only narrows, never decides.
 */
final class RuleIndex {
    /** Buckets with fewer rule groups than this are scanned: an index would cost more than it saves. */
    static final int MIN_GROUPS = 8;

    /** Tests switch the index off to compare it with a plain scan. */
    static volatile boolean enabled = true;

    private enum Key {
        PRINCIPAL,
        SERVICE_ACCOUNT,
        NAMESPACE,
        SOURCE_CIDR,
        PORT
    }

    private final CompiledPolicy[] policies;
    private final int[] entryPolicy;
    private final int[] entryGroup;
    private final Map<String, int[]> byPrincipal;
    private final Map<String, int[]> byServiceAccount;
    private final Map<String, int[]> byNamespace;
    private final int[] ports;
    private final int[][] byPort;
    /** IPv4 source blocks: the prefix lengths in use, and (length << 32 | network) keys, sorted. */
    private final int[] cidrLengths;

    private final long[] cidrKeys;
    private final int[][] byCidr;
    private final int[] always;

    private RuleIndex(
            CompiledPolicy[] policies,
            int[] entryPolicy,
            int[] entryGroup,
            Map<String, int[]> byPrincipal,
            Map<String, int[]> byServiceAccount,
            Map<String, int[]> byNamespace,
            int[] ports,
            int[][] byPort,
            TreeMap<Long, List<Integer>> cidrs,
            int[] always) {
        this.policies = policies;
        this.entryPolicy = entryPolicy;
        this.entryGroup = entryGroup;
        this.byPrincipal = byPrincipal;
        this.byServiceAccount = byServiceAccount;
        this.byNamespace = byNamespace;
        this.ports = ports;
        this.byPort = byPort;
        this.cidrKeys = cidrs.keySet().stream().mapToLong(Long::longValue).toArray();
        this.byCidr = cidrs.values().stream().map(RuleIndex::ints).toArray(int[][]::new);
        this.cidrLengths = cidrs.keySet().stream()
                .mapToInt(k -> (int) (k >>> 32))
                .distinct()
                .sorted()
                .toArray();
        this.always = always;
    }

    /** Builds an index for L4 policies, or returns null when the bucket is small or holds waypoint rules. */
    static RuleIndex build(CompiledPolicy[] policies) {
        if (!enabled) {
            return null;
        }
        int groupCount = 0;
        for (CompiledPolicy p : policies) {
            if (p.groups() == null) {
                return null; // waypoint rules are not indexed
            }
            groupCount += p.groups().length;
        }
        if (groupCount < MIN_GROUPS) {
            return null;
        }
        var ep = new ArrayList<Integer>();
        var eg = new ArrayList<Integer>();
        var principal = new HashMap<String, List<Integer>>();
        var sa = new HashMap<String, List<Integer>>();
        var namespace = new HashMap<String, List<Integer>>();
        var port = new TreeMap<Integer, List<Integer>>();
        var cidr = new TreeMap<Long, List<Integer>>();
        var always = new ArrayList<Integer>();
        for (int p = 0; p < policies.length; p++) {
            var groups = policies[p].groups();
            for (int g = 0; g < groups.length; g++) {
                int entry = ep.size();
                ep.add(p);
                eg.add(g);
                if (!file(groups[g], entry, principal, sa, namespace, port, cidr)) {
                    always.add(entry);
                }
            }
        }
        var portKeys = port.keySet().stream().mapToInt(Integer::intValue).toArray();
        var portEntries = port.values().stream().map(RuleIndex::ints).toArray(int[][]::new);
        return new RuleIndex(
                policies,
                ints(ep),
                ints(eg),
                freeze(principal),
                freeze(sa),
                freeze(namespace),
                portKeys,
                portEntries,
                cidr,
                ints(always));
    }

    /** Files an entry under the best key some clause requires; false when no clause requires one. */
    private static boolean file(
            L4Group group,
            int entry,
            Map<String, List<Integer>> principal,
            Map<String, List<Integer>> sa,
            Map<String, List<Integer>> namespace,
            Map<Integer, List<Integer>> port,
            Map<Long, List<Integer>> cidr) {
        Key best = null;
        L4Match[] bestClause = null;
        for (L4Match[] clause : group.clauses) {
            Key k = required(clause);
            if (k != null && (best == null || k.ordinal() < best.ordinal())) {
                best = k;
                bestClause = clause;
            }
        }
        if (best == null) {
            return false;
        }
        for (L4Match m : bestClause) {
            switch (best) {
                case PRINCIPAL -> m.principals.exactValues().forEach(v -> add(principal, v, entry));
                case SERVICE_ACCOUNT -> m.serviceAccounts.forEach(v -> add(sa, v, entry));
                case NAMESPACE -> m.namespaces.exactValues().forEach(v -> add(namespace, v, entry));
                case PORT -> Arrays.stream(m.ports.toArray()).forEach(v -> add(port, v, entry));
                case SOURCE_CIDR ->
                    m.ips.cidrs()
                            .forEach(c -> add(
                                    cidr, cidrKey(c.prefixLength(), c.address().v4()), entry));
            }
        }
        return true;
    }

    /** The key every match of a clause demands (the same kind for all), or null. */
    private static Key required(L4Match[] clause) {
        if (clause.length == 0) {
            return null;
        }
        for (Key k : Key.values()) {
            boolean all = true;
            for (L4Match m : clause) {
                all &= switch (k) {
                    case PRINCIPAL -> m.principals != null && m.principals.exactValues() != null;
                    case SERVICE_ACCOUNT -> m.serviceAccounts != null;
                    case NAMESPACE -> m.namespaces != null && m.namespaces.exactValues() != null;
                    case PORT -> m.ports != null;
                    case SOURCE_CIDR ->
                        m.ips != null && m.ips.cidrs().stream().allMatch(io.ambit.policy.match.Cidr::isV4);
                };
            }
            if (all) {
                return k;
            }
        }
        return null;
    }

    /** The block of {@code address} at {@code length} bits, with the length, as one sortable key. */
    private static long cidrKey(int length, int address) {
        int mask = length == 0 ? 0 : -1 << (32 - length);
        return ((long) length << 32) | ((address & mask) & 0xffffffffL);
    }

    private static <K> void add(Map<K, List<Integer>> m, K key, int entry) {
        m.computeIfAbsent(key, x -> new ArrayList<>()).add(entry);
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
                best = scan(byServiceAccount.get(peer.namespacedServiceAccount()), best, labels, c);
                best = scan(byNamespace.get(peer.namespace()), best, labels, c);
            }
        }
        var source = c.request.sourceIp();
        if (source != null && source.isV4() && cidrKeys.length > 0) {
            int address = source.v4();
            for (int len : cidrLengths) {
                int i = Arrays.binarySearch(cidrKeys, cidrKey(len, address));
                if (i >= 0) {
                    best = scan(byCidr[i], best, labels, c);
                }
            }
        }
        int port = c.request.destinationPort();
        if (port >= 0 && ports.length > 0) {
            int i = Arrays.binarySearch(ports, port);
            if (i >= 0) {
                best = scan(byPort[i], best, labels, c);
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
