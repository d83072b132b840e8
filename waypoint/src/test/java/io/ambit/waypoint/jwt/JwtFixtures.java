package io.ambit.waypoint.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.ambit.policy.crd.JwtRule;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Keys generated per test run (never a checked-in key), tokens signed with them, and rules. */
final class JwtFixtures {
    static final String ISSUER = "https://auth.company.example";
    static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    private JwtFixtures() {}

    static RSAKey rsa(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static ECKey ec(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The public JWKS of some keys, as an IdP publishes it. */
    static String jwks(JWK... keys) {
        return new JWKSet(List.of(keys)).toPublicJWKSet().toString();
    }

    /** Claims valid at {@link #NOW} for an hour; {@code edit} changes them. */
    static JWTClaimsSet claims(Consumer<JWTClaimsSet.Builder> edit) {
        var b = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .subject("alice")
                .audience("api.company.example")
                .issueTime(Date.from(NOW.minusSeconds(60)))
                .expirationTime(Date.from(NOW.plus(Duration.ofHours(1))))
                .claim("role", "admin");
        edit.accept(b);
        return b.build();
    }

    static String sign(JWK key, JWTClaimsSet claims) {
        try {
            if (key instanceof RSAKey rsa) {
                var jwt = new SignedJWT(header(JWSAlgorithm.RS256, rsa.getKeyID()), claims);
                jwt.sign(new RSASSASigner(rsa));
                return jwt.serialize();
            }
            var ec = (ECKey) key;
            var jwt = new SignedJWT(header(JWSAlgorithm.ES256, ec.getKeyID()), claims);
            jwt.sign(new ECDSASigner(ec));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sign(JWK key) {
        return sign(key, claims(b -> {}));
    }

    static String hmac(byte[] secret, String kid, JWTClaimsSet claims) {
        try {
            var jwt = new SignedJWT(header(JWSAlgorithm.HS256, kid), claims);
            jwt.sign(new MACSigner(secret));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JWSHeader header(JWSAlgorithm alg, String kid) {
        return new JWSHeader.Builder(alg).keyID(kid).type(JOSEObjectType.JWT).build();
    }

    static JwtRule inlineRule(String jwks) {
        return rule(ISSUER, List.of(), null, jwks);
    }

    static JwtRule rule(String issuer, List<String> audiences, String jwksUri, String jwks) {
        return new JwtRule(
                issuer, audiences, jwksUri, jwks, List.of(), List.of(), List.of(), null, false, List.of(), List.of());
    }

    static JwtRequest bearer(String token) {
        return request(Map.of("authorization", List.of("Bearer " + token)));
    }

    static JwtRequest request(Map<String, List<String>> headers) {
        return new JwtRequest("GET", "http", "api.example:8080", "/orders?x=1", headers);
    }

    static JwtResult await(java.util.concurrent.CompletionStage<JwtResult> s) {
        try {
            return s.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("authentication did not complete", e);
        }
    }

    /** A clock that only moves when a test moves it. */
    static final class FakeClock implements InstantSource {
        private volatile Instant now;

        FakeClock(Instant start) {
            this.now = start;
        }

        @Override
        public Instant instant() {
            return now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }
    }
}
