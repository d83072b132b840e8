package io.ambit.xds.kube;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What serves in place of an AuthorizationPolicy or RequestAuthentication the waypoint refused. Dropping it would fail open: a DENY (or a
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
 * A refused RequestAuthentication that targets something is replaced the way Istio treats one whose keys cannot be
 * had (istiod then hands Envoy a JWKS that verifies nothing): every token presented to its targets is refused (401),
 * while requests without a token go on to authorization as before. Dropping it instead would let a token the rule
 * was meant to judge pass unjudged, as "no token" — which a negative rule ({@code notRequestPrincipals}) reads as a
 * match. The stand-in keeps the issuers and token locations it can read, so tokens are still looked for where the
 * user said; every rule gets an empty key set.
 *
 * <p>The stand-in keeps name, namespace and creation time, so explanations and Istio's oldest-first order name the
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
        String kind = KubeJson.string(object, "kind");
        if (!"AuthorizationPolicy".equals(kind) && !"RequestAuthentication".equals(kind)) {
            return Optional.empty();
        }
        var spec = KubeJson.map(object, "spec");
        Object targets = spec.containsKey("targetRefs") ? spec.get("targetRefs") : spec.get("targetRef");
        if (targets == null || targets instanceof List<?> l && l.isEmpty()) {
            return Optional.empty();
        }
        if ("RequestAuthentication".equals(kind)) {
            return Optional.of(refuseEveryToken(object, spec, targets));
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

    /** An empty key set: parses, verifies nothing. */
    private static final String NO_KEYS = "{\"keys\":[]}";

    private static StandIn refuseEveryToken(Map<String, Object> object, Map<String, Object> spec, Object targets) {
        var rules = new ArrayList<Map<String, Object>>();
        if (spec.get("jwtRules") instanceof List<?> written) {
            for (Object r : written) {
                if (r instanceof Map<?, ?> rule && rule.get("issuer") instanceof String issuer && !issuer.isEmpty()) {
                    var standIn = new LinkedHashMap<String, Object>();
                    standIn.put("issuer", issuer);
                    standIn.put("jwks", NO_KEYS);
                    copyLocations(rule, standIn);
                    rules.add(standIn);
                }
            }
        }
        // and one at the default locations (Authorization: Bearer, access_token): a token there whose issuer the
        // readable rules do not name is refused as "issuer not configured", as it would have been
        var fallback = new LinkedHashMap<String, Object>();
        fallback.put(
                "issuer", "ambit.invalid/refused/" + KubeObjects.ref(object).replace(' ', '/'));
        fallback.put("jwks", NO_KEYS);
        rules.add(fallback);
        var standIn = new LinkedHashMap<String, Object>();
        standIn.put(spec.containsKey("targetRefs") ? "targetRefs" : "targetRef", targets);
        standIn.put("jwtRules", rules);
        var out = new LinkedHashMap<String, Object>(object);
        out.put("spec", standIn);
        return new StandIn(
                KubeObjects.text(out),
                "every token presented to its targets is refused (401); requests without a token go on to "
                        + "authorization");
    }

    /** The rule's token locations, where they are well formed; anything else is left out (the default applies). */
    private static void copyLocations(Map<?, ?> rule, Map<String, Object> into) {
        if (rule.get("fromHeaders") instanceof List<?> headers) {
            var kept = new ArrayList<Map<String, Object>>();
            for (Object h : headers) {
                if (h instanceof Map<?, ?> m && m.get("name") instanceof String name && !name.isEmpty()) {
                    var header = new LinkedHashMap<String, Object>();
                    header.put("name", name);
                    if (m.get("prefix") instanceof String prefix) {
                        header.put("prefix", prefix);
                    }
                    kept.add(header);
                }
            }
            if (!kept.isEmpty()) {
                into.put("fromHeaders", kept);
            }
        }
        for (String field : List.of("fromParams", "fromCookies")) {
            if (rule.get(field) instanceof List<?> names) {
                var kept = new ArrayList<String>();
                for (Object n : names) {
                    if (n instanceof String name && !name.isEmpty()) {
                        kept.add(name);
                    }
                }
                if (!kept.isEmpty()) {
                    into.put(field, kept);
                }
            }
        }
    }
}
