package io.ambit.policy.engine;

import java.util.List;
import java.util.Map;

/**
 * What the JWT filter found on a request, before RequestAuthentication rules judge it. Signature and
 * expiry are checked by whoever holds the keys (the waypoint with JWKS; the CLI takes the caller's word);
 * the engine then applies issuer and audience rules and exposes the claims to authorization.
 */
public sealed interface Token {
    /** No token at any location the rules look at. */
    record None() implements Token {}

    /** A token whose signature and expiry verified. Claims hold strings, numbers, booleans, lists and maps. */
    record Verified(String issuer, String subject, List<String> audiences, String presenter, Map<String, Object> claims)
            implements Token {
        public Verified {
            audiences = audiences == null ? List.of() : List.copyOf(audiences);
            claims = claims == null ? Map.of() : Map.copyOf(claims);
        }
    }

    /** A token that failed verification (bad signature, expired, malformed). */
    record Invalid(String reason) implements Token {}

    Token NONE = new None();
}
