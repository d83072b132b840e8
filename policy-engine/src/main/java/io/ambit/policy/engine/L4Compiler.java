package io.ambit.policy.engine;

import io.ambit.policy.crd.Action;
import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.Condition;
import io.ambit.policy.crd.ConditionKey;
import io.ambit.policy.crd.Operation;
import io.ambit.policy.crd.Rule;
import io.ambit.policy.crd.Source;
import io.ambit.policy.match.StringMatcher;
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
        var clauses = new ArrayList<Matcher>();
        if (r.to() != null) {
            clauses.add(
                    clause(r.to().stream().map(L4Compiler::operation).collect(java.util.stream.Collectors.toList())));
        }
        if (r.from() != null) {
            clauses.add(
                    clause(r.from().stream().map(s -> source(s, ns)).collect(java.util.stream.Collectors.toList())));
        }
        for (Condition c : r.when()) {
            clauses.add(clause(java.util.Collections.singletonList(condition(c, ns))));
        }
        return Matcher.all(clauses.toArray(Matcher[]::new));
    }

    /** ztunnel: no matches = match; otherwise any non-empty match (null = empty, skipped). */
    private static Matcher clause(List<Matcher> matches) {
        if (matches.isEmpty()) {
            return Matcher.ANY;
        }
        return Matcher.any(matches.stream().filter(m -> m != null).toArray(Matcher[]::new));
    }

    private static Matcher operation(Operation o) {
        var m = new ArrayList<Matcher>();
        L7Compiler.ports(m, o.ports(), false);
        L7Compiler.ports(m, o.notPorts(), true);
        return m.isEmpty() ? null : Matcher.all(m.toArray(Matcher[]::new));
    }

    private static Matcher source(Source s, String ns) {
        var m = new ArrayList<Matcher>();
        L7Compiler.ips(m, s.ipBlocks(), c -> c.request.sourceIp(), false);
        L7Compiler.ips(m, s.notIpBlocks(), c -> c.request.sourceIp(), true);
        namespaces(m, s.namespaces(), false);
        namespaces(m, s.notNamespaces(), true);
        L7Compiler.serviceAccounts(m, s.serviceAccounts(), ns, false);
        L7Compiler.serviceAccounts(m, s.notServiceAccounts(), ns, true);
        principals(m, s.principals(), false);
        principals(m, s.notPrincipals(), true);
        // trustDomains are not carried to ztunnel; requestPrincipals/remoteIpBlocks are HTTP-only
        return m.isEmpty() ? null : Matcher.all(m.toArray(Matcher[]::new));
    }

    private static Matcher condition(Condition cond, String ns) {
        var key = ConditionKey.parse(cond.key());
        if (!key.isL4()) {
            return null;
        }
        var m = new ArrayList<Matcher>();
        for (boolean negate : new boolean[] {false, true}) {
            List<String> values = negate ? cond.notValues() : cond.values();
            switch (key.kind()) {
                case SOURCE_IP -> L7Compiler.ips(m, values, c -> c.request.sourceIp(), negate);
                case DESTINATION_IP -> L7Compiler.ips(m, values, c -> c.request.destinationIp(), negate);
                case DESTINATION_PORT -> L7Compiler.ports(m, values, negate);
                case SOURCE_NAMESPACE -> namespaces(m, values, negate);
                case SOURCE_PRINCIPAL -> principals(m, values, negate);
                case TIME_OF_DAY -> {
                    if (!values.isEmpty()) {
                        m.add(L7Compiler.negated(TimeMatchers.timeOfDay(values), negate));
                    }
                }
                case DAY_OF_WEEK -> {
                    if (!values.isEmpty()) {
                        m.add(L7Compiler.negated(TimeMatchers.dayOfWeek(values), negate));
                    }
                }
                default -> throw new IllegalStateException("not an L4 key: " + cond.key());
            }
        }
        return m.isEmpty() ? null : Matcher.all(m.toArray(Matcher[]::new));
    }

    /** ztunnel applies the generic string rule to the identity's namespace (an infix * is literal). */
    private static void namespaces(List<Matcher> out, List<String> values, boolean negate) {
        if (values.isEmpty()) {
            return;
        }
        var sm = StringMatcher.of(values);
        out.add(L7Compiler.negated(c -> c.peer != null && sm.matches(c.peer.namespace()), negate));
    }

    /** ztunnel compares principals literally: no trust-domain aliasing at L4. */
    private static void principals(List<Matcher> out, List<String> values, boolean negate) {
        if (values.isEmpty()) {
            return;
        }
        var sm = StringMatcher.of(values);
        out.add(L7Compiler.negated(c -> c.peer != null && sm.matches(c.peer.principal()), negate));
    }
}
