package io.ambit.xds.convert;

import io.ambit.policy.crd.Action;
import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.Condition;
import io.ambit.policy.crd.Operation;
import io.ambit.policy.crd.PolicyMeta;
import io.ambit.policy.crd.Rule;
import io.ambit.policy.crd.Selector;
import io.ambit.policy.crd.Source;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.proto.security.Authorization;
import io.ambit.xds.proto.security.Clause;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * istio.security.Authorization — policies istiod has already resolved for ztunnel — into the policy
 * engine's AuthorizationPolicy model, so one engine decides for the local file and for istiod.
 *
 * <p><b>Why this is lossless.</b> The engine compiles a CRD rule exactly as istiod converts one for ztunnel
 * (authz-semantics §2.10): one clause of source matches ({@code from}), one clause of port matches
 * ({@code to}), one single-match clause per {@code when} condition, evaluated with ztunnel's group/clause
 * semantics. Every Authorization istiod produces has that shape, so it maps back field for field
 * ({@link MatchShape}). A rule of any other shape (a match mixing source and destination fields, two
 * source clauses) is rewritten into the equivalent disjunction of conjunctions, each conjunction one CRD
 * rule made of {@code when} conditions (and one {@code from} source for service accounts, whose
 * conjunction is a set intersection); that is exact too, and bounded ({@value #MAX_EXPANDED_RULES} rules
 * per policy, or the resource is refused by name). A policy-engine entry point for resolved L4 rules
 * would make the rewrite unnecessary (see the xds handoff note).
 *
 * <p><b>Scope.</b> GLOBAL becomes a policy without selector in the mesh's root namespace; NAMESPACE a policy
 * without selector in its namespace (in the root namespace: a selector on the namespace label, since the
 * engine would otherwise apply it mesh-wide); WORKLOAD_SELECTOR a selector on the synthetic label that
 * {@link PolicyLabels} gives each workload listing the policy. {@code dry_run} becomes the
 * {@code istio.io/dry-run} annotation. Unknown scope or action values are refused: guessing either would
 * apply a policy where istiod did not mean it.
 */
public final class AuthorizationConverter {
    /** The type URL istiod serves L4 policies under. */
    public static final String TYPE_URL = "type.googleapis.com/istio.security.Authorization";

    /** Bound on the rules one Authorization may expand into (see the class comment). */
    static final int MAX_EXPANDED_RULES = 256;

    private AuthorizationConverter() {}

    /**
     * @param name  the xDS resource name, which istiod sets to {@code namespace/name}
     * @param mesh  the mesh settings (root namespace)
     * @param order position among the policies, for the engine's tie-breaking
     * @throws InvalidResourceException naming what is wrong and what was expected
     */
    public static AuthorizationPolicy convert(String name, Authorization a, MeshConfig mesh, long order)
            throws InvalidResourceException {
        try {
            return convert(a, name, mesh, order);
        } catch (IllegalArgumentException e) {
            throw new InvalidResourceException(name, e.getMessage());
        }
    }

    private static AuthorizationPolicy convert(Authorization a, String name, MeshConfig mesh, long order) {
        if (a.getName().isEmpty() || a.getNamespace().isEmpty()) {
            throw new IllegalArgumentException("name or namespace is empty (expected: both)");
        }
        String key = a.getNamespace() + "/" + a.getName();
        if (!key.equals(name)) {
            throw new IllegalArgumentException("is Authorization " + key
                    + " under another resource name (expected: namespace/name, as istiod sends)");
        }
        var action =
                switch (a.getAction()) {
                    case ALLOW -> Action.ALLOW;
                    case DENY -> Action.DENY;
                    case UNRECOGNIZED ->
                        throw new IllegalArgumentException(
                                "action " + a.getActionValue() + " is unknown (expected: 0 ALLOW or 1 DENY)");
                };
        String root = mesh.rootNamespace();
        String namespace = a.getNamespace();
        Selector selector;
        switch (a.getScope()) {
            case GLOBAL -> {
                namespace = root; // the engine applies root-namespace policies without selector mesh-wide
                selector = Selector.NONE;
            }
            case NAMESPACE ->
                selector = namespace.equals(root)
                        ? new Selector(Map.of(PolicyLabels.NAMESPACE_LABEL, root))
                        : Selector.NONE;
            case WORKLOAD_SELECTOR ->
                selector = new Selector(Map.of(PolicyLabels.policyLabel(key), PolicyLabels.SELECTED));
            case UNRECOGNIZED ->
                throw new IllegalArgumentException("scope " + a.getScopeValue()
                        + " is unknown (expected: 0 GLOBAL, 1 NAMESPACE or 2 WORKLOAD_SELECTOR)");
            default -> throw new IllegalStateException();
        }

        var rules = new ArrayList<Rule>();
        for (int i = 0; i < a.getRulesCount(); i++) {
            String where = "rules[" + i + "]";
            rules.addAll(rule(a.getRules(i).getClausesList(), where));
            if (rules.size() > MAX_EXPANDED_RULES) {
                throw new IllegalArgumentException(where + " brings the policy to " + rules.size()
                        + " rules once rewritten for the policy engine (expected: at most " + MAX_EXPANDED_RULES
                        + "; istiod never sends such a shape)");
            }
        }
        var annotations = new HashMap<String, String>();
        if (a.getDryRun()) {
            annotations.put(AuthorizationPolicy.DRY_RUN_ANNOTATION, "true");
        }
        var meta = new PolicyMeta(a.getName(), namespace, annotations, null, order, "xds " + name);
        return new AuthorizationPolicy(meta, selector, List.of(), action, null, rules);
    }

    /** One Authorization rule as zero or more CRD rules (zero: it can never match). */
    private static List<Rule> rule(List<Clause> clauses, String where) {
        var kept = new ArrayList<List<MatchShape>>();
        for (int c = 0; c < clauses.size(); c++) {
            var proto = clauses.get(c).getMatchesList();
            if (proto.isEmpty()) {
                continue; // ztunnel: a clause without matches is satisfied
            }
            var matches = new ArrayList<MatchShape>();
            boolean always = false;
            for (int m = 0; m < proto.size(); m++) {
                var shape = MatchShape.of(proto.get(m), where + ".clauses[" + c + "].matches[" + m + "]");
                switch (shape.kind()) {
                    case EMPTY, NEVER -> {} // ztunnel skips an empty match; a NEVER one cannot match
                    case ALWAYS -> always = true;
                    case SOME -> matches.add(shape);
                }
            }
            if (always) {
                continue; // this clause holds whatever the connection: AND with true
            }
            if (matches.isEmpty()) {
                return List.of(); // the clause can never hold, so neither can the rule
            }
            kept.add(matches);
        }
        var natural = natural(kept);
        return natural != null ? List.of(natural) : expand(kept, where);
    }

    /**
     * The rule as istiod writes it, when the clauses have that shape: at most one clause of source-only
     * matches, at most one of port-only matches, the rest single-match clauses on one attribute; null
     * otherwise.
     */
    private static Rule natural(List<List<MatchShape>> clauses) {
        List<Source> from = null;
        List<Operation> to = null;
        var when = new ArrayList<Condition>();
        for (var clause : clauses) {
            if (clause.size() == 1 && clause.getFirst().condition() != null) {
                when.add(clause.getFirst().condition());
            } else if (from == null && clause.stream().allMatch(MatchShape::sourceOnly)) {
                from = clause.stream().map(MatchShape::source).toList();
            } else if (to == null && clause.stream().allMatch(MatchShape::portsOnly)) {
                to = clause.stream().map(MatchShape::operation).toList();
            } else {
                return null;
            }
        }
        return new Rule(from, to, when);
    }

    /** Any other shape: every way of picking one match per clause, each a conjunction as one CRD rule. */
    private static List<Rule> expand(List<List<MatchShape>> clauses, String where) {
        long combinations = 1;
        for (var c : clauses) {
            combinations *= c.size();
            if (combinations > MAX_EXPANDED_RULES) {
                throw new IllegalArgumentException(where + " has over " + MAX_EXPANDED_RULES
                        + " combinations of matches across its clauses, which the policy engine would need as"
                        + " separate rules (expected: at most " + MAX_EXPANDED_RULES
                        + "; istiod never sends such a shape)");
            }
        }
        var out = new ArrayList<Rule>();
        int[] pick = new int[clauses.size()];
        for (long n = 0; n < combinations; n++) {
            var conjunction = new ArrayList<MatchShape>(clauses.size());
            for (int i = 0; i < clauses.size(); i++) {
                conjunction.add(clauses.get(i).get(pick[i]));
            }
            var r = MatchShape.conjunction(conjunction);
            if (r != null) {
                out.add(r);
            }
            for (int i = 0; i < pick.length; i++) { // next combination, odometer style
                if (++pick[i] < clauses.get(i).size()) {
                    break;
                }
                pick[i] = 0;
            }
        }
        return out;
    }
}
