package io.ambit.policy.engine;

import io.ambit.policy.crd.JwtRule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * RequestAuthentication at a waypoint (authz-semantics §4): every jwtRule attached to the target,
 * merged. No rules: tokens are ignored. No token: accepted without a request principal. A token: it must
 * be verified and match a rule's issuer (else 401) and audiences (else 403).
 */
final class JwtAuthenticator {
    /** A jwtRule with the RequestAuthentication it came from. */
    record Attached(String policy, JwtRule rule) {}

    /** The outcome; {@code accepted} is null when the request carries no usable principal. */
    record Outcome(boolean ok, int status, String policy, String message, Token.Verified accepted) {}

    private static final Outcome NO_TOKEN = new Outcome(true, 0, null, null, null);
    private static final Set<String> ALWAYS_SPLIT = Set.of("scope", "permission");

    private JwtAuthenticator() {}

    static Outcome authenticate(List<Attached> rules, Token token) {
        if (rules.isEmpty() || token instanceof Token.None) {
            return NO_TOKEN;
        }
        if (token instanceof Token.Invalid inv) {
            return new Outcome(
                    false,
                    401,
                    rules.getFirst().policy(),
                    "JWT verification failed" + (inv.reason() == null ? "" : ": " + inv.reason()),
                    null);
        }
        var t = (Token.Verified) token;
        var sameIssuer =
                rules.stream().filter(r -> r.rule().issuer().equals(t.issuer())).toList();
        if (sameIssuer.isEmpty()) {
            var configured = new LinkedHashSet<String>();
            rules.forEach(r -> configured.add(r.rule().issuer()));
            return new Outcome(
                    false,
                    401,
                    rules.getFirst().policy(),
                    "Jwt issuer is not configured: \"" + Explain.clip(t.issuer())
                            + "\" is not among the issuers of the attached RequestAuthentications " + configured,
                    null);
        }
        for (var r : sameIssuer) {
            var aud = r.rule().audiences();
            if (aud.isEmpty() || t.audiences().stream().anyMatch(aud::contains)) {
                return new Outcome(true, 0, r.policy(), null, withSplitClaims(t, sameIssuer));
            }
        }
        return new Outcome(
                false,
                403,
                sameIssuer.getFirst().policy(),
                "Audiences in Jwt are not allowed: token audiences " + t.audiences() + " match none of "
                        + sameIssuer.getFirst().rule().audiences(),
                null);
    }

    /** {@code scope} and {@code permission}, plus each rule's spaceDelimitedClaims, become lists. */
    private static Token.Verified withSplitClaims(Token.Verified t, List<Attached> rules) {
        var split = new HashSet<>(ALWAYS_SPLIT);
        rules.forEach(r -> split.addAll(r.rule().spaceDelimitedClaims()));
        Map<String, Object> claims = null;
        for (String name : split) {
            if (t.claims().get(name) instanceof String s) {
                if (claims == null) {
                    claims = new HashMap<>(t.claims());
                }
                var parts = new ArrayList<String>();
                for (String p : s.trim().split("\\s+")) {
                    if (!p.isEmpty()) {
                        parts.add(p);
                    }
                }
                claims.put(name, List.copyOf(parts));
            }
        }
        return claims == null ? t : new Token.Verified(t.issuer(), t.subject(), t.audiences(), t.presenter(), claims);
    }
}
