package io.ambit.controlplane;

import com.google.protobuf.Empty;
import io.ambit.policy.crd.Action;
import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.Condition;
import io.ambit.policy.crd.ConditionKey;
import io.ambit.policy.crd.MtlsMode;
import io.ambit.policy.crd.Operation;
import io.ambit.policy.crd.PeerAuthentication;
import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.crd.Rule;
import io.ambit.policy.crd.Source;
import io.ambit.policy.match.Cidr;
import io.ambit.xds.mesh.Workload;
import io.ambit.xds.proto.security.Address;
import io.ambit.xds.proto.security.Authorization;
import io.ambit.xds.proto.security.Clause;
import io.ambit.xds.proto.security.Match;
import io.ambit.xds.proto.security.Scope;
import io.ambit.xds.proto.security.ServiceAccountMatch;
import io.ambit.xds.proto.security.StringMatch;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What istiod does with Istio's security CRDs before ztunnel sees them (ztunnel-reference §6.1,
 * authz-semantics §2.10, §3), so the local control plane sends what istiod would:
 *
 * <ul>
 *   <li>AuthorizationPolicy → Authorization: policies with targetRefs (waypoints') and CUSTOM/AUDIT ones are
 *       not sent; scope GLOBAL (root namespace, no selector), NAMESPACE or WORKLOAD_SELECTOR, the selector
 *       resolved here into each selected workload's {@code authorization_policies}; per rule one clause for
 *       {@code from}, one for {@code to} (ports only), one per {@code when} (the five L4 keys); an ALLOW rule
 *       with an HTTP attribute is dropped, a DENY rule keeps its L4 parts (an HTTP-only match left empty
 *       never matches); {@code *} → presence, {@code *x} → suffix, {@code x*} → prefix, else exact.
 *   <li>PeerAuthentication → DENY Authorizations of connections without a peer identity. Unlike istiod's
 *       GLOBAL {@code istio_converted_static_strict}, the effective mode is resolved here per workload
 *       (workload over namespace over mesh, port-level entries), and each distinct outcome becomes one
 *       WORKLOAD_SELECTOR policy in the root namespace listed by the workloads it applies to — the same
 *       decisions, without needing ztunnel to know PeerAuthentication precedence.
 * </ul>
 *
 * Ambit's extended conditions (time of day, day of week) have no xDS form: an ALLOW rule using one is
 * dropped and a DENY rule loses that condition (both fail closed), with a warning.
 */
final class IstiodPolicies {
    private static final Logger log = LoggerFactory.getLogger(IstiodPolicies.class);

    /** The converted policies by {@code namespace/name}, and per workload uid the selector keys that select it. */
    record Result(Map<String, Authorization> authorizations, Map<String, List<String>> selectedBy) {}

    private IstiodPolicies() {}

    static Result convert(PolicySet set, List<Workload> workloads, String root) {
        var out = new TreeMap<String, Authorization>();
        var selected = new LinkedHashMap<String, List<String>>();
        workloads.forEach(w -> selected.put(w.uid(), new ArrayList<>()));
        for (var p : set.authorizationPolicies()) {
            if (!p.targetRefs().isEmpty() || (p.action() != Action.ALLOW && p.action() != Action.DENY)) {
                continue; // waypoints' policies, and actions ztunnel does not support
            }
            String ns = p.meta().namespace();
            String key = p.meta().ref();
            Scope scope;
            if (!p.selector().isEmpty()) {
                scope = Scope.WORKLOAD_SELECTOR;
                for (var w : workloads) {
                    if ((ns.equals(root) || ns.equals(w.namespace()))
                            && p.selector().matches(w.labels())) {
                        selected.get(w.uid()).add(key);
                    }
                }
            } else {
                scope = ns.equals(root) ? Scope.GLOBAL : Scope.NAMESPACE;
            }
            var a = Authorization.newBuilder()
                    .setName(p.meta().name())
                    .setNamespace(ns)
                    .setScope(scope)
                    .setAction(
                            p.action() == Action.ALLOW
                                    ? io.ambit.xds.proto.security.Action.ALLOW
                                    : io.ambit.xds.proto.security.Action.DENY)
                    .setDryRun(p.dryRun());
            for (int i = 0; i < p.rules().size(); i++) {
                var r = rule(p, i);
                if (r != null) {
                    a.addRules(r);
                }
            }
            out.put(key, a.build());
        }
        peerAuthentications(set.peerAuthentications(), workloads, root, out, selected);
        selected.replaceAll((k, v) -> List.copyOf(v));
        return new Result(out, selected);
    }

    // ---- AuthorizationPolicy rules

    private static io.ambit.xds.proto.security.Rule rule(AuthorizationPolicy p, int index) {
        Rule r = p.rules().get(index);
        boolean allow = p.action() == Action.ALLOW;
        String http = httpOnly(r);
        if (http != null && allow) {
            return null; // istiod: an ALLOW rule ztunnel cannot fully see is dropped whole
        }
        var rule = io.ambit.xds.proto.security.Rule.newBuilder();
        if (r.from() != null) {
            var c = Clause.newBuilder();
            r.from().forEach(s -> c.addMatches(source(s, p.meta().namespace())));
            rule.addClauses(c);
        }
        if (r.to() != null) {
            var c = Clause.newBuilder();
            r.to().forEach(o -> c.addMatches(operation(o)));
            rule.addClauses(c);
        }
        for (var cond : r.when()) {
            var key = ConditionKey.parse(cond.key());
            if (key.isExtended()) {
                log.warn(
                        "{} rule {}: condition {} has no xDS form; {}",
                        p.meta().ref(),
                        index,
                        cond.key(),
                        allow ? "the rule is dropped" : "the rule is enforced without it");
                if (allow) {
                    return null;
                }
                continue;
            }
            rule.addClauses(Clause.newBuilder().addMatches(condition(cond, key)));
        }
        return rule.build();
    }

    private static String httpOnly(Rule r) {
        if (r.to() != null) {
            for (Operation o : r.to()) {
                if (!o.hosts().isEmpty()
                        || !o.notHosts().isEmpty()
                        || !o.methods().isEmpty()
                        || !o.notMethods().isEmpty()
                        || !o.paths().isEmpty()
                        || !o.notPaths().isEmpty()) {
                    return "operation";
                }
            }
        }
        if (r.from() != null) {
            for (Source s : r.from()) {
                if (!s.requestPrincipals().isEmpty()
                        || !s.notRequestPrincipals().isEmpty()
                        || !s.remoteIpBlocks().isEmpty()
                        || !s.notRemoteIpBlocks().isEmpty()) {
                    return "source";
                }
            }
        }
        for (Condition c : r.when()) {
            var k = ConditionKey.parse(c.key());
            if (!k.isL4()) {
                return c.key();
            }
        }
        return null;
    }

    private static Match source(Source s, String policyNs) {
        var m = Match.newBuilder();
        s.principals().forEach(v -> m.addPrincipals(string(v)));
        s.notPrincipals().forEach(v -> m.addNotPrincipals(string(v)));
        s.namespaces().forEach(v -> m.addNamespaces(string(v)));
        s.notNamespaces().forEach(v -> m.addNotNamespaces(string(v)));
        s.serviceAccounts().forEach(v -> m.addServiceAccounts(serviceAccount(v, policyNs)));
        s.notServiceAccounts().forEach(v -> m.addNotServiceAccounts(serviceAccount(v, policyNs)));
        s.ipBlocks().forEach(v -> m.addSourceIps(cidr(v)));
        s.notIpBlocks().forEach(v -> m.addNotSourceIps(cidr(v)));
        return m.build(); // requestPrincipals/remoteIpBlocks are HTTP-only; trustDomains are not carried
    }

    private static Match operation(Operation o) {
        var m = Match.newBuilder();
        o.ports().forEach(p -> m.addDestinationPorts(Integer.parseInt(p)));
        o.notPorts().forEach(p -> m.addNotDestinationPorts(Integer.parseInt(p)));
        return m.build();
    }

    private static Match condition(Condition c, ConditionKey key) {
        var m = Match.newBuilder();
        switch (key.kind()) {
            case SOURCE_IP -> {
                c.values().forEach(v -> m.addSourceIps(cidr(v)));
                c.notValues().forEach(v -> m.addNotSourceIps(cidr(v)));
            }
            case DESTINATION_IP -> {
                c.values().forEach(v -> m.addDestinationIps(cidr(v)));
                c.notValues().forEach(v -> m.addNotDestinationIps(cidr(v)));
            }
            case DESTINATION_PORT -> {
                c.values().forEach(v -> m.addDestinationPorts(Integer.parseInt(v)));
                c.notValues().forEach(v -> m.addNotDestinationPorts(Integer.parseInt(v)));
            }
            case SOURCE_NAMESPACE -> {
                c.values().forEach(v -> m.addNamespaces(string(v)));
                c.notValues().forEach(v -> m.addNotNamespaces(string(v)));
            }
            case SOURCE_PRINCIPAL -> {
                c.values().forEach(v -> m.addPrincipals(string(v)));
                c.notValues().forEach(v -> m.addNotPrincipals(string(v)));
            }
            default -> {} // an HTTP key in a DENY rule: an empty match, which never matches (as istiod)
        }
        return m.build();
    }

    static StringMatch string(String v) {
        if (v.equals("*")) {
            return StringMatch.newBuilder()
                    .setPresence(Empty.getDefaultInstance())
                    .build();
        }
        if (v.startsWith("*")) {
            return StringMatch.newBuilder().setSuffix(v.substring(1)).build();
        }
        if (v.endsWith("*")) {
            return StringMatch.newBuilder()
                    .setPrefix(v.substring(0, v.length() - 1))
                    .build();
        }
        return StringMatch.newBuilder().setExact(v).build();
    }

    private static ServiceAccountMatch serviceAccount(String v, String policyNs) {
        int slash = v.indexOf('/');
        return ServiceAccountMatch.newBuilder()
                .setNamespace(slash < 0 ? policyNs : v.substring(0, slash))
                .setServiceAccount(slash < 0 ? v : v.substring(slash + 1))
                .build();
    }

    private static Address cidr(String text) {
        var c = Cidr.parse(text);
        return Address.newBuilder()
                .setAddress(WireForm.bytes(c.address()))
                .setLength(c.prefixLength())
                .build();
    }

    // ---- PeerAuthentication

    private static final Comparator<PeerAuthentication> OLDEST_FIRST = Comparator.comparing(
                    (PeerAuthentication p) -> p.meta().created(), Comparator.nullsLast(Comparator.naturalOrder()))
            .thenComparingLong(p -> p.meta().order());

    private static void peerAuthentications(
            List<PeerAuthentication> all,
            List<Workload> workloads,
            String root,
            Map<String, Authorization> out,
            Map<String, List<String>> selected) {
        if (all.isEmpty()) {
            return;
        }
        var sorted = new ArrayList<>(all);
        sorted.sort(OLDEST_FIRST);
        for (var w : workloads) {
            PeerAuthentication wl = null;
            PeerAuthentication ns = null;
            PeerAuthentication mesh = null;
            for (var p : sorted) {
                String n = p.meta().namespace();
                if (p.selector().isEmpty()) {
                    if (n.equals(root) && mesh == null) {
                        mesh = p;
                    } else if (!n.equals(root) && n.equals(w.namespace()) && ns == null) {
                        ns = p;
                    }
                } else if (!n.equals(root)
                        && n.equals(w.namespace())
                        && wl == null
                        && p.selector().matches(w.labels())) {
                    wl = p;
                }
            }
            MtlsMode base = MtlsMode.PERMISSIVE;
            if (mesh != null && mesh.mode() != MtlsMode.UNSET) {
                base = mesh.mode();
            }
            if (ns != null && ns.mode() != MtlsMode.UNSET) {
                base = ns.mode();
            }
            if (wl != null && wl.mode() != MtlsMode.UNSET) {
                base = wl.mode();
            }
            boolean strict = base == MtlsMode.STRICT;
            var exceptions = new TreeSet<Integer>(); // ports whose mode differs from the base
            if (wl != null) {
                for (var e : wl.portLevelMtls().entrySet()) {
                    if (e.getValue() != MtlsMode.UNSET && (e.getValue() == MtlsMode.STRICT) != strict) {
                        exceptions.add(e.getKey());
                    }
                }
            }
            if (!strict && exceptions.isEmpty()) {
                continue;
            }
            String name = "istio_converted_peer_authentication_" + (strict ? "strict" : "permissive")
                    + (exceptions.isEmpty() ? "" : (strict ? "_except_" : "_strict_on_") + join(exceptions));
            String key = root + "/" + name;
            out.computeIfAbsent(key, k -> strictDeny(root, name, strict, exceptions));
            selected.get(w.uid()).add(key);
        }
    }

    private static Authorization strictDeny(String root, String name, boolean strict, TreeSet<Integer> exceptions) {
        var rule = io.ambit.xds.proto.security.Rule.newBuilder()
                .addClauses(Clause.newBuilder()
                        .addMatches(Match.newBuilder()
                                .addNotPrincipals(StringMatch.newBuilder().setPresence(Empty.getDefaultInstance()))));
        if (!exceptions.isEmpty()) {
            var ports = Match.newBuilder();
            if (strict) {
                ports.addAllNotDestinationPorts(exceptions);
            } else {
                ports.addAllDestinationPorts(exceptions);
            }
            rule.addClauses(Clause.newBuilder().addMatches(ports));
        }
        return Authorization.newBuilder()
                .setName(name)
                .setNamespace(root)
                .setScope(Scope.WORKLOAD_SELECTOR)
                .setAction(io.ambit.xds.proto.security.Action.DENY)
                .addRules(rule)
                .build();
    }

    private static String join(TreeSet<Integer> ports) {
        var sb = new StringBuilder();
        for (int p : ports) {
            if (!sb.isEmpty()) {
                sb.append('_');
            }
            sb.append(p);
        }
        return sb.toString();
    }
}
