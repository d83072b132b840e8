package io.ambit.waypoint.jwt;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tokens already parsed, shared by the whole waypoint (it lives in {@link JwksCache}): a client sends the
 * same token on every request, and parsing its JSON costs more than every other check of the stage. A
 * parsed token also remembers which key set verified its signature ({@link ParsedJwt#verifiedBy}), so a
 * repeated token costs a map lookup, not an RSA or ECDSA verification. Only well-formed tokens are kept.
 * Bounded by characters; when full it is cleared (crude, but O(1) amortized and never unbounded).
 */
final class TokenCache {
    private final long maxChars;
    private final ConcurrentHashMap<String, ParsedJwt> tokens = new ConcurrentHashMap<>();
    private final AtomicLong chars = new AtomicLong();

    TokenCache(long maxChars) {
        this.maxChars = maxChars;
    }

    ParsedJwt parse(String token, int maxBytes) throws ParsedJwt.Malformed {
        if (token.length() > maxBytes) {
            throw new ParsedJwt.Malformed(JwtFailure.TOO_LARGE); // before the lookup: limits differ per caller
        }
        ParsedJwt p = tokens.get(token);
        if (p != null) {
            return p;
        }
        p = ParsedJwt.parse(token, maxBytes);
        if (chars.addAndGet(token.length()) > maxChars) {
            tokens.clear();
            chars.set(token.length());
        }
        tokens.put(token, p);
        return p;
    }
}
