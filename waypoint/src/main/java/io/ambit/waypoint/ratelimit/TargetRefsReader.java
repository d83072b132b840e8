package io.ambit.waypoint.ratelimit;

import io.ambit.policy.load.Fields;
import io.ambit.policy.load.Problems;
import io.ambit.policy.load.YamlNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code targetRefs} of a rate limit, as Istio attaches waypoint policies (authz-semantics §1): a
 * Gateway (the waypoint) or Service of the policy's namespace, or the {@code istio-waypoint} GatewayClass
 * from the root namespace.
 */
final class TargetRefsReader {
    private static final Set<String> REF = Set.of("group", "kind", "name", "namespace");
    private static final String GATEWAY_API = "gateway.networking.k8s.io";

    private TargetRefsReader() {}

    static List<LocalRateLimit.Target> read(Map<String, YamlNode> spec, String namespace, String root, Problems p) {
        var out = new ArrayList<LocalRateLimit.Target>();
        var nodes = new ArrayList<YamlNode>();
        var list = Fields.listOrNull(spec.get("targetRefs"), p);
        if (list != null) {
            nodes.addAll(list);
        }
        if (spec.get("targetRef") != null && !spec.get("targetRef").isNull()) {
            nodes.add(spec.get("targetRef"));
        }
        for (var n : nodes) {
            var f = Fields.map(n, p, REF);
            String kind = Fields.required(n, f, "kind", p);
            String name = Fields.required(n, f, "name", p);
            String group = Fields.string(f.get("group"), p);
            String ns = Fields.string(f.get("namespace"), p);
            if (kind == null || name == null) {
                continue;
            }
            if (ns != null && !ns.equals(namespace)) {
                p.at(
                        f.get("namespace"),
                        "is \"" + ns + "\" (expected: the policy's own namespace \"" + namespace
                                + "\"; a targetRef into another namespace never matches)");
                continue;
            }
            group = group == null ? "" : group;
            if (kind.equals("Gateway") && group.equals(GATEWAY_API)) {
                out.add(new LocalRateLimit.Target(LocalRateLimit.Target.Kind.GATEWAY, name));
            } else if (kind.equals("Service") && (group.isEmpty() || group.equals("core"))) {
                out.add(new LocalRateLimit.Target(LocalRateLimit.Target.Kind.SERVICE, name));
            } else if (kind.equals("GatewayClass") && group.equals(GATEWAY_API) && name.equals("istio-waypoint")) {
                if (!namespace.equals(root)) {
                    p.at(
                            n,
                            "targets the istio-waypoint GatewayClass from namespace \"" + namespace
                                    + "\" (expected: such a policy in the root namespace \"" + root + "\")");
                    continue;
                }
                out.add(new LocalRateLimit.Target(LocalRateLimit.Target.Kind.ALL_WAYPOINTS, name));
            } else {
                p.at(
                        n,
                        "is kind \"" + kind + "\" of group \"" + group + "\" (expected: Gateway or GatewayClass of "
                                + GATEWAY_API + ", or Service)");
            }
        }
        return out;
    }
}
