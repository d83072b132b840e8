package io.ambit.policy.engine;

import io.ambit.policy.match.CidrSet;
import io.ambit.policy.match.PortSet;
import io.ambit.policy.match.StringMatcher;
import java.util.List;
import java.util.Set;

/**
 * One ztunnel match: the L4 fields of one source, one operation or one condition, each a positive and a
 * negative set; unset fields are null. Evaluated as straight-line code on one class, so the JIT inlines
 * it (a decision walks tens of these; megamorphic lambdas would cost more than the matching).
 */
final class L4Match {
    CidrSet ips;
    CidrSet notIps;
    CidrSet destinationIps;
    CidrSet notDestinationIps;
    StringMatcher namespaces;
    StringMatcher notNamespaces;
    Set<String> serviceAccounts;
    Set<String> notServiceAccounts;
    StringMatcher principals;
    StringMatcher notPrincipals;
    PortSet ports;
    PortSet notPorts;
    /** Extended time conditions; null almost always. */
    Matcher other;

    private boolean empty = true;

    /** True when no field was set: ztunnel skips such a match, so it never matches. */
    boolean isEmpty() {
        return empty;
    }

    static CidrSet cidrs(List<String> values) {
        return values.isEmpty() ? null : CidrSet.parse(values);
    }

    static StringMatcher strings(List<String> values) {
        return values.isEmpty() ? null : StringMatcher.of(values);
    }

    static PortSet ports(List<String> values) {
        return values.isEmpty() ? null : PortSet.of(values);
    }

    static Set<String> serviceAccounts(List<String> values, String policyNs) {
        if (values.isEmpty()) {
            return null;
        }
        return Set.copyOf(values.stream()
                .map(v -> v.indexOf('/') >= 0 ? v : policyNs + "/" + v)
                .toList());
    }

    /** Recomputes emptiness after the fields were set. */
    L4Match seal() {
        empty = ips == null
                && notIps == null
                && destinationIps == null
                && notDestinationIps == null
                && namespaces == null
                && notNamespaces == null
                && serviceAccounts == null
                && notServiceAccounts == null
                && principals == null
                && notPrincipals == null
                && ports == null
                && notPorts == null
                && other == null;
        return this;
    }

    boolean test(EvalContext c) {
        var r = c.request;
        var peer = c.peer;
        if (ips != null && !ips.contains(r.sourceIp())) {
            return false;
        }
        if (notIps != null && notIps.contains(r.sourceIp())) {
            return false;
        }
        if (destinationIps != null && !destinationIps.contains(r.destinationIp())) {
            return false;
        }
        if (notDestinationIps != null && notDestinationIps.contains(r.destinationIp())) {
            return false;
        }
        int port = r.destinationPort();
        if (ports != null && (port < 0 || !ports.contains(port))) {
            return false;
        }
        if (notPorts != null && port >= 0 && notPorts.contains(port)) {
            return false;
        }
        String ns = peer == null ? null : peer.namespace();
        if (namespaces != null && !namespaces.matches(ns)) {
            return false;
        }
        if (notNamespaces != null && notNamespaces.matches(ns)) {
            return false;
        }
        if (serviceAccounts != null || notServiceAccounts != null) {
            String sa = peer == null ? null : peer.namespacedServiceAccount();
            if (serviceAccounts != null && (sa == null || !serviceAccounts.contains(sa))) {
                return false;
            }
            if (notServiceAccounts != null && sa != null && notServiceAccounts.contains(sa)) {
                return false;
            }
        }
        String principal = peer == null ? null : peer.principal();
        if (principals != null && !principals.matches(principal)) {
            return false;
        }
        if (notPrincipals != null && notPrincipals.matches(principal)) {
            return false;
        }
        return other == null || other.test(c);
    }
}
