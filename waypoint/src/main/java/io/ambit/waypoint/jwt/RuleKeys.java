package io.ambit.waypoint.jwt;

import io.ambit.policy.crd.JwtRule;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One jwtRule made ready to judge tokens: its locations, its audiences as Envoy compares them, where its
 * keys come from, and its output headers (validated once, here, not per request).
 */
final class RuleKeys {
    /** Headers a rule may not write: they would change framing or routing, not carry a claim. */
    private static final Set<String> FORBIDDEN_OUTPUTS = Set.of(
            "host",
            "connection",
            "content-length",
            "transfer-encoding",
            "te",
            "upgrade",
            "keep-alive",
            "proxy-connection",
            "trailer");

    final JwtRule rule;
    final List<TokenLocations.Location> locations;
    final Set<String> audiences;
    /** Parsed inline keys, or null when the keys are remote. */
    final KeySet inline;
    /** The {@link JwksCache} source of remote keys, or null for inline keys. */
    final String remote;

    final String payloadHeader;
    final List<JwtRule.ClaimToHeader> claimHeaders;

    RuleKeys(JwtRule rule, JwksCache cache, List<String> problems) {
        this.rule = rule;
        this.locations = TokenLocations.of(rule);
        var aud = new LinkedHashSet<String>();
        for (String a : rule.audiences()) {
            aud.add(sanitizeAudience(a));
        }
        this.audiences = Set.copyOf(aud);
        String where = "jwtRules issuer \"" + rule.issuer() + "\"";
        KeySet inlineKeys = null;
        String remoteSource = null;
        if (rule.jwks() != null && !rule.jwks().isBlank()) {
            try {
                inlineKeys = cache.inline(rule.jwks());
                for (String p : inlineKeys.problems()) {
                    problems.add(where + ": jwks " + p);
                }
                if (inlineKeys.isEmpty()) {
                    problems.add(where + ": jwks has no usable key; every token of this issuer is refused");
                }
            } catch (ParseException e) {
                problems.add(
                        where + ": jwks is not a JWKS (" + e.getMessage() + "); every token of this issuer is refused");
                inlineKeys = KeySet.EMPTY;
            }
            if (rule.jwksUri() != null) {
                problems.add(where + ": both jwks and jwksUri are set; the inline jwks is used");
            }
        } else if (rule.jwksUri() != null) {
            remoteSource = rule.jwksUri();
        } else {
            remoteSource = JwksCache.DISCOVER + rule.issuer();
        }
        this.inline = inlineKeys;
        this.remote = remoteSource;

        this.payloadHeader = outputHeader(rule.outputPayloadToHeader(), where + ": outputPayloadToHeader", problems);
        var claims = new ArrayList<JwtRule.ClaimToHeader>();
        for (var c : rule.outputClaimToHeaders()) {
            String h = outputHeader(c.header(), where + ": outputClaimToHeaders", problems);
            if (h != null) {
                claims.add(new JwtRule.ClaimToHeader(h, c.claim()));
            }
        }
        this.claimHeaders = List.copyOf(claims);
    }

    /** The names of every header this rule writes; requests never bring their own (Envoy sanitizes them). */
    void outputHeaders(Set<String> out) {
        if (payloadHeader != null) {
            out.add(payloadHeader);
        }
        for (var c : claimHeaders) {
            out.add(c.header());
        }
    }

    private static String outputHeader(String name, String field, List<String> problems) {
        if (name == null || name.isEmpty()) {
            return null;
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (!isToken(lower) || FORBIDDEN_OUTPUTS.contains(lower)) {
            problems.add(field + ": \"" + name + "\" is not a header a rule may write (expected: a token such as "
                    + "x-jwt-claim-sub, not a pseudo-header or a framing header); ignored");
            return null;
        }
        return lower;
    }

    private static boolean isToken(String s) {
        if (s.isEmpty() || s.length() > 256) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** jwt_verify_lib compares audiences without an {@code http://}/{@code https://} prefix or a trailing slash. */
    static String sanitizeAudience(String a) {
        String s = a;
        if (s.startsWith("http://")) {
            s = s.substring(7);
        } else if (s.startsWith("https://")) {
            s = s.substring(8);
        }
        if (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s;
    }

    boolean audienceAllowed(List<String> tokenAudiences) {
        if (audiences.isEmpty()) {
            return true;
        }
        for (String a : tokenAudiences) {
            if (audiences.contains(sanitizeAudience(a))) {
                return true;
            }
        }
        return false;
    }
}
