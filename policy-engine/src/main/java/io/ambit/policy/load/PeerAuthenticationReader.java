package io.ambit.policy.load;

import io.ambit.policy.crd.MtlsMode;
import io.ambit.policy.crd.PeerAuthentication;
import io.ambit.policy.crd.PolicyMeta;
import java.util.LinkedHashMap;
import java.util.Set;

/** Reads and validates one PeerAuthentication (authz-semantics §3). */
final class PeerAuthenticationReader {
    private static final Set<String> SPEC = Set.of("selector", "mtls", "portLevelMtls");
    private static final Set<String> MTLS = Set.of("mode");

    private PeerAuthenticationReader() {}

    static PeerAuthentication read(YamlNode spec, PolicyMeta meta, Problems p) {
        var f = Fields.map(spec, p, SPEC);
        var selector = SelectorReader.read(f.get("selector"), p);
        var mode = mode(f.get("mtls"), p);
        var ports = new LinkedHashMap<Integer, MtlsMode>();
        var portsNode = f.get("portLevelMtls");
        if (portsNode != null && !portsNode.isNull()) {
            if (selector.isEmpty()) {
                p.at(
                        portsNode,
                        "is only allowed on a policy with a non-empty selector (expected: a workload "
                                + "selector, or move the port exceptions to a workload policy)");
            }
            var entries = Fields.map(portsNode, p, null);
            if (entries.isEmpty() && portsNode.isMap()) {
                p.at(portsNode, "is empty (expected: at least one port)");
            }
            for (var e : entries.entrySet()) {
                int port = -1;
                try {
                    port = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ignored) {
                    // reported below
                }
                if (port < 1 || port > 65535) {
                    p.at(e.getValue(), "port \"" + e.getKey() + "\" is not valid (expected: 1..65535)");
                    continue;
                }
                ports.put(port, mode(e.getValue(), p));
            }
        }
        return p.any() ? null : new PeerAuthentication(meta, selector, mode, ports);
    }

    private static MtlsMode mode(YamlNode mtls, Problems p) {
        if (mtls == null || mtls.isNull()) {
            return MtlsMode.UNSET;
        }
        var f = Fields.map(mtls, p, MTLS);
        var modeNode = f.get("mode");
        String text = Fields.string(modeNode, p);
        if (text == null) {
            return MtlsMode.UNSET;
        }
        try {
            return MtlsMode.valueOf(text);
        } catch (IllegalArgumentException e) {
            p.at(modeNode, "is \"" + text + "\" (expected one of: UNSET, PERMISSIVE, STRICT, DISABLE)");
            return MtlsMode.UNSET;
        }
    }
}
