package io.ambit.waypoint.jwt;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Judges one token in Envoy's order: parse, issuer configured for the location, {@code nbf}/{@code exp},
 * audiences, then keys and signature. Only the key step may wait (a JWKS fetch); everything before it
 * is decided at once, so a malformed or expired token never triggers a fetch.
 */
final class TokenVerifier {
    private TokenVerifier() {}

    static CompletionStage<TokenCheck> check(TokenLocations.Found f, JwtAuthenticator a) {
        ParsedJwt t;
        try {
            t = a.cache().tokens().parse(f.token(), a.limits().maxTokenBytes());
        } catch (ParsedJwt.Malformed m) {
            return done(TokenCheck.refused(m.failure, "token in " + where(f.location())));
        } catch (RuntimeException e) {
            // A parser bug must not turn a bad token into a 500 (or worse, an unchecked pass): fail closed.
            return done(TokenCheck.refused(
                    JwtFailure.BAD_FORMAT, "token in " + where(f.location()) + " could not be parsed: " + e));
        }
        if (t.issuer == null || !a.locations().allows(f.location(), t.issuer)) {
            return done(TokenCheck.refused(
                    JwtFailure.UNKNOWN_ISSUER,
                    "issuer " + quote(t.issuer) + " of the token in " + where(f.location())
                            + " is not the issuer of a jwtRule that reads there"));
        }
        var candidates = new ArrayList<RuleKeys>();
        for (RuleKeys r : a.rules()) {
            if (r.rule.issuer().equals(t.issuer) && r.locations.contains(f.location())) {
                candidates.add(r);
            }
        }
        return tryRules(candidates, 0, t, a, null);
    }

    /** Rules of the same issuer one after the other; the first to accept wins, else the first failure. */
    private static CompletionStage<TokenCheck> tryRules(
            List<RuleKeys> rules, int i, ParsedJwt t, JwtAuthenticator a, TokenCheck firstFailure) {
        if (i == rules.size()) {
            return done(firstFailure);
        }
        return withRule(rules.get(i), t, a)
                .thenCompose(
                        c -> c.ok() ? done(c) : tryRules(rules, i + 1, t, a, firstFailure == null ? c : firstFailure));
    }

    private static CompletionStage<TokenCheck> withRule(RuleKeys r, ParsedJwt t, JwtAuthenticator a) {
        long now = a.cache().clock().instant().getEpochSecond();
        long skew = a.limits().clockSkew().toSeconds();
        if (t.nbf != 0 && now + skew < t.nbf) {
            return done(TokenCheck.refused(JwtFailure.NOT_YET_VALID, "nbf " + t.nbf + ", now " + now));
        }
        if (t.exp != 0 && now > t.exp + skew) {
            return done(TokenCheck.refused(JwtFailure.EXPIRED, "exp " + t.exp + ", now " + now));
        }
        if (!r.audienceAllowed(t.audiences)) {
            return done(TokenCheck.refused(
                    JwtFailure.AUDIENCE_NOT_ALLOWED,
                    "token audiences " + t.audiences + ", rule audiences " + r.rule.audiences()));
        }
        if (r.inline != null) {
            return withKeys(r, t, a, r.inline);
        }
        return a.cache()
                .keys(r.remote)
                .handle((keys, error) -> {
                    if (error != null) {
                        return done(TokenCheck.refused(JwtFailure.JWKS_FETCH_FAILED, JwksCache.message(error)));
                    }
                    return withKeys(r, t, a, keys);
                })
                .thenCompose(s -> s);
    }

    private static CompletionStage<TokenCheck> withKeys(RuleKeys r, ParsedJwt t, JwtAuthenticator a, KeySet keys) {
        return verify(keys, t, a)
                .handle((outcome, busy) -> {
                    if (busy != null) {
                        return done(TokenCheck.refused(
                                JwtFailure.VERIFICATION_FAILED, "signature verification capacity exhausted"));
                    }
                    if (outcome == KeySet.Outcome.NO_MATCHING_KEY
                            && r.remote != null
                            && t.kid != null
                            && !keys.knowsKid(t.kid)) {
                        // The issuer may have rotated its keys since we fetched them: look again (rate-limited).
                        return a.cache()
                                .refreshForUnknownKid(r.remote, keys)
                                .thenCompose(fresh -> fresh == keys
                                        ? done(signature(r, t, keys, outcome))
                                        : verify(fresh, t, a)
                                                .handle((o, e) -> e != null
                                                        ? TokenCheck.refused(
                                                                JwtFailure.VERIFICATION_FAILED,
                                                                "signature verification capacity exhausted")
                                                        : signature(r, t, fresh, o)));
                    }
                    return done(signature(r, t, keys, outcome));
                })
                .thenCompose(s -> s);
    }

    /**
     * The signature check: on the cache's verifier executor when one is set and a real verification is
     * due (an RSA or ECDSA operation, up to milliseconds of CPU), inline otherwise (a token verified before,
     * or no key that could verify it). Completes exceptionally when the executor refuses the work.
     */
    private static CompletionStage<KeySet.Outcome> verify(KeySet keys, ParsedJwt t, JwtAuthenticator a) {
        var executor = a.cache().verifier();
        if (executor == null || t.verifiedBy == keys || !keys.hasCandidate(t)) {
            return done(keys.verify(t));
        }
        try {
            return CompletableFuture.supplyAsync(() -> keys.verify(t), executor);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static TokenCheck signature(RuleKeys r, ParsedJwt t, KeySet keys, KeySet.Outcome outcome) {
        if (keys.isEmpty()) {
            return TokenCheck.refused(JwtFailure.NO_VALID_KEYS, "issuer " + quote(r.rule.issuer()));
        }
        return switch (outcome) {
            case OK -> TokenCheck.accepted(r, t);
            case NO_MATCHING_KEY ->
                TokenCheck.refused(
                        JwtFailure.KID_ALG_MISMATCH, "alg " + t.alg + (t.kid == null ? "" : ", kid " + quote(t.kid)));
            case BAD_SIGNATURE -> TokenCheck.refused(JwtFailure.VERIFICATION_FAILED, "issuer " + quote(t.issuer));
        };
    }

    private static String where(TokenLocations.Location l) {
        return switch (l.kind()) {
            case HEADER -> "header " + l.name();
            case PARAM -> "query parameter " + l.name();
            case COOKIE -> "cookie " + l.name();
        };
    }

    /** Quotes attacker-controlled text for a log line, clipped. */
    static String quote(String s) {
        if (s == null) {
            return "(none)";
        }
        String c = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return "\"" + c.replaceAll("[\\p{Cntrl}\"\\\\]", "?") + "\"";
    }

    private static <T> CompletionStage<T> done(T v) {
        return CompletableFuture.completedFuture(v);
    }
}
