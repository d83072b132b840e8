package io.ambit.bench.policy;

import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.Condition;
import io.ambit.policy.crd.Operation;
import io.ambit.policy.crd.PeerAuthentication;
import io.ambit.policy.crd.PolicyMeta;
import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.crd.Rule;
import io.ambit.policy.crd.Selector;
import io.ambit.policy.crd.Source;
import io.ambit.policy.crd.TargetRef;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes policies as the multi-document YAML a person would {@code kubectl apply}: block style for
 * structure, flow lists of double-quoted strings for values. Only what the fixture produces is
 * written; {@code MeshFixtureTest} checks that loading the text gives back the same policies.
 */
final class PolicyYaml {
    private PolicyYaml() {}

    static String render(PolicySet set) {
        var sb = new StringBuilder(set.authorizationPolicies().size() * 2048);
        for (var pa : set.peerAuthentications()) {
            peerAuthentication(sb, pa);
        }
        for (var ap : set.authorizationPolicies()) {
            authorizationPolicy(sb, ap);
        }
        return sb.toString();
    }

    private static void authorizationPolicy(StringBuilder sb, AuthorizationPolicy p) {
        header(sb, "AuthorizationPolicy", p.meta());
        selector(sb, p.selector());
        if (!p.targetRefs().isEmpty()) {
            sb.append("  targetRefs:\n");
            for (TargetRef r : p.targetRefs()) {
                sb.append("  - group: ").append(quote(r.group())).append('\n');
                sb.append("    kind: ").append(r.kind()).append('\n');
                sb.append("    name: ").append(quote(r.name())).append('\n');
            }
        }
        sb.append("  action: ").append(p.action()).append('\n');
        sb.append("  rules:\n");
        for (Rule r : p.rules()) {
            rule(sb, r);
        }
    }

    private static void rule(StringBuilder sb, Rule r) {
        if (r.from() == null && r.to() == null && r.when().isEmpty()) {
            sb.append("  - {}\n");
            return;
        }
        String lead = "  - ";
        if (r.from() != null) {
            sb.append(lead).append("from:\n");
            lead = "    ";
            for (Source s : r.from()) {
                sb.append("    - source:\n");
                field(sb, "principals", s.principals());
                field(sb, "notPrincipals", s.notPrincipals());
                field(sb, "namespaces", s.namespaces());
                field(sb, "notNamespaces", s.notNamespaces());
                field(sb, "ipBlocks", s.ipBlocks());
                field(sb, "notIpBlocks", s.notIpBlocks());
            }
        }
        if (r.to() != null) {
            sb.append(lead).append("to:\n");
            lead = "    ";
            for (Operation o : r.to()) {
                sb.append("    - operation:\n");
                field(sb, "hosts", o.hosts());
                field(sb, "ports", o.ports());
                field(sb, "methods", o.methods());
                field(sb, "paths", o.paths());
                field(sb, "notPaths", o.notPaths());
            }
        }
        if (!r.when().isEmpty()) {
            sb.append(lead).append("when:\n");
            for (Condition c : r.when()) {
                sb.append("    - key: ").append(quote(c.key())).append('\n');
                if (!c.values().isEmpty()) {
                    sb.append("      values: ").append(list(c.values())).append('\n');
                }
                if (!c.notValues().isEmpty()) {
                    sb.append("      notValues: ").append(list(c.notValues())).append('\n');
                }
            }
        }
    }

    private static void peerAuthentication(StringBuilder sb, PeerAuthentication p) {
        header(sb, "PeerAuthentication", p.meta());
        selector(sb, p.selector());
        sb.append("  mtls:\n    mode: ").append(p.mode()).append('\n');
        if (!p.portLevelMtls().isEmpty()) {
            sb.append("  portLevelMtls:\n");
            new TreeMap<>(p.portLevelMtls()).forEach((port, mode) -> sb.append("    ")
                    .append(port)
                    .append(":\n      mode: ")
                    .append(mode)
                    .append('\n'));
        }
    }

    private static void header(StringBuilder sb, String kind, PolicyMeta meta) {
        sb.append("---\napiVersion: security.istio.io/v1\nkind: ").append(kind).append('\n');
        sb.append("metadata:\n  name: ")
                .append(meta.name())
                .append("\n  namespace: ")
                .append(meta.namespace());
        sb.append("\nspec:\n");
    }

    private static void selector(StringBuilder sb, Selector s) {
        if (s.isEmpty()) {
            return;
        }
        sb.append("  selector:\n    matchLabels:\n");
        for (Map.Entry<String, String> e : new TreeMap<>(s.matchLabels()).entrySet()) {
            sb.append("      ")
                    .append(e.getKey())
                    .append(": ")
                    .append(quote(e.getValue()))
                    .append('\n');
        }
    }

    private static void field(StringBuilder sb, String name, List<String> values) {
        if (!values.isEmpty()) {
            sb.append("        ").append(name).append(": ").append(list(values)).append('\n');
        }
    }

    private static String list(List<String> values) {
        var sb = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(quote(values.get(i)));
        }
        return sb.append(']').toString();
    }

    /** A YAML double-quoted scalar; the fixture's values need only the two escapes. */
    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
