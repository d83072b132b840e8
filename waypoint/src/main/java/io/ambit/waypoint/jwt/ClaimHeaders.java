package io.ambit.waypoint.jwt;

import java.util.List;
import java.util.Map;

/**
 * {@code outputPayloadToHeader} and {@code outputClaimToHeaders} for a verified token, as Envoy writes
 * them: the payload as sent (base64url), and string, number and boolean claims ({@code a.b} reaches into
 * nested objects). Values that could split or smuggle a header (control characters) are left out.
 */
final class ClaimHeaders {
    /** Longest claim value copied into a header. */
    static final int MAX_VALUE = 8 * 1024;

    private ClaimHeaders() {}

    static void add(RuleKeys rule, ParsedJwt jwt, List<Map.Entry<String, String>> out) {
        if (rule.payloadHeader != null) {
            out.add(Map.entry(rule.payloadHeader, jwt.payloadBase64));
        }
        for (var c : rule.claimHeaders) {
            String v = text(lookup(jwt.claims, c.claim()));
            if (v != null && !v.isEmpty() && v.length() <= MAX_VALUE && safe(v)) {
                out.add(Map.entry(c.header(), v));
            }
        }
    }

    static Object lookup(Map<String, Object> claims, String path) {
        Object cur = claims;
        for (String part : path.split("\\.", -1)) {
            if (!(cur instanceof Map<?, ?> m)) {
                return null;
            }
            cur = m.get(part);
        }
        return cur;
    }

    /** Envoy's rendering: integral non-negative numbers without a fraction, other numbers with six decimals. */
    static String text(Object v) {
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Long l) {
            return l >= 0 ? Long.toString(l) : String.format(java.util.Locale.ROOT, "%f", (double) l);
        }
        if (v instanceof Double d) {
            return d >= 0 && d == Math.rint(d) && d < 1.8e19
                    ? Long.toUnsignedString(toUnsigned(d))
                    : String.format(java.util.Locale.ROOT, "%f", d);
        }
        if (v instanceof Boolean b) {
            return b ? "true" : "false";
        }
        return null;
    }

    private static long toUnsigned(double d) {
        return new java.math.BigDecimal(d).toBigInteger().longValue();
    }

    private static boolean safe(String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return false;
            }
        }
        return true;
    }
}
