package io.ambit.xds.kube;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What serves in place of an AuthorizationPolicy the waypoint refused. Dropping it would fail open: a DENY (or a
 * CUSTOM check) that Istio enforces — written, say, with a field Ambit does not read — would silently allow what it
 * denies. So a refused policy that targets something keeps its targets and loses its rules, the stricter way:
 *
 * <ul>
 *   <li>DENY or CUSTOM: {@code action: DENY, rules: [{}]} — every request to its targets is denied until the
 *       policy is fixed (a CUSTOM provider that cannot be asked denies, as ext_authz fails closed);
 *   <li>ALLOW: an ALLOW policy without rules (allow-nothing) — exactly the requests the refused rules would have
 *       allowed are no longer allowed; what other ALLOW policies allow stays allowed, as in Istio, where a rule
 *       a proxy cannot enforce matches nothing;
 *   <li>AUDIT, or no {@code targetRefs} (selector and namespace-wide policies never apply at a waypoint): none.
 * </ul>
 *
 * The stand-in keeps name, namespace and creation time, so explanations and Istio's oldest-first order name the
 * policy the user wrote.
 */
final class FailClosed {
    private FailClosed() {}

    /**
     * A stand-in document and what it does, for the log.
     *
     * @param text the document (without {@code ---})
     * @param effect e.g. {@code every request to its targets is denied}
     */
    record StandIn(String text, String effect) {}

    /** The stand-in for refused {@code object}, or empty when none is needed. */
    static Optional<StandIn> standIn(Map<String, Object> object) {
        if (!"AuthorizationPolicy".equals(KubeJson.string(object, "kind"))) {
            return Optional.empty();
        }
        var spec = KubeJson.map(object, "spec");
        Object targets = spec.containsKey("targetRefs") ? spec.get("targetRefs") : spec.get("targetRef");
        if (targets == null || targets instanceof List<?> l && l.isEmpty()) {
            return Optional.empty();
        }
        // absent = ALLOW, as in Istio; anything unreadable is taken as the stricter DENY
        Object a = spec.get("action");
        String action = a == null ? "ALLOW" : a instanceof String s ? s : "DENY";
        if (action.equals("AUDIT")) {
            return Optional.empty();
        }
        var standIn = new LinkedHashMap<String, Object>();
        standIn.put(spec.containsKey("targetRefs") ? "targetRefs" : "targetRef", targets);
        boolean allow = action.equals("ALLOW");
        if (!allow) {
            standIn.put("action", "DENY");
            standIn.put("rules", List.of(Map.of()));
        }
        var out = new LinkedHashMap<String, Object>(object);
        out.put("spec", standIn);
        return Optional.of(new StandIn(
                KubeObjects.text(out),
                allow
                        ? "its rules allow nothing (ALLOW without rules)"
                        : "every request to its targets is denied (" + action + " → DENY all)"));
    }
}
