package io.ambit.policy.engine;

import io.ambit.policy.crd.Action;
import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.Condition;
import io.ambit.policy.crd.ConditionKey;
import io.ambit.policy.crd.Operation;
import io.ambit.policy.crd.Rule;
import io.ambit.policy.crd.Source;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles rules as istiod converts them for ztunnel and as ztunnel evaluates them (authz-semantics
 * §2.10). Each rule becomes a group of clauses: one for {@code to} (ports only), one for {@code from}
 * (ipBlocks, namespaces, serviceAccounts, principals), one per {@code when} (the five L4 keys). A rule
 * that uses any HTTP-only attribute is dropped whole from an ALLOW policy and stripped of its HTTP parts
 * in a DENY policy. A clause matches when it has no matches or any non-empty match matches; a match
 * left empty by stripping never matches.
 */
final class L4Compiler {
    private L4Compiler() {}

    /** The compiled groups with the index of the rule each came from, and a note on what was changed. */
    record Result(Matcher[] groups, int[] ruleIndex, String note) {}

    static Result compile(AuthorizationPolicy p) {
        var groups = new ArrayList<Matcher>();
        var index = new ArrayList<Integer>();
        var notes = new ArrayList<String>();
        String ns = p.meta().namespace();
        for (int i = 0; i < p.rules().size(); i++) {
            Rule r = p.rules().get(i);
            String http = httpOnlyAttribute(r);
            if (http != null && p.action() == Action.ALLOW) {
                notes.add("rule " + i + " uses " + http + ", which ztunnel cannot see, and is ignored at L4");
                continue;
            }
            if (http != null) {
                notes.add("rule " + i + " uses " + http + ", which ztunnel cannot see; it is enforced without it");
            }
            groups.add(group(r, ns));
            index.add(i);
        }
        return new Result(
                groups.toArray(Matcher[]::new),
                index.stream().mapToInt(Integer::intValue).toArray(),
                notes.isEmpty() ? null : String.join("; ", notes));
    }

    /** The first HTTP-only attribute a rule uses, or null when the rule is pure L4. */
    static String httpOnlyAttribute(Rule r) {
        if (r.to() != null) {
            for (Operation o : r.to()) {
                if (!o.hosts().isEmpty() || !o.notHosts().isEmpty()) {
                    return "hosts";
                }
                if (!o.methods().isEmpty() || !o.notMethods().isEmpty()) {
                    return "methods";
                }
                if (!o.paths().isEmpty() || !o.notPaths().isEmpty()) {
                    return "paths";
                }
            }
        }
        if (r.from() != null) {
            for (Source s : r.from()) {
                if (!s.requestPrincipals().isEmpty()
                        || !s.notRequestPrincipals().isEmpty()) {
                    return "requestPrincipals";
                }
                if (!s.remoteIpBlocks().isEmpty() || !s.notRemoteIpBlocks().isEmpty()) {
                    return "remoteIpBlocks";
                }
            }
        }
        for (Condition c : r.when()) {
            if (!ConditionKey.parse(c.key()).isL4()) {
                return "the condition " + c.key();
            }
        }
        return null;
    }

    private static Matcher group(Rule r, String ns) {
        var clauses = new ArrayList<L4Match[]>();
        L4Match[] from = null;
        if (r.from() != null) {
            from = clause(r.from().stream().map(s -> source(s, ns)).toList());
            clauses.add(from);
        }
        if (r.to() != null) {
            clauses.add(clause(r.to().stream().map(L4Compiler::operation).toList()));
        }
        for (Condition c : r.when()) {
            clauses.add(clause(List.of(condition(c))));
        }
        return new L4Group(clauses.toArray(L4Match[][]::new), from);
    }

    /** ztunnel: a clause keeps only its non-empty matches; with none left it can never match. */
    private static L4Match[] clause(List<L4Match> matches) {
        return matches.stream().filter(m -> !m.isEmpty()).toArray(L4Match[]::new);
    }

    private static L4Match operation(Operation o) {
        var m = new L4Match();
        m.ports = L4Match.ports(o.ports());
        m.notPorts = L4Match.ports(o.notPorts());
        return m.seal();
    }

    private static L4Match source(Source s, String ns) {
        var m = new L4Match();
        m.ips = L4Match.cidrs(s.ipBlocks());
        m.notIps = L4Match.cidrs(s.notIpBlocks());
        // ztunnel applies the generic string rule to the identity's namespace (an infix * is literal)
        m.namespaces = L4Match.strings(s.namespaces());
        m.notNamespaces = L4Match.strings(s.notNamespaces());
        m.serviceAccounts = L4Match.serviceAccounts(s.serviceAccounts(), ns);
        m.notServiceAccounts = L4Match.serviceAccounts(s.notServiceAccounts(), ns);
        // ztunnel compares principals literally: no trust-domain aliasing at L4
        m.principals = L4Match.strings(s.principals());
        m.notPrincipals = L4Match.strings(s.notPrincipals());
        // trustDomains are not carried to ztunnel; requestPrincipals/remoteIpBlocks are HTTP-only
        return m.seal();
    }

    /** One when condition; an HTTP-only key (in a DENY rule) leaves the match empty. */
    private static L4Match condition(Condition cond) {
        var key = ConditionKey.parse(cond.key());
        var m = new L4Match();
        if (!key.isL4()) {
            return m.seal();
        }
        var values = cond.values();
        var notValues = cond.notValues();
        switch (key.kind()) {
            case SOURCE_IP -> {
                m.ips = L4Match.cidrs(values);
                m.notIps = L4Match.cidrs(notValues);
            }
            case DESTINATION_IP -> {
                m.destinationIps = L4Match.cidrs(values);
                m.notDestinationIps = L4Match.cidrs(notValues);
            }
            case DESTINATION_PORT -> {
                m.ports = L4Match.ports(values);
                m.notPorts = L4Match.ports(notValues);
            }
            case SOURCE_NAMESPACE -> {
                m.namespaces = L4Match.strings(values);
                m.notNamespaces = L4Match.strings(notValues);
            }
            case SOURCE_PRINCIPAL -> {
                m.principals = L4Match.strings(values);
                m.notPrincipals = L4Match.strings(notValues);
            }
            case TIME_OF_DAY -> m.other = timeMatcher(TimeMatchers::timeOfDay, values, notValues);
            case DAY_OF_WEEK -> m.other = timeMatcher(TimeMatchers::dayOfWeek, values, notValues);
            default -> throw new IllegalStateException("not an L4 key: " + cond.key());
        }
        return m.seal();
    }

    private static Matcher timeMatcher(
            java.util.function.Function<List<String>, Matcher> f, List<String> values, List<String> notValues) {
        Matcher pos = values.isEmpty() ? Matcher.ANY : f.apply(values);
        Matcher neg = notValues.isEmpty() ? null : f.apply(notValues);
        return neg == null ? pos : c -> pos.test(c) && !neg.test(c);
    }
}
