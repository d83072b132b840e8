package io.ambit.xds.convert;

import io.ambit.policy.match.IpAddress;
import io.ambit.xds.proto.security.Action;
import io.ambit.xds.proto.security.Authorization;
import io.ambit.xds.proto.security.Match;
import io.ambit.xds.proto.security.Scope;
import io.ambit.xds.proto.security.StringMatch;
import java.util.List;

/**
 * A reference L4 evaluator written straight from ztunnel's rules (ztunnel-reference §6.2, authz-semantics
 * §2.10) over the proto messages, independent of the converter and the policy engine: the tests check
 * that converting and deciding with the engine gives the same answers.
 */
final class Ztunnel {
    private Ztunnel() {}

    /** A connection as the destination ztunnel sees it; principal null for plaintext. */
    record Conn(String principal, IpAddress source, IpAddress destination, int port) {
        String namespace() {
            return principal == null ? null : principal.split("/")[2];
        }

        String serviceAccount() {
            return principal == null ? null : principal.split("/")[4];
        }
    }

    static boolean allowed(List<Authorization> all, String ns, List<String> selected, Conn c) {
        var applicable = all.stream()
                .filter(a -> a.getScope() == Scope.GLOBAL
                        || (a.getScope() == Scope.NAMESPACE && a.getNamespace().equals(ns))
                        || (a.getScope() == Scope.WORKLOAD_SELECTOR
                                && selected.contains(a.getNamespace() + "/" + a.getName())))
                .filter(a -> !a.getDryRun())
                .toList();
        for (var a : applicable) {
            if (a.getAction() == Action.DENY && matches(a, c)) {
                return false;
            }
        }
        var allows =
                applicable.stream().filter(a -> a.getAction() == Action.ALLOW).toList();
        return allows.isEmpty() || allows.stream().anyMatch(a -> matches(a, c));
    }

    static boolean matches(Authorization a, Conn c) {
        for (var rule : a.getRulesList()) {
            boolean all = true;
            for (var clause : rule.getClausesList()) {
                if (clause.getMatchesCount() == 0) {
                    continue;
                }
                boolean any = false;
                for (var m : clause.getMatchesList()) {
                    if (!empty(m) && matches(m, c)) {
                        any = true;
                        break;
                    }
                }
                if (!any) {
                    all = false;
                    break;
                }
            }
            if (all) {
                return true;
            }
        }
        return false;
    }

    private static boolean empty(Match m) {
        return m.getNamespacesCount()
                        + m.getNotNamespacesCount()
                        + m.getPrincipalsCount()
                        + m.getNotPrincipalsCount()
                        + m.getSourceIpsCount()
                        + m.getNotSourceIpsCount()
                        + m.getDestinationIpsCount()
                        + m.getNotDestinationIpsCount()
                        + m.getDestinationPortsCount()
                        + m.getNotDestinationPortsCount()
                        + m.getServiceAccountsCount()
                        + m.getNotServiceAccountsCount()
                == 0;
    }

    private static boolean matches(Match m, Conn c) {
        return field(m.getNamespacesList(), m.getNotNamespacesList(), s -> string(s, c.namespace()))
                && field(m.getPrincipalsList(), m.getNotPrincipalsList(), s -> string(s, c.principal()))
                && field(m.getSourceIpsList(), m.getNotSourceIpsList(), a -> cidr(a, c.source()))
                && field(m.getDestinationIpsList(), m.getNotDestinationIpsList(), a -> cidr(a, c.destination()))
                && field(m.getDestinationPortsList(), m.getNotDestinationPortsList(), p -> p == c.port())
                && field(
                        m.getServiceAccountsList(),
                        m.getNotServiceAccountsList(),
                        sa -> c.principal() != null
                                && sa.getNamespace().equals(c.namespace())
                                && sa.getServiceAccount().equals(c.serviceAccount()));
    }

    private static <T> boolean field(List<T> positive, List<T> negative, java.util.function.Predicate<T> test) {
        if (!positive.isEmpty() && positive.stream().noneMatch(test)) {
            return false;
        }
        return negative.stream().noneMatch(test);
    }

    private static boolean string(StringMatch s, String value) {
        if (value == null) {
            return false;
        }
        return switch (s.getMatchTypeCase()) {
            case EXACT -> value.equals(s.getExact());
            case PREFIX -> value.startsWith(s.getPrefix());
            case SUFFIX -> value.endsWith(s.getSuffix());
            case PRESENCE -> true;
            case MATCHTYPE_NOT_SET -> false;
        };
    }

    private static boolean cidr(io.ambit.xds.proto.security.Address a, IpAddress ip) {
        return Addresses.cidr(a.getAddress(), a.getLength()).contains(ip);
    }
}
