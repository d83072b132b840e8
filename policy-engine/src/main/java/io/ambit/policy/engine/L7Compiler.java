package io.ambit.policy.engine;

import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.Condition;
import io.ambit.policy.crd.ConditionKey;
import io.ambit.policy.crd.Operation;
import io.ambit.policy.crd.Rule;
import io.ambit.policy.crd.Source;
import io.ambit.policy.match.CidrSet;
import io.ambit.policy.match.StringMatcher;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Compiles rules for a waypoint: every field and condition, with Envoy's readings (L7 namespaces as
 * globs, principals with trust-domain aliases, repeated headers joined, normalized paths).
 */
final class L7Compiler {
    private final TrustDomainBundle bundle;
    private final boolean extendedMesh;

    L7Compiler(TrustDomainBundle bundle, boolean extendedMesh) {
        this.bundle = bundle;
        this.extendedMesh = extendedMesh;
    }

    Matcher[] rules(AuthorizationPolicy p) {
        boolean ext = extendedMesh || "true".equalsIgnoreCase(p.meta().annotation("ambit.io/extended-conditions"));
        String ns = p.meta().namespace();
        // A DENY (or CUSTOM) reads repeated headers both ways and matches if either does: fail closed.
        boolean denying =
                p.action() == io.ambit.policy.crd.Action.DENY || p.action() == io.ambit.policy.crd.Action.CUSTOM;
        var out = new Matcher[p.rules().size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = rule(p.rules().get(i), ns, ext, denying);
        }
        return out;
    }

    private Matcher rule(Rule r, String ns, boolean ext, boolean denying) {
        var parts = new ArrayList<Matcher>();
        if (r.from() != null) {
            parts.add(Matcher.any(r.from().stream().map(s -> source(s, ns)).toArray(Matcher[]::new)));
        }
        if (r.to() != null) {
            parts.add(Matcher.any(r.to().stream().map(o -> operation(o, ext)).toArray(Matcher[]::new)));
        }
        // Extended conditions last: an uncomparable value fails the request closed only when
        // everything else in the rule already matched.
        r.when().stream().filter(c -> !isExtendedValue(c, ext)).forEach(c -> parts.add(condition(c, ns, ext, denying)));
        r.when().stream().filter(c -> isExtendedValue(c, ext)).forEach(c -> parts.add(condition(c, ns, ext, denying)));
        return Matcher.all(parts.toArray(Matcher[]::new));
    }

    private static boolean isExtendedValue(Condition c, boolean ext) {
        return ext
                && (ConditionKey.parse(c.key()).isExtended()
                        || c.values().stream().anyMatch(ComparisonMatcher::isComparison)
                        || c.notValues().stream().anyMatch(ComparisonMatcher::isComparison));
    }

    private Matcher source(Source s, String ns) {
        var m = new ArrayList<Matcher>();
        principals(m, s.principals(), false);
        principals(m, s.notPrincipals(), true);
        requestPrincipals(m, s.requestPrincipals(), false);
        requestPrincipals(m, s.notRequestPrincipals(), true);
        namespaces(m, s.namespaces(), false);
        namespaces(m, s.notNamespaces(), true);
        serviceAccounts(m, s.serviceAccounts(), ns, false);
        serviceAccounts(m, s.notServiceAccounts(), ns, true);
        ips(m, s.ipBlocks(), c -> c.request.sourceIp(), false);
        ips(m, s.notIpBlocks(), c -> c.request.sourceIp(), true);
        ips(m, s.remoteIpBlocks(), c -> c.request.remoteIp(), false);
        ips(m, s.notRemoteIpBlocks(), c -> c.request.remoteIp(), true);
        strings(m, s.trustDomains(), c -> c.peer == null ? null : c.peer.trustDomain(), false);
        strings(m, s.notTrustDomains(), c -> c.peer == null ? null : c.peer.trustDomain(), true);
        return Matcher.all(m.toArray(Matcher[]::new));
    }

    private Matcher operation(Operation o, boolean ext) {
        var m = new ArrayList<Matcher>();
        hosts(m, o.hosts(), false);
        hosts(m, o.notHosts(), true);
        ports(m, o.ports(), false);
        ports(m, o.notPorts(), true);
        strings(m, o.methods(), c -> c.request.method(), false);
        strings(m, o.notMethods(), c -> c.request.method(), true);
        paths(m, o.paths(), ext, false);
        paths(m, o.notPaths(), ext, true);
        return Matcher.all(m.toArray(Matcher[]::new));
    }

    private Matcher condition(Condition cond, String ns, boolean ext, boolean denying) {
        var key = ConditionKey.parse(cond.key());
        var m = new ArrayList<Matcher>();
        for (boolean negate : new boolean[] {false, true}) {
            List<String> values = negate ? cond.notValues() : cond.values();
            if (values.isEmpty()) {
                continue;
            }
            switch (key.kind()) {
                case REQUEST_HEADER ->
                    m.add(ComparisonMatcher.header(cond.key(), key.arg(), values, ext, negate, denying));
                case AUTH_CLAIM -> m.add(ComparisonMatcher.claim(cond.key(), key.path(), values, ext, negate));
                case SOURCE_IP -> ips(m, values, c -> c.request.sourceIp(), negate);
                case REMOTE_IP -> ips(m, values, c -> c.request.remoteIp(), negate);
                case DESTINATION_IP -> ips(m, values, c -> c.request.destinationIp(), negate);
                case SOURCE_NAMESPACE -> namespaces(m, values, negate);
                case SOURCE_PRINCIPAL -> principals(m, values, negate);
                case SOURCE_SERVICE_ACCOUNT -> serviceAccounts(m, values, ns, negate);
                case SOURCE_TRUST_DOMAIN ->
                    strings(m, values, c -> c.peer == null ? null : c.peer.trustDomain(), negate, ext);
                case AUTH_PRINCIPAL -> requestPrincipals(m, values, negate);
                case AUTH_AUDIENCES -> {
                    var sm = StringMatcher.of(values, false, ext);
                    m.add(negated(c -> c.auth != null && sm.matchesAny(c.auth.audiences()), negate));
                }
                case AUTH_PRESENTER -> strings(m, values, c -> c.auth == null ? null : c.auth.presenter(), negate, ext);
                case DESTINATION_PORT -> ports(m, values, negate);
                case CONNECTION_SNI -> strings(m, values, c -> c.request.sni(), negate, ext);
                case EXPERIMENTAL -> m.add(negate ? Matcher.ANY : Matcher.NEVER); // Envoy metadata we never have
                case TIME_OF_DAY -> m.add(negated(TimeMatchers.timeOfDay(values), negate));
                case DAY_OF_WEEK -> m.add(negated(TimeMatchers.dayOfWeek(values), negate));
                case URL_PATH -> paths(m, values, true, negate);
            }
        }
        return Matcher.all(m.toArray(Matcher[]::new));
    }

    static Matcher negated(Matcher m, boolean negate) {
        return negate ? c -> !m.test(c) : m;
    }

    private void principals(List<Matcher> out, List<String> values, boolean negate) {
        if (values.isEmpty()) {
            return;
        }
        var sm = StringMatcher.of(bundle.rewrite(values));
        out.add(negated(c -> c.peer != null && sm.matches(c.peer.principal()), negate));
    }

    private static void requestPrincipals(List<Matcher> out, List<String> values, boolean negate) {
        if (values.isEmpty()) {
            return;
        }
        var rp = new RequestPrincipalMatcher(values);
        out.add(negated(rp::matches, negate));
    }

    // L7 namespaces are globs: Envoy matches the regex ".*" + "/ns/" + value-with-*-as-.* + "/.*" on the SPIFFE URI.
    private static void namespaces(List<Matcher> out, List<String> values, boolean negate) {
        if (values.isEmpty()) {
            return;
        }
        var globs = values.stream().map(Glob::new).toArray(Glob[]::new);
        out.add(negated(
                c -> {
                    if (c.peer == null || c.peer.namespace() == null) {
                        return false;
                    }
                    for (Glob g : globs) {
                        if (g.matches(c.peer.namespace())) {
                            return true;
                        }
                    }
                    return false;
                },
                negate));
    }

    static void serviceAccounts(List<Matcher> out, List<String> values, String policyNs, boolean negate) {
        if (values.isEmpty()) {
            return;
        }
        Set<String> set = new HashSet<>();
        for (String v : values) {
            set.add(v.indexOf('/') >= 0 ? v : policyNs + "/" + v);
        }
        var frozen = Set.copyOf(set);
        out.add(negated(
                c -> c.peer != null && c.peer.namespace() != null && frozen.contains(c.peer.namespacedServiceAccount()),
                negate));
    }

    static void ips(
            List<Matcher> out,
            List<String> values,
            Function<EvalContext, io.ambit.policy.match.IpAddress> attr,
            boolean negate) {
        if (values.isEmpty()) {
            return;
        }
        var set = CidrSet.parse(values);
        out.add(negated(c -> set.contains(attr.apply(c)), negate));
    }

    static void ports(List<Matcher> out, List<String> values, boolean negate) {
        if (values.isEmpty()) {
            return;
        }
        var set = io.ambit.policy.match.PortSet.of(values);
        out.add(negated(c -> c.request.destinationPort() >= 0 && set.contains(c.request.destinationPort()), negate));
    }

    private static void strings(
            List<Matcher> out, List<String> values, Function<EvalContext, String> attr, boolean negate) {
        strings(out, values, attr, negate, false);
    }

    /** @param containsGlobs extended conditions: {@code *x*} in a condition value means "contains x" */
    private static void strings(
            List<Matcher> out,
            List<String> values,
            Function<EvalContext, String> attr,
            boolean negate,
            boolean containsGlobs) {
        if (values.isEmpty()) {
            return;
        }
        var sm = StringMatcher.of(values, false, containsGlobs);
        out.add(negated(c -> sm.matches(attr.apply(c)), negate));
    }

    private static void hosts(List<Matcher> out, List<String> values, boolean negate) {
        if (values.isEmpty()) {
            return;
        }
        var sm = StringMatcher.of(values, true, false);
        out.add(negated(c -> sm.matches(c.request.host()), negate));
    }

    private static void paths(List<Matcher> out, List<String> values, boolean ext, boolean negate) {
        if (values.isEmpty()) {
            return;
        }
        var pm = new PathMatcher(values, ext);
        out.add(negated(c -> c.path != null && pm.matches(c.path), negate));
    }
}
