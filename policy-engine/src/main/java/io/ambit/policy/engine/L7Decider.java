package io.ambit.policy.engine;

import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.engine.Decision.Verdict;
import io.ambit.policy.path.InvalidPathException;
import io.ambit.policy.path.PathNormalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The waypoint's decision for one HTTP request, in Envoy's filter order: request sanity (400), CUSTOM
 * (ext_authz), RequestAuthentication (JWT), DENY, ALLOW, over the policies attached by targetRefs to the
 * destination Service and waypoint.
 */
final class L7Decider {
    private L7Decider() {}

    static Decision decide(PolicySnapshot s, AccessRequest r) {
        // 0. What Envoy refuses before any filter runs.
        if (r.method() != null && !r.method().equals(r.method().toUpperCase(Locale.ROOT))) {
            return Explain.deny(
                    Reason.BAD_REQUEST,
                    null,
                    400,
                    "method \"" + Explain.clip(r.method())
                            + "\" is not upper-case; rejected with 400 before authorization");
        }
        String path = null;
        if (r.path() != null) {
            try {
                path = PathNormalizer.normalize(r.path(), s.mesh().pathNormalization());
            } catch (InvalidPathException e) {
                return Explain.deny(Reason.BAD_REQUEST, null, 400, e.getMessage());
            }
            if (!path.startsWith("/") && !path.equals("*")) {
                // Envoy serves only origin-form paths; anything else never reaches authorization.
                return Explain.deny(
                        Reason.BAD_REQUEST,
                        null,
                        400,
                        "path \"" + Explain.clip(r.path())
                                + "\" is not an absolute path (expected: it starts with /); rejected with 400");
            }
        }
        var dest = r.destination();
        var c = new EvalContext(r, path, s.clock(), s.mesh().timeZone());
        var t = s.targets();
        Object[] buckets = new Object[3];
        int n = 0;
        for (Attached a : new Attached[] {
            t.service(dest.namespace(), dest.service()),
            t.gateway(dest.waypointNamespace(), dest.waypoint()),
            t.allWaypoints()
        }) {
            if (a != null) {
                buckets[n++] = a;
            }
        }
        try {
            // 1. CUSTOM: a matching rule hands the request to the provider; its DENY is final.
            for (var hit = nextCustom(buckets, n, c, -1);
                    hit != null;
                    hit = nextCustom(buckets, n, c, hit.policy().rank)) {
                var p = hit.policy();
                String other = otherProvider(buckets, n, p.provider);
                if (other != null) {
                    return Explain.deny(
                            Reason.EXT_AUTHZ,
                            p.ref,
                            hit.rule(),
                            403,
                            "CUSTOM policies for " + dest.describe(true) + " name two providers (\"" + p.provider
                                    + "\" and \"" + other + "\"); Istio allows one provider per workload "
                                    + "(PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS is off) and denies CUSTOM-matched requests");
                }
                if (!s.mesh().hasProvider(p.provider)) {
                    return Explain.deny(
                            Reason.EXT_AUTHZ,
                            p.ref,
                            hit.rule(),
                            403,
                            "CUSTOM policy " + p.ref + " names provider \"" + p.provider
                                    + "\", which is not in the mesh's extensionProviders; Istio denies such requests");
                }
                if (r.extAuthz() == null) {
                    return new Decision(
                            Verdict.CUSTOM,
                            p.provider,
                            Reason.EXT_AUTHZ,
                            p.ref,
                            hit.rule(),
                            0,
                            "matched CUSTOM policy " + p.ref + ", rule " + hit.rule()
                                    + "; the decision belongs to provider \"" + p.provider + "\"",
                            List.of(),
                            null);
                }
                if (r.extAuthz() == AccessRequest.ExtAuthzAnswer.DENY) {
                    return Explain.deny(
                            Reason.EXT_AUTHZ,
                            p.ref,
                            hit.rule(),
                            403,
                            "denied by provider \"" + p.provider + "\" of CUSTOM policy " + p.ref + ", rule "
                                    + hit.rule());
                }
            }

            // 2. RequestAuthentication.
            var rules = new ArrayList<JwtAuthenticator.Attached>();
            addAll(rules, s.jwt().service(dest.namespace(), dest.service()));
            addAll(rules, s.jwt().gateway(dest.waypointNamespace(), dest.waypoint()));
            addAll(rules, s.jwt().allWaypoints());
            // CORS preflights bypass JWT checks (Envoy jwt_authn bypass_cors_preflight, set by Istio).
            var authn = JwtAuthenticator.authenticate(isCorsPreflight(c) ? List.of() : rules, r.token());
            if (!authn.ok()) {
                return Explain.deny(
                        Reason.JWT,
                        authn.policy(),
                        authn.status(),
                        authn.message() + " (" + authn.status() + ", RequestAuthentication " + authn.policy() + ")");
            }
            c.auth = authn.accepted();

            // 3. DENY, 4. ALLOW.
            var audit = Explain.audit(buckets, n, null, c);
            var deny = Phase.best(buckets, n, Phase.DENY, null, c);
            if (deny != null) {
                return Explain.withDryRunText(Explain.matched(deny, audit, Explain.dryRun(buckets, n, null, c)));
            }
            var allow = Phase.best(buckets, n, Phase.ALLOW, null, c);
            String dryRun = Explain.dryRun(buckets, n, null, c);
            if (allow != null) {
                return Explain.withDryRunText(Explain.matched(allow, audit, dryRun));
            }
            String target = dest.describe(true);
            if (Phase.count(buckets, n, Phase.ALLOW, null) == 0) {
                return Explain.withDryRunText(Explain.noAllowPolicies(target, audit, dryRun));
            }
            return Explain.withDryRunText(Explain.noAllowMatched(buckets, n, null, target, audit, dryRun));
        } catch (UncomparableValueException e) {
            return Explain.uncomparable(e);
        }
    }

    /** A provider other than {@code provider} among the enforced CUSTOM policies of this target, or null. */
    private static String otherProvider(Object[] buckets, int n, String provider) {
        for (int b = 0; b < n; b++) {
            for (CompiledPolicy p : ((Attached) buckets[b]).custom) {
                if (!p.provider.equals(provider)) {
                    return p.provider;
                }
            }
        }
        return null;
    }

    private static boolean isCorsPreflight(EvalContext c) {
        return "OPTIONS".equals(c.request.method())
                && c.header("origin") != null
                && c.header("access-control-request-method") != null;
    }

    /** The matching CUSTOM policy with the lowest rank above {@code after}. */
    private static Phase.Hit nextCustom(Object[] buckets, int n, EvalContext c, int after) {
        CompiledPolicy best = null;
        int bestRule = -1;
        for (int b = 0; b < n; b++) {
            for (CompiledPolicy p : ((Attached) buckets[b]).custom) {
                if (p.rank <= after) {
                    continue;
                }
                int rule = p.firstMatch(c);
                if (rule >= 0 && (best == null || p.rank < best.rank)) {
                    best = p;
                    bestRule = rule;
                }
            }
        }
        return best == null ? null : new Phase.Hit(best, bestRule);
    }

    private static void addAll(List<JwtAuthenticator.Attached> out, List<JwtAuthenticator.Attached> in) {
        if (in != null) {
            for (var a : in) {
                if (!out.contains(a)) {
                    out.add(a);
                }
            }
        }
    }
}
