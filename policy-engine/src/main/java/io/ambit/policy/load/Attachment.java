package io.ambit.policy.load;

import io.ambit.policy.crd.Selector;
import io.ambit.policy.crd.TargetRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The {@code selector} / {@code targetRef(s)} part shared by AuthorizationPolicy and RequestAuthentication. */
record Attachment(Selector selector, List<TargetRef> targetRefs) {
    private static final Set<String> TARGET_REF = Set.of("group", "kind", "name", "namespace");

    static Attachment read(YamlNode spec, Map<String, YamlNode> f, Problems p) {
        var selNode = f.get("selector");
        Selector selector = SelectorReader.read(selNode, p);
        var refs = new ArrayList<TargetRef>();
        var single = f.get("targetRef");
        if (single != null && !single.isNull()) {
            var r = targetRef(single, p);
            if (r != null) {
                refs.add(r);
            }
        }
        var many = Fields.listOrNull(f.get("targetRefs"), p);
        if (many != null) {
            if (single != null && !single.isNull()) {
                p.at(f.get("targetRefs"), "is set together with targetRef (expected: only one of them)");
            }
            for (var n : many) {
                var r = targetRef(n, p);
                if (r != null) {
                    refs.add(r);
                }
            }
        }
        if (!refs.isEmpty() && selNode != null && !selNode.isNull()) {
            p.at(selNode, "is set together with targetRefs (expected: only one of selector or targetRefs)");
        }
        return new Attachment(selector, List.copyOf(refs));
    }

    private static TargetRef targetRef(YamlNode n, Problems p) {
        var f = Fields.map(n, p, TARGET_REF);
        String kind = Fields.required(n, f, "kind", p);
        String name = Fields.required(n, f, "name", p);
        String group = Fields.string(f.get("group"), p);
        String namespace = Fields.string(f.get("namespace"), p);
        if (kind == null || name == null) {
            return null;
        }
        var ref = new TargetRef(
                group == null ? "" : group, kind, name, namespace == null || namespace.isEmpty() ? null : namespace);
        if (!ref.isService() && !ref.isGateway() && !ref.isGatewayClass() && !ref.isServiceEntry()) {
            p.at(
                    n,
                    "is group \"" + ref.group() + "\" kind \"" + kind + "\" (expected: core Service, "
                            + TargetRef.GATEWAY_API + " Gateway or GatewayClass, or " + TargetRef.NETWORKING_ISTIO
                            + " ServiceEntry)");
            return null;
        }
        return ref;
    }
}
