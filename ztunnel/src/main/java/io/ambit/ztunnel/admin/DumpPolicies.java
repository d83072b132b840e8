package io.ambit.ztunnel.admin;

import io.ambit.policy.crd.Action;
import io.ambit.policy.crd.Condition;
import io.ambit.policy.crd.ConditionKey;
import io.ambit.policy.crd.MtlsMode;
import io.ambit.policy.crd.Operation;
import io.ambit.policy.crd.PeerAuthentication;
import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.crd.Rule;
import io.ambit.policy.crd.Selector;
import io.ambit.policy.crd.Source;
import io.ambit.xds.convert.PolicyLabels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The {@code policies} of {@code /config_dump} in ztunnel's shape, which {@code istioctl ztunnel-config}
 * decodes into {@code {name, namespace, scope, action, rules: [[[match]]]}}: the L4 Authorizations istiod
 * would send this node (authz-semantics §2.10, ztunnel-reference §4.5/§6.1). A rule becomes a group of
 * clauses (the {@code from} sources, the {@code to} ports, one per {@code when}); an ALLOW rule with an
 * HTTP attribute is left out, a DENY one keeps only its L4 fields (an emptied match is {@code {}}, which
 * ztunnel skips). Policies ztunnel never receives (targetRefs, CUSTOM, AUDIT) are not listed. STRICT
 * PeerAuthentications appear as the DENY policies istiod converts them into. {@code kind} is ours (Go
 * ignores it), naming what the entry came from.
 */
final class DumpPolicies {
    private static final String PRESENCE = "{\"Presence\": {}}";

    private DumpPolicies() {}

    static void append(StringBuilder b, PolicySet set, String rootNamespace) {
        String sep = "";
        for (var p : set.authorizationPolicies()) {
            if (!p.targetRefs().isEmpty() || (p.action() != Action.ALLOW && p.action() != Action.DENY)) {
                continue; // never sent to ztunnel
            }
            b.append(sep).append("\n  {");
            ConfigDump.field(b, "kind", "AuthorizationPolicy").append(", ");
            ConfigDump.field(b, "name", p.meta().name()).append(", ");
            ConfigDump.field(b, "namespace", p.meta().namespace()).append(", ");
            ConfigDump.field(b, "scope", scope(p.selector(), p.meta().namespace(), rootNamespace))
                    .append(", ");
            ConfigDump.field(b, "action", p.action() == Action.ALLOW ? "Allow" : "Deny")
                    .append(", ");
            b.append("\"dryRun\": ").append(p.dryRun()).append(", \"rules\": [");
            String rs = "";
            for (Rule r : p.rules()) {
                if (p.action() == Action.ALLOW && httpOnly(r)) {
                    continue; // istiod drops the whole rule
                }
                b.append(rs);
                group(b, r, p.meta().namespace());
                rs = ", ";
            }
            b.append("]}");
            sep = ",";
        }
        for (var pa : set.peerAuthentications()) {
            String rules = strictRules(pa);
            if (rules == null) {
                continue; // nothing for ztunnel to enforce
            }
            boolean meshWide = pa.selector().isEmpty() && pa.meta().namespace().equals(rootNamespace);
            b.append(sep).append("\n  {");
            ConfigDump.field(b, "kind", "PeerAuthentication").append(", ");
            ConfigDump.field(
                            b,
                            "name",
                            meshWide
                                    ? "istio_converted_static_strict"
                                    : "converted_peer_authentication_"
                                            + pa.meta().name())
                    .append(", ");
            ConfigDump.field(b, "namespace", pa.meta().namespace()).append(", ");
            ConfigDump.field(b, "scope", scope(pa.selector(), pa.meta().namespace(), rootNamespace))
                    .append(", ");
            ConfigDump.field(b, "action", "Deny").append(", ");
            ConfigDump.field(b, "mode", String.valueOf(pa.mode())).append(", ");
            b.append("\"dryRun\": false, \"rules\": ").append(rules).append('}');
            sep = ",";
        }
    }

    /** ztunnel's scope names; xDS policies carry their scope in the engine's synthetic selector labels. */
    static String scope(Selector selector, String namespace, String rootNamespace) {
        if (selector.isEmpty()) {
            return namespace.equals(rootNamespace) ? "Global" : "Namespace";
        }
        if (selector.matchLabels().size() == 1 && selector.matchLabels().containsKey(PolicyLabels.NAMESPACE_LABEL)) {
            return "Namespace";
        }
        return "WorkloadSelector";
    }

    /**
     * The DENY rules of a STRICT PeerAuthentication: no peer identity (and, with port exceptions, on the
     * ports that are STRICT); null when the policy makes nothing STRICT.
     */
    private static String strictRules(PeerAuthentication pa) {
        var strictPorts = new TreeSet<Integer>();
        var otherPorts = new TreeSet<Integer>();
        for (Map.Entry<Integer, MtlsMode> e : pa.portLevelMtls().entrySet()) {
            if (e.getValue() == MtlsMode.STRICT) {
                strictPorts.add(e.getKey());
            } else if (e.getValue() != MtlsMode.UNSET) {
                otherPorts.add(e.getKey());
            }
        }
        String noIdentity = "[{\"notPrincipals\": [" + PRESENCE + "]}]";
        if (pa.mode() == MtlsMode.STRICT) {
            return otherPorts.isEmpty()
                    ? "[[" + noIdentity + "]]"
                    : "[[" + noIdentity + ", [{\"notDestinationPorts\": " + otherPorts + "}]]]";
        }
        if (!strictPorts.isEmpty()) {
            return "[[" + noIdentity + ", [{\"destinationPorts\": " + strictPorts + "}]]]";
        }
        return null;
    }

    /** Whether istiod would count the rule as L7 (authz-semantics §2.10). */
    static boolean httpOnly(Rule r) {
        if (r.to() != null) {
            for (Operation o : r.to()) {
                if (!o.hosts().isEmpty()
                        || !o.notHosts().isEmpty()
                        || !o.methods().isEmpty()
                        || !o.notMethods().isEmpty()
                        || !o.paths().isEmpty()
                        || !o.notPaths().isEmpty()) {
                    return true;
                }
            }
        }
        if (r.from() != null) {
            for (Source s : r.from()) {
                if (!s.requestPrincipals().isEmpty()
                        || !s.notRequestPrincipals().isEmpty()
                        || !s.remoteIpBlocks().isEmpty()
                        || !s.notRemoteIpBlocks().isEmpty()) {
                    return true;
                }
            }
        }
        for (Condition c : r.when()) {
            if (!ConditionKey.parse(c.key()).isL4()) {
                return true;
            }
        }
        return false;
    }

    private static void group(StringBuilder b, Rule r, String policyNamespace) {
        b.append('[');
        String cs = "";
        if (r.from() != null) {
            b.append(cs).append('[');
            String ms = "";
            for (Source s : r.from()) {
                b.append(ms).append('{');
                var f = new Fields(b);
                f.strings("principals", s.principals());
                f.strings("notPrincipals", s.notPrincipals());
                f.strings("namespaces", s.namespaces());
                f.strings("notNamespaces", s.notNamespaces());
                f.serviceAccounts("serviceAccounts", s.serviceAccounts(), policyNamespace);
                f.serviceAccounts("notServiceAccounts", s.notServiceAccounts(), policyNamespace);
                f.cidrs("sourceIps", s.ipBlocks());
                f.cidrs("notSourceIps", s.notIpBlocks());
                b.append('}');
                ms = ", ";
            }
            b.append(']');
            cs = ", ";
        }
        if (r.to() != null) {
            b.append(cs).append('[');
            String ms = "";
            for (Operation o : r.to()) {
                b.append(ms).append('{');
                var f = new Fields(b);
                f.ports("destinationPorts", o.ports());
                f.ports("notDestinationPorts", o.notPorts());
                b.append('}');
                ms = ", ";
            }
            b.append(']');
            cs = ", ";
        }
        for (Condition c : r.when()) {
            b.append(cs).append("[{");
            var f = new Fields(b);
            switch (c.key()) {
                case "source.ip" -> {
                    f.cidrs("sourceIps", c.values());
                    f.cidrs("notSourceIps", c.notValues());
                }
                case "destination.ip" -> {
                    f.cidrs("destinationIps", c.values());
                    f.cidrs("notDestinationIps", c.notValues());
                }
                case "destination.port" -> {
                    f.ports("destinationPorts", c.values());
                    f.ports("notDestinationPorts", c.notValues());
                }
                case "source.namespace" -> {
                    f.strings("namespaces", c.values());
                    f.strings("notNamespaces", c.notValues());
                }
                case "source.principal" -> {
                    f.strings("principals", c.values());
                    f.strings("notPrincipals", c.notValues());
                }
                default -> {} // an HTTP-only (or extended) key: an empty match, which ztunnel skips
            }
            b.append("}]");
            cs = ", ";
        }
        b.append(']');
    }

    /** Writes the set fields of one match, comma-separated. */
    private static final class Fields {
        private final StringBuilder b;
        private String sep = "";

        Fields(StringBuilder b) {
            this.b = b;
        }

        void strings(String name, List<String> values) {
            if (values.isEmpty()) {
                return;
            }
            start(name);
            String s = "";
            for (String v : values) {
                b.append(s).append(stringMatch(v));
                s = ", ";
            }
            b.append(']');
        }

        void cidrs(String name, List<String> values) {
            if (values.isEmpty()) {
                return;
            }
            var cidrs = new ArrayList<String>(values.size());
            for (String v : values) {
                cidrs.add(v.indexOf('/') >= 0 ? v : v + (v.indexOf(':') >= 0 ? "/128" : "/32"));
            }
            start(name);
            String s = "";
            for (String v : cidrs) {
                ConfigDump.string(b.append(s), v);
                s = ", ";
            }
            b.append(']');
        }

        void ports(String name, List<String> values) {
            if (values.isEmpty()) {
                return;
            }
            start(name);
            b.append(String.join(", ", values)).append(']');
        }

        void serviceAccounts(String name, List<String> values, String policyNamespace) {
            if (values.isEmpty()) {
                return;
            }
            start(name);
            String s = "";
            for (String v : values) {
                int slash = v.indexOf('/');
                b.append(s).append('{');
                ConfigDump.field(b, "namespace", slash >= 0 ? v.substring(0, slash) : policyNamespace)
                        .append(", ");
                ConfigDump.field(b, "serviceAccount", slash >= 0 ? v.substring(slash + 1) : v)
                        .append('}');
                s = ", ";
            }
            b.append(']');
        }

        private void start(String name) {
            b.append(sep).append('"').append(name).append("\": [");
            sep = ", ";
        }

        /** Istio's string forms as ztunnel's externally tagged StringMatch. */
        private static String stringMatch(String v) {
            var out = new StringBuilder();
            if (v.equals("*")) {
                return PRESENCE;
            } else if (v.startsWith("*")) {
                ConfigDump.string(out.append("{\"Suffix\": "), v.substring(1));
            } else if (v.endsWith("*")) {
                ConfigDump.string(out.append("{\"Prefix\": "), v.substring(0, v.length() - 1));
            } else {
                ConfigDump.string(out.append("{\"Exact\": "), v);
            }
            return out.append('}').toString();
        }
    }
}
