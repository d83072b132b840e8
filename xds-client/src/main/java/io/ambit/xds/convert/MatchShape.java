package io.ambit.xds.convert;

import io.ambit.policy.crd.Condition;
import io.ambit.policy.crd.Operation;
import io.ambit.policy.crd.Rule;
import io.ambit.policy.crd.Source;
import io.ambit.xds.proto.security.Match;
import io.ambit.xds.proto.security.ServiceAccountMatch;
import io.ambit.xds.proto.security.StringMatch;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One authorization.proto Match, its values written as the CRD writes them: strings in Istio's
 * {@code "*"}/{@code "x*"}/{@code "*x"} form, CIDRs as text, ports as decimals, service accounts as
 * {@code ns/sa}. Each field is a positive and a negative list; null means unset.
 *
 * <p>Values that can never match a peer are dropped here rather than mistranslated: an exact namespace
 * or principal with a leading or trailing {@code *} (the CRD form would read it as a wildcard, and
 * identities never contain {@code *}), an empty exact value (identities have no empty parts), a port
 * over 65535. A positive list left empty makes the match {@link Kind#NEVER}; a negative list left empty
 * is unset; a match whose fields all became unset that way holds for every connection ({@link Kind#ALWAYS}).
 */
final class MatchShape {
    enum Kind {
        /** No field was set at all: ztunnel skips the match. */
        EMPTY,
        /** A positive field has no value that can match. */
        NEVER,
        /** Every field set was a negative one with no value that can match. */
        ALWAYS,
        SOME
    }

    private Kind kind = Kind.SOME;
    List<String> namespaces;
    List<String> notNamespaces;
    List<String> principals;
    List<String> notPrincipals;
    List<String> sourceIps;
    List<String> notSourceIps;
    List<String> destinationIps;
    List<String> notDestinationIps;
    List<String> ports;
    List<String> notPorts;
    List<String> serviceAccounts;
    List<String> notServiceAccounts;

    Kind kind() {
        return kind;
    }

    static MatchShape of(Match m, String where) {
        var s = new MatchShape();
        boolean anySet = m.getNamespacesCount()
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
                > 0;
        if (!anySet) {
            s.kind = Kind.EMPTY;
            return s;
        }
        s.namespaces = s.positive(strings(m.getNamespacesList()));
        s.notNamespaces = negative(strings(m.getNotNamespacesList()));
        s.principals = s.positive(strings(m.getPrincipalsList()));
        s.notPrincipals = negative(strings(m.getNotPrincipalsList()));
        s.sourceIps = s.positive(cidrs(m.getSourceIpsList(), where + ".source_ips"));
        s.notSourceIps = negative(cidrs(m.getNotSourceIpsList(), where + ".not_source_ips"));
        s.destinationIps = s.positive(cidrs(m.getDestinationIpsList(), where + ".destination_ips"));
        s.notDestinationIps = negative(cidrs(m.getNotDestinationIpsList(), where + ".not_destination_ips"));
        s.ports = s.positive(ports(m.getDestinationPortsList()));
        s.notPorts = negative(ports(m.getNotDestinationPortsList()));
        s.serviceAccounts = s.positive(serviceAccounts(m.getServiceAccountsList()));
        s.notServiceAccounts = negative(serviceAccounts(m.getNotServiceAccountsList()));
        if (s.kind == Kind.SOME && s.kinds() == 0) {
            s.kind = Kind.ALWAYS;
        }
        return s;
    }

    // ---- the natural (istiod) shape

    /** Only source fields: fits one {@code from} source. */
    boolean sourceOnly() {
        return destinationIps == null && notDestinationIps == null && ports == null && notPorts == null;
    }

    /** Only port fields: fits one {@code to} operation. */
    boolean portsOnly() {
        return kinds() == 1 && (ports != null || notPorts != null);
    }

    /** The match as one {@code when} condition, when it holds one attribute that has a key; else null. */
    Condition condition() {
        if (kinds() != 1) {
            return null;
        }
        if (namespaces != null || notNamespaces != null) {
            return condition("source.namespace", namespaces, notNamespaces);
        }
        if (principals != null || notPrincipals != null) {
            return condition("source.principal", principals, notPrincipals);
        }
        if (sourceIps != null || notSourceIps != null) {
            return condition("source.ip", sourceIps, notSourceIps);
        }
        if (destinationIps != null || notDestinationIps != null) {
            return condition("destination.ip", destinationIps, notDestinationIps);
        }
        if (ports != null || notPorts != null) {
            return condition("destination.port", ports, notPorts);
        }
        return null; // service accounts have no L4 condition key
    }

    Source source() {
        return new Source(
                or(principals),
                or(notPrincipals),
                List.of(),
                List.of(),
                or(namespaces),
                or(notNamespaces),
                or(serviceAccounts),
                or(notServiceAccounts),
                or(sourceIps),
                or(notSourceIps),
                List.of(),
                List.of(),
                List.of(),
                List.of());
    }

    Operation operation() {
        return new Operation(List.of(), List.of(), or(ports), or(notPorts), List.of(), List.of(), List.of(), List.of());
    }

    // ---- any other shape

    /**
     * The AND of several matches as one CRD rule: each (positive, negative) pair of each match becomes its
     * own {@code when} condition (conditions are AND'd), and the service-account lists, which have no
     * condition key, are intersected (positive) and united (negative) into one {@code from} source —
     * exact, since service accounts match by equality. Null when the intersection is empty: never holds.
     */
    static Rule conjunction(List<MatchShape> matches) {
        var when = new ArrayList<Condition>();
        Set<String> sa = null;
        Set<String> notSa = null;
        for (var m : matches) {
            add(when, "source.namespace", m.namespaces, m.notNamespaces);
            add(when, "source.principal", m.principals, m.notPrincipals);
            add(when, "source.ip", m.sourceIps, m.notSourceIps);
            add(when, "destination.ip", m.destinationIps, m.notDestinationIps);
            add(when, "destination.port", m.ports, m.notPorts);
            if (m.serviceAccounts != null) {
                if (sa == null) {
                    sa = new LinkedHashSet<>(m.serviceAccounts);
                } else {
                    sa.retainAll(m.serviceAccounts);
                }
            }
            if (m.notServiceAccounts != null) {
                if (notSa == null) {
                    notSa = new LinkedHashSet<>();
                }
                notSa.addAll(m.notServiceAccounts);
            }
        }
        if (sa != null && sa.isEmpty()) {
            return null;
        }
        List<Source> from = null;
        if (sa != null || notSa != null) {
            var s = new MatchShape();
            s.serviceAccounts = sa == null ? null : List.copyOf(sa);
            s.notServiceAccounts = notSa == null ? null : List.copyOf(notSa);
            from = List.of(s.source());
        }
        return new Rule(from, null, when);
    }

    private static void add(List<Condition> when, String key, List<String> values, List<String> notValues) {
        if (values != null || notValues != null) {
            when.add(condition(key, values, notValues));
        }
    }

    private static Condition condition(String key, List<String> values, List<String> notValues) {
        return new Condition(key, or(values), or(notValues));
    }

    // ---- value conversion

    /** How many attributes are set (a positive and a negative list of one attribute count once). */
    private int kinds() {
        int n = 0;
        n += namespaces != null || notNamespaces != null ? 1 : 0;
        n += principals != null || notPrincipals != null ? 1 : 0;
        n += sourceIps != null || notSourceIps != null ? 1 : 0;
        n += destinationIps != null || notDestinationIps != null ? 1 : 0;
        n += ports != null || notPorts != null ? 1 : 0;
        n += serviceAccounts != null || notServiceAccounts != null ? 1 : 0;
        return n;
    }

    /** null when unset; makes the match NEVER when values were given but none can match. */
    private List<String> positive(Converted c) {
        if (c.given == 0) {
            return null;
        }
        if (c.values.isEmpty()) {
            kind = Kind.NEVER;
            return null;
        }
        return c.values;
    }

    /** null when unset or when no value can match (then the negation always holds). */
    private static List<String> negative(Converted c) {
        return c.values.isEmpty() ? null : c.values;
    }

    private record Converted(int given, List<String> values) {}

    private static Converted strings(List<StringMatch> list) {
        var out = new ArrayList<String>(list.size());
        for (var m : list) {
            String v = string(m);
            if (v != null) {
                out.add(v);
            }
        }
        return new Converted(list.size(), out);
    }

    /** Istio's string form of one StringMatch, or null when it can never match an identity part. */
    private static String string(StringMatch m) {
        return switch (m.getMatchTypeCase()) {
            case EXACT -> {
                String v = m.getExact();
                yield v.isEmpty() || v.startsWith("*") || v.endsWith("*") ? null : v;
            }
            case PREFIX -> {
                String v = m.getPrefix();
                yield v.isEmpty() ? "*" : v.startsWith("*") ? null : v + "*";
            }
            case SUFFIX -> m.getSuffix().isEmpty() ? "*" : "*" + m.getSuffix();
            case PRESENCE -> "*";
            case MATCHTYPE_NOT_SET -> null;
        };
    }

    private static Converted cidrs(List<io.ambit.xds.proto.security.Address> list, String where) {
        var out = new ArrayList<String>(list.size());
        for (int i = 0; i < list.size(); i++) {
            var a = list.get(i);
            try {
                out.add(Addresses.cidr(a.getAddress(), a.getLength()).toString());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + "[" + i + "]: " + e.getMessage());
            }
        }
        return new Converted(list.size(), out);
    }

    private static Converted ports(List<Integer> list) {
        var out = new ArrayList<String>(list.size());
        for (int p : list) {
            if (p >= 0 && p <= 65535) { // a uint32 over 65535 names no port
                out.add(Integer.toString(p));
            }
        }
        return new Converted(list.size(), out);
    }

    private static Converted serviceAccounts(List<ServiceAccountMatch> list) {
        var out = new ArrayList<String>(list.size());
        for (var m : list) {
            if (!m.getNamespace().isEmpty() && !m.getServiceAccount().isEmpty()) {
                out.add(m.getNamespace() + "/" + m.getServiceAccount());
            }
        }
        return new Converted(list.size(), out);
    }

    private static List<String> or(List<String> l) {
        return l == null ? List.of() : l;
    }
}
