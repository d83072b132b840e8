package io.ambit.policy.engine;

import io.ambit.policy.crd.Action;
import io.ambit.policy.crd.Selector;
import java.util.Map;

/**
 * One AuthorizationPolicy compiled for one layer. {@code rank} orders policies by namespace and name, so
 * that when several match, the one reported is always the same.
 */
final class CompiledPolicy {
    final String ref;
    final Action action;
    final String provider;
    final boolean dryRun;
    final int rank;
    private final Matcher[] rules;
    private final int[] ruleIndex;
    /** The rules as ztunnel groups, or null for waypoint rules. */
    private final L4Group[] groups;
    /** Checked per decision for policies found through the label index; null when attachment is exact. */
    private final String[] selectorKeys;

    private final String[] selectorValues;
    /** For L4: what ztunnel's conversion changed (dropped or stripped HTTP rules), or null. */
    final String note;

    CompiledPolicy(
            String ref,
            Action action,
            String provider,
            boolean dryRun,
            int rank,
            Matcher[] rules,
            int[] ruleIndex,
            String note,
            Selector selector) {
        this.groups = java.util.Arrays.stream(rules).allMatch(r -> r instanceof L4Group)
                ? java.util.Arrays.stream(rules).map(r -> (L4Group) r).toArray(L4Group[]::new)
                : null;
        // Flat copies: selects() runs per decision, and iterating a Map allocates an iterator.
        this.selectorKeys =
                selector == null ? null : selector.matchLabels().keySet().toArray(String[]::new);
        this.selectorValues = selector == null
                ? null
                : java.util.Arrays.stream(selectorKeys)
                        .map(selector.matchLabels()::get)
                        .toArray(String[]::new);
        this.ref = ref;
        this.action = action;
        this.provider = provider;
        this.dryRun = dryRun;
        this.rank = rank;
        this.rules = rules;
        this.ruleIndex = ruleIndex;
        this.note = note;
    }

    /** One sentence per rule index, built once: the hot path never formats strings. */
    private volatile String[] sentences;

    String sentence(int rule) {
        var s = sentences;
        if (s == null) {
            int max = 0;
            if (ruleIndex == null) {
                max = rules.length;
            } else {
                for (int i : ruleIndex) {
                    max = Math.max(max, i + 1);
                }
            }
            s = new String[max];
            String verb =
                    switch (action) {
                        case ALLOW -> "allowed by ALLOW";
                        case DENY -> "denied by DENY";
                        case CUSTOM -> "sent to the external authorizer by CUSTOM";
                        case AUDIT -> "audited by AUDIT";
                    };
            for (int i = 0; i < max; i++) {
                s[i] = verb + " policy " + ref + ", rule " + i;
            }
            sentences = s;
        }
        return s[rule];
    }

    boolean selects(Map<String, String> labels) {
        if (selectorKeys == null) {
            return true;
        }
        for (int i = 0; i < selectorKeys.length; i++) {
            if (!selectorValues[i].equals(labels.get(selectorKeys[i]))) {
                return false;
            }
        }
        return true;
    }

    /** The rules as ztunnel groups, or null for waypoint rules. */
    L4Group[] groups() {
        return groups;
    }

    /** The rule index (as written) of compiled rule {@code i}. */
    int ruleIndexOf(int i) {
        return ruleIndex == null ? i : ruleIndex[i];
    }

    /** The index (in the policy as written) of the first matching rule, or -1. */
    int firstMatch(EvalContext c) {
        try {
            for (int i = 0; i < rules.length; i++) {
                if (rules[i].test(c)) {
                    return ruleIndex == null ? i : ruleIndex[i];
                }
            }
            return -1;
        } catch (UncomparableValueException e) {
            e.policy = ref;
            throw e;
        }
    }
}
