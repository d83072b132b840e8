package io.ambit.policy.engine;

import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.engine.Decision.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Builds decisions and their sentences; the one place where wording lives. */
final class Explain {
    private Explain() {}

    static Decision matched(Phase.Hit hit, List<String> audit, String dryRun) {
        var p = hit.policy();
        boolean allow = p.action == io.ambit.policy.crd.Action.ALLOW;
        return new Decision(
                allow ? Verdict.ALLOW : Verdict.DENY,
                null,
                Reason.AUTHZ,
                p.ref,
                hit.rule(),
                allow ? 0 : 403,
                p.sentence(hit.rule()),
                audit,
                dryRun);
    }

    /** Request text quoted in explanations is cut short: explanations stay small whatever a client sends. */
    static String clip(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    static Decision noAllowPolicies(String target, List<String> audit, String dryRun) {
        return new Decision(
                Verdict.ALLOW,
                null,
                Reason.AUTHZ,
                null,
                null,
                0,
                "allowed: no DENY policy matched and no ALLOW policy applies to " + target,
                audit,
                dryRun);
    }

    static Decision noAllowMatched(
            Object[] buckets, int n, Map<String, String> labels, String target, List<String> audit, String dryRun) {
        // The text walks every applicable ALLOW policy; build it only if someone reads it.
        java.util.function.Supplier<String> text = () -> noAllowMatchedText(buckets, n, labels, target);
        return new Decision(Verdict.DENY, null, Reason.AUTHZ, null, null, 403, text, audit, dryRun);
    }

    private static String noAllowMatchedText(Object[] buckets, int n, Map<String, String> labels, String target) {
        int count = Phase.count(buckets, n, Phase.ALLOW, labels);
        var sb = new StringBuilder("no ALLOW policy matched; ")
                .append(count)
                .append(count == 1 ? " applies to " : " apply to ")
                .append(target);
        var notes = new ArrayList<String>();
        var seen = new java.util.HashSet<CompiledPolicy>();
        for (int b = 0; b < n; b++) {
            for (CompiledPolicy p : ((Attached) buckets[b]).allow) {
                if (p.note != null && (labels == null || p.selects(labels)) && seen.add(p)) {
                    notes.add(notes.size() < 3 ? p.ref + ": " + p.note : "");
                }
            }
        }
        if (!notes.isEmpty()) {
            // A few notes explain; thousands would make every denied connection pay for a novel.
            sb.append(" (").append(String.join("; ", notes.subList(0, Math.min(3, notes.size()))));
            if (notes.size() > 3) {
                sb.append("; and ").append(notes.size() - 3).append(" more with rules ztunnel ignores");
            }
            sb.append(')');
        }
        return sb.toString();
    }

    static Decision deny(Reason reason, String policy, int status, String explanation) {
        return deny(reason, policy, null, status, explanation);
    }

    static Decision deny(Reason reason, String policy, Integer rule, int status, String explanation) {
        return new Decision(Verdict.DENY, null, reason, policy, rule, status, explanation, List.of(), null);
    }

    static Decision uncomparable(UncomparableValueException e) {
        return new Decision(
                Verdict.DENY,
                null,
                Reason.UNCOMPARABLE_VALUE,
                e.policy,
                null,
                403,
                e.getMessage() + (e.policy == null ? "" : " in policy " + e.policy) + "; the request fails closed",
                List.of(),
                null);
    }

    /** AUDIT policies that matched, by reference. */
    static List<String> audit(Object[] buckets, int n, Map<String, String> labels, EvalContext c) {
        List<String> out = null;
        for (int b = 0; b < n; b++) {
            for (CompiledPolicy p : ((Attached) buckets[b]).audit) {
                if ((labels == null || p.selects(labels)) && safeMatch(p, c) >= 0) {
                    if (out == null) {
                        out = new ArrayList<>(2);
                    }
                    if (!out.contains(p.ref)) {
                        out.add(p.ref);
                    }
                }
            }
        }
        return out == null ? List.of() : out;
    }

    /**
     * What dry-run policies would have done (Istio's shadow rules): a dry-run DENY that matches would
     * deny; dry-run ALLOWs would allow only when one matches. Null when there are none.
     */
    static String dryRun(Object[] buckets, int n, Map<String, String> labels, EvalContext c) {
        List<String> parts = null;
        boolean anyAllow = false;
        String allowHit = null;
        java.util.Set<CompiledPolicy> seen = null;
        for (int b = 0; b < n; b++) {
            for (CompiledPolicy p : ((Attached) buckets[b]).dryRun) {
                if (labels != null && !p.selects(labels)) {
                    continue;
                }
                if (seen == null) {
                    seen = new java.util.HashSet<>();
                }
                if (!seen.add(p)) {
                    continue; // attached through both the Service and its waypoint
                }
                if (parts == null) {
                    parts = new ArrayList<>();
                }
                int rule = safeMatch(p, c);
                switch (p.action) {
                    case DENY -> {
                        if (rule >= 0) {
                            parts.add("dry-run DENY policy " + p.ref + " would deny (rule " + rule + ")");
                        }
                    }
                    case ALLOW -> {
                        anyAllow = true;
                        if (rule >= 0 && allowHit == null) {
                            allowHit = "dry-run ALLOW policy " + p.ref + " would allow (rule " + rule + ")";
                        }
                    }
                    default -> {}
                }
            }
        }
        if (parts == null) {
            return null;
        }
        if (anyAllow) {
            parts.add(allowHit != null ? allowHit : "dry-run ALLOW policies would deny (none matched)");
        }
        return parts.isEmpty() ? "dry-run policies would not change this decision" : String.join("; ", parts);
    }

    private static int safeMatch(CompiledPolicy p, EvalContext c) {
        try {
            return p.firstMatch(c);
        } catch (UncomparableValueException e) {
            return -1;
        }
    }

    /** Appends the dry-run summary to an explanation, so people see it in every output. */
    static Decision withDryRunText(Decision d) {
        if (d.dryRun() == null) {
            return d;
        }
        java.util.function.Supplier<String> text = () -> d.explanation() + " [" + d.dryRun() + "]";
        return new Decision(
                d.verdict(),
                d.provider(),
                d.reason(),
                d.policy(),
                d.rule(),
                d.httpStatus(),
                text,
                d.audit(),
                d.dryRun());
    }
}
