package io.ambit.policy.engine;

import java.util.Map;

/**
 * One step of a decision (CUSTOM, DENY, ALLOW, AUDIT or dry-run) over the buckets that apply: finds the
 * matching policy with the lowest rank, so the answer does not depend on bucket order.
 */
final class Phase {
    /** A matching policy and the index of its rule. */
    record Hit(CompiledPolicy policy, int rule) {}

    private Phase() {}

    /** The phases a decision walks through the buckets; CUSTOM, AUDIT and dry-run have their own loops. */
    static final int DENY = 1;

    static final int ALLOW = 2;

    static CompiledPolicy[] of(Attached a, int phase) {
        return phase == DENY ? a.deny : a.allow;
    }

    /**
     * The best match, or null. {@code labels} filters label-index candidates (null at L7).
     *
     * @throws UncomparableValueException when an extended condition met a non-number (fail closed)
     */
    static Hit best(Object[] buckets, int n, int phase, Map<String, String> labels, EvalContext c) {
        CompiledPolicy best = null;
        int bestRule = -1;
        UncomparableValueException failed = null;
        for (int b = 0; b < n; b++) {
            var bucket = (Attached) buckets[b];
            RuleIndex index = phase == DENY ? bucket.denyIndex : phase == ALLOW ? bucket.allowIndex : null;
            if (index != null) {
                // ztunnel rules never throw (no numeric conditions at L4), so the index may skip
                var hit = index.best(best == null ? null : new Hit(best, bestRule), labels, c);
                if (hit != null) {
                    best = hit.policy();
                    bestRule = hit.rule();
                }
                continue;
            }
            for (CompiledPolicy p : of(bucket, phase)) {
                if (labels != null && !p.selects(labels)) {
                    continue;
                }
                if (best != null && p.rank >= best.rank && p.groups() != null) {
                    continue; // ztunnel rules cannot throw, so one that cannot win need not run
                }
                // Every applicable policy is evaluated (no skipping past the best match) so that an
                // extended condition meeting a non-number fails the request closed whatever the
                // policies are called.
                int rule;
                try {
                    rule = p.firstMatch(c);
                } catch (UncomparableValueException e) {
                    if (failed == null || p.rank < rankOf(failed, buckets, n, phase)) {
                        failed = e;
                    }
                    continue;
                }
                if (rule >= 0 && (best == null || p.rank < best.rank)) {
                    best = p;
                    bestRule = rule;
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
        return best == null ? null : new Hit(best, bestRule);
    }

    private static int rankOf(UncomparableValueException e, Object[] buckets, int n, int phase) {
        for (int b = 0; b < n; b++) {
            for (CompiledPolicy p : of((Attached) buckets[b], phase)) {
                if (p.ref.equals(e.policy)) {
                    return p.rank;
                }
            }
        }
        return Integer.MAX_VALUE;
    }

    /** How many policies of a phase apply (distinct), for explanations. */
    static int count(Object[] buckets, int n, int phase, Map<String, String> labels) {
        int count = 0;
        var seen = new java.util.HashSet<CompiledPolicy>();
        for (int b = 0; b < n; b++) {
            for (CompiledPolicy p : of((Attached) buckets[b], phase)) {
                if ((labels == null || p.selects(labels)) && seen.add(p)) {
                    count++;
                }
            }
        }
        return count;
    }
}
