package io.ambit.waypoint.jwt;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.JSONObjectUtils;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A compact JWS split and parsed, before any key is involved, with Envoy's failure for each malformed
 * part. JSON goes through nimbus (strict, duplicate keys refused, nesting limited); nothing here trusts
 * the content yet.
 */
final class ParsedJwt {
    /** The algorithms a key may verify. {@code none} and anything else is "not implemented". */
    static final Set<String> ALGORITHMS = Set.of(
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512",
            "EdDSA");

    /** A kid is a lookup key into the JWKS, nothing more; a long one is an attack, not a key id. */
    static final int MAX_KID_LENGTH = 256;

    /** Thrown with the failure of a malformed token. */
    static final class Malformed extends Exception {
        final JwtFailure failure;

        Malformed(JwtFailure failure) {
            super(failure.message(), null, false, false);
            this.failure = failure;
        }
    }

    final String token;
    final JWSHeader header;
    final String alg;
    final String kid;
    final byte[] signingInput;
    final Base64URL signature;
    /** The payload as sent (base64url), for {@code outputPayloadToHeader}. */
    final String payloadBase64;

    final Map<String, Object> claims;
    final String issuer;
    final String subject;
    final List<String> audiences;
    final String presenter;
    /** Seconds since the epoch, 0 when absent (Envoy: no expiry). */
    final long exp;

    final long nbf;

    /** The key set that last verified this token's signature (a repeated token is not verified again). */
    volatile KeySet verifiedBy;

    /** The token as the policy engine takes it, built once. */
    private volatile io.ambit.policy.engine.Token.Verified policyToken;

    private ParsedJwt(
            String token,
            JWSHeader header,
            String alg,
            String kid,
            byte[] signingInput,
            Base64URL signature,
            String payloadBase64,
            Map<String, Object> claims) {
        this.token = token;
        this.header = header;
        this.alg = alg;
        this.kid = kid;
        this.signingInput = signingInput;
        this.signature = signature;
        this.payloadBase64 = payloadBase64;
        this.claims = claims;
        this.issuer = claims.get("iss") instanceof String s ? s : null;
        this.subject = claims.get("sub") instanceof String s ? s : null;
        this.presenter = claims.get("azp") instanceof String s ? s : null;
        this.audiences = audiences(claims.get("aud"));
        this.exp = seconds(claims.get("exp"));
        this.nbf = seconds(claims.get("nbf"));
    }

    static ParsedJwt parse(String token, int maxBytes) throws Malformed {
        if (token.length() > maxBytes) {
            throw new Malformed(JwtFailure.TOO_LARGE);
        }
        int d1 = token.indexOf('.');
        int d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
        if (d1 <= 0 || d2 < 0 || token.indexOf('.', d2 + 1) >= 0 || d2 == d1 + 1) {
            throw new Malformed(JwtFailure.BAD_FORMAT);
        }
        String h = token.substring(0, d1);
        String p = token.substring(d1 + 1, d2);
        String s = token.substring(d2 + 1);

        Map<String, Object> headerJson;
        try {
            headerJson = JSONObjectUtils.parse(decodeText(h));
        } catch (ParseException | IllegalArgumentException e) {
            throw new Malformed(JwtFailure.HEADER_PARSE_ERROR);
        }
        if (headerJson == null) {
            // nimbus parses the JSON text "null" to a null map; it is no JSON object (found by JwtFuzzTest:
            // a header or payload of "null" threw a NullPointerException, a 500 instead of a 401).
            throw new Malformed(JwtFailure.HEADER_PARSE_ERROR);
        }
        if (!(headerJson.get("alg") instanceof String alg)) {
            throw new Malformed(JwtFailure.HEADER_BAD_ALG);
        }
        if (!ALGORITHMS.contains(alg)) {
            throw new Malformed(JwtFailure.HEADER_ALG_NOT_IMPLEMENTED);
        }
        Object kidValue = headerJson.get("kid");
        if (kidValue != null && !(kidValue instanceof String)) {
            throw new Malformed(JwtFailure.HEADER_BAD_KID);
        }
        String kid = (String) kidValue;
        if (kid != null && kid.length() > MAX_KID_LENGTH) {
            throw new Malformed(JwtFailure.KID_TOO_LONG);
        }
        JWSHeader header;
        try {
            header = JWSHeader.parse(headerJson, new Base64URL(h));
        } catch (ParseException | RuntimeException e) {
            // Any header nimbus cannot read is a malformed token (401), whatever it throws.
            throw new Malformed(JwtFailure.HEADER_PARSE_ERROR);
        }
        if (!header.getAlgorithm().equals(JWSAlgorithm.parse(alg))) {
            throw new Malformed(JwtFailure.HEADER_ALG_NOT_IMPLEMENTED);
        }

        Map<String, Object> claims;
        try {
            claims = JSONObjectUtils.parse(decodeText(p));
        } catch (ParseException | IllegalArgumentException e) {
            throw new Malformed(JwtFailure.PAYLOAD_PARSE_ERROR);
        }
        if (claims == null) {
            throw new Malformed(JwtFailure.PAYLOAD_PARSE_ERROR); // "null", as for the header
        }
        // Envoy refuses a payload whose registered claims have the wrong type.
        for (String k : new String[] {"iss", "sub", "azp", "jti"}) {
            if (claims.containsKey(k) && !(claims.get(k) instanceof String)) {
                throw new Malformed(JwtFailure.PAYLOAD_PARSE_ERROR);
            }
        }
        for (String k : new String[] {"exp", "nbf", "iat"}) {
            if (claims.containsKey(k) && !(claims.get(k) instanceof Long l && l >= 0)) {
                throw new Malformed(JwtFailure.PAYLOAD_PARSE_ERROR);
            }
        }
        Object aud = claims.get("aud");
        if (aud != null && !(aud instanceof String) && !(aud instanceof List<?> l && allStrings(l))) {
            throw new Malformed(JwtFailure.PAYLOAD_PARSE_ERROR);
        }
        if (!isBase64Url(s) || s.isEmpty()) {
            throw new Malformed(JwtFailure.SIGNATURE_PARSE_ERROR);
        }
        return new ParsedJwt(
                token,
                header,
                alg,
                kid,
                token.substring(0, d2).getBytes(StandardCharsets.US_ASCII),
                new Base64URL(s),
                p,
                claims);
    }

    private static String decodeText(String part) {
        if (!isBase64Url(part)) {
            throw new IllegalArgumentException("not base64url");
        }
        return new String(new Base64URL(part).decode(), StandardCharsets.UTF_8);
    }

    /** base64url without padding, as RFC 7515 requires; nimbus would skip illegal characters silently. */
    static boolean isBase64Url(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok =
                    (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (!ok) {
                return false;
            }
        }
        return s.length() % 4 != 1;
    }

    private static boolean allStrings(List<?> l) {
        for (Object o : l) {
            if (!(o instanceof String)) {
                return false;
            }
        }
        return true;
    }

    private static List<String> audiences(Object aud) {
        if (aud instanceof String s) {
            return List.of(s);
        }
        if (aud instanceof List<?> l) {
            var out = new ArrayList<String>();
            for (Object o : l) {
                out.add((String) o);
            }
            return List.copyOf(out);
        }
        return List.of();
    }

    private static long seconds(Object v) {
        return v instanceof Long l ? l : 0;
    }

    /** {@code request.auth.*} for the policy engine: principal parts, audiences, presenter and claims. */
    io.ambit.policy.engine.Token.Verified policyToken() {
        var t = policyToken;
        if (t == null) {
            t = new io.ambit.policy.engine.Token.Verified(issuer, subject, audiences, presenter, claimsForPolicy());
            policyToken = t;
        }
        return t;
    }

    /**
     * The claims as the policy engine wants them: strings, numbers, booleans, lists and maps, immutable,
     * JSON nulls dropped (an absent claim and a null claim both never match).
     */
    Map<String, Object> claimsForPolicy() {
        @SuppressWarnings("unchecked")
        var m = (Map<String, Object>) immutable(claims);
        return m;
    }

    private static Object immutable(Object o) {
        if (o instanceof Map<?, ?> m) {
            var out = new LinkedHashMap<String, Object>();
            m.forEach((k, v) -> {
                if (v != null) {
                    out.put(String.valueOf(k), immutable(v));
                }
            });
            return Map.copyOf(out);
        }
        if (o instanceof List<?> l) {
            var out = new ArrayList<Object>(l.size());
            for (Object v : l) {
                if (v != null) {
                    out.add(immutable(v));
                }
            }
            return List.copyOf(out);
        }
        return o;
    }
}
