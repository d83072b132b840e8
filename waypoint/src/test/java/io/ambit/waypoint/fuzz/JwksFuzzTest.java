package io.ambit.waypoint.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.ambit.policy.crd.JwtRule;
import io.ambit.policy.engine.Token;
import io.ambit.waypoint.jwt.JwksCache;
import io.ambit.waypoint.jwt.JwtAuthenticator;
import io.ambit.waypoint.jwt.JwtFailure;
import io.ambit.waypoint.jwt.JwtRequest;
import io.ambit.waypoint.jwt.JwtResult;
import io.ambit.waypoint.testing.TestNet;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * JWKS documents (issue 6: RequestAuthentication "signature against JWKS from jwksUri ... fail closed";
 * security cases 29-31): the issuer's good JWKS (an RSA and an EC key) with one or more hostile edits —
 * wrong or mistyped {@code kty}/{@code crv}/{@code alg}/{@code use}/{@code kid} and combinations that do
 * not fit, {@code n} and {@code e} bad base64url, empty, too short, huge (16400-bit {@code n}, 4096-bit
 * {@code e}), even or tiny {@code e}, EC points off their curve, duplicate kids, the attacker's key under
 * the issuer's kid, private parts, 70 keys, {@code null}s anywhere, {@code keys} of the wrong type, not
 * JSON at all, cut or deeply nested documents — inline ({@code jwks}) and served by a real HTTP server
 * ({@code jwksUri}, also with 404/500 answers and documents over the size limit).
 *
 * <p>What must hold: nothing throws; a token signed by the issuer's key verifies only under a document
 * that still holds that public key; a token signed by the attacker (under the issuer's kid), an HMAC token
 * keyed with the issuer's public modulus, and {@code alg: none} never verify; every refusal is a 401 with
 * one of Envoy's texts; an inline document that cannot be used is named in the authenticator's problems;
 * and for {@code jwksUri}: after a refresh to a hostile document, the issuer's token is refused only if the
 * document was a 200 answer within the size limit holding a non-empty {@code keys} array — anything else
 * is refused as a whole and the last good key set keeps serving.
 */
class JwksFuzzTest {
    private static final String ISSUER = "https://auth.company.example";
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BYTES = 256 * 1024;

    private static final RSAKey RSA = rsa("a", 2048);
    private static final ECKey EC = ec("e");
    private static final RSAKey ATTACKER = rsa("a", 2048); // same kid as the issuer's key
    private static final String GOOD = new JWKSet(List.of(RSA.toPublicJWK(), EC.toPublicJWK())).toString();

    private static final String TOKEN_RSA = sign(rsaSigner(RSA), JWSAlgorithm.RS256, "a");
    private static final String TOKEN_EC = sign(ecSigner(), JWSAlgorithm.ES256, "e");
    private static final String TOKEN_ATTACKER = sign(rsaSigner(ATTACKER), JWSAlgorithm.RS256, "a");
    private static final String TOKEN_CONFUSED = hmacWithTheModulus();
    private static final String TOKEN_NONE = none();
    /** Signed by the attacker under a kid no document has: makes the cache refetch (an unknown kid). */
    private static final String TOKEN_UNKNOWN_KID = sign(rsaSigner(ATTACKER), JWSAlgorithm.RS256, "rotated");

    private static final List<String> ENVOY_TEXTS =
            Arrays.stream(JwtFailure.values()).map(JwtFailure::message).toList();

    private static final AtomicLong millis = new AtomicLong(NOW.toEpochMilli());
    private static final InstantSource CLOCK = () -> Instant.ofEpochMilli(millis.get());
    private static JwksCache inlineCache;
    private static JwksCache remoteCache;
    private static JwtAuthenticator remote;
    private static HttpServer server;
    private static volatile int servedStatus = 200;
    private static volatile byte[] served = GOOD.getBytes(StandardCharsets.UTF_8);

    @BeforeContainer
    static void start() throws Exception {
        inlineCache = new JwksCache(JwksCache.Settings.DEFAULT, CLOCK);
        // never stale by age; an unknown kid may refetch at once; a failed fetch may be retried at once
        remoteCache = new JwksCache(
                new JwksCache.Settings(
                        Duration.ofDays(1000),
                        Duration.ofDays(1000),
                        Duration.ZERO,
                        Duration.ofSeconds(5),
                        Duration.ZERO,
                        Duration.ZERO,
                        MAX_BYTES),
                CLOCK);
        server = HttpServer.create(new InetSocketAddress(TestNet.address("127.93.7.73"), 0), 16);
        server.createContext("/jwks", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                byte[] body = served;
                int status = servedStatus;
                exchange.getResponseHeaders().set("content-type", "application/json");
                if (status == 204 || body.length == 0) {
                    exchange.sendResponseHeaders(status, -1); // no body
                } else {
                    exchange.sendResponseHeaders(status, body.length);
                    exchange.getResponseBody().write(body);
                }
            }
        });
        server.start();
        String uri = "http://" + TestNet.ip("127.93.7.73") + ":"
                + server.getAddress().getPort() + "/jwks";
        remote = JwtAuthenticator.of(List.of(rule(uri, null)), remoteCache);
    }

    @AfterContainer
    static void stop() {
        if (server != null) {
            server.stop(0);
        }
        if (inlineCache != null) {
            inlineCache.close();
        }
        if (remoteCache != null) {
            remoteCache.close();
        }
    }

    // ---- inline jwks ----

    @Property(seed = FuzzInputs.SEED, tries = 600)
    void anInlineJwksIsUsedOnlyForTheKeysItHolds(@ForAll("documents") String doc) {
        // a blank jwks is no jwks: the rule would discover keys from the issuer's URL (the network)
        net.jqwik.api.Assume.that(!doc.isBlank());
        JwtAuthenticator a = JwtAuthenticator.of(List.of(rule(null, doc)), inlineCache);

        boolean rsaVerified = verified(a, TOKEN_RSA);
        boolean ecVerified = verified(a, TOKEN_EC);
        FuzzInputs.outcome(rsaVerified);

        if (rsaVerified) {
            assertThat(doc)
                    .as("verified the issuer's RSA token")
                    .contains(RSA.getModulus().toString());
        }
        if (ecVerified) {
            assertThat(doc).contains(EC.getX().toString()).contains(EC.getY().toString());
        }
        // the attacker's token is forged unless the document itself publishes the attacker's key
        var forgedTokens = doc.contains(ATTACKER.getModulus().toString())
                ? List.of(TOKEN_CONFUSED, TOKEN_NONE)
                : List.of(TOKEN_ATTACKER, TOKEN_CONFUSED, TOKEN_NONE);
        for (String forged : forgedTokens) {
            assertThat(verified(a, forged)).as("forged token under %s", doc).isFalse();
        }
        if (!rsaVerified && !ecVerified && !hasNonEmptyKeys(doc, 200)) {
            assertThat(a.problems())
                    .as("what is wrong with %s", abbreviated(doc))
                    .anySatisfy(p -> assertThat(p)
                            .startsWith("jwtRules issuer \"" + ISSUER + "\": jwks")
                            .containsAnyOf("not a JWKS", "no usable key"));
        }
    }

    // ---- jwksUri: a refresh to a hostile document ----

    @Property(seed = FuzzInputs.SEED, tries = 200)
    void aRefusedRemoteJwksLeavesTheLastGoodKeysServing(
            @ForAll("documents") String doc, @ForAll("statuses") int status, @ForAll boolean oversized) {
        // the good keys first (a refetch forced by a token with an unknown kid)
        serve(200, GOOD.getBytes(StandardCharsets.UTF_8));
        assertThat(verified(remote, TOKEN_UNKNOWN_KID)).isFalse();
        assertThat(verified(remote, TOKEN_RSA)).as("the good JWKS serves").isTrue();

        byte[] body = doc.getBytes(StandardCharsets.UTF_8);
        if (oversized) {
            body = Arrays.copyOf(body, MAX_BYTES + 1 + body.length);
            Arrays.fill(body, body.length - MAX_BYTES - 1, body.length, (byte) ' ');
        }
        serve(status, body);
        assertThat(verified(remote, TOKEN_UNKNOWN_KID)).isFalse(); // fetches the hostile document

        boolean rsaVerified = verified(remote, TOKEN_RSA);
        Statistics.label("after the hostile refresh").collect(rsaVerified ? "old key serves" : "new keys");
        Statistics.label("after the hostile refresh").coverage(c -> {
            c.check("old key serves").percentage(p -> p >= 1.0);
            c.check("new keys").percentage(p -> p >= 1.0);
        });
        if (!rsaVerified) {
            assertThat(!oversized && hasNonEmptyKeys(doc, status))
                    .as("the issuer's token was refused after serving %s %s", status, abbreviated(doc))
                    .isTrue();
        } else if (status == 200 && !oversized && hasNonEmptyKeys(doc, status)) {
            // the document replaced the keys only if it holds the issuer's key, else it was refused as a whole
            Statistics.label("accepted documents")
                    .collect(doc.contains(RSA.getModulus().toString()));
        }
        if (!doc.contains(ATTACKER.getModulus().toString())) {
            assertThat(verified(remote, TOKEN_ATTACKER)).isFalse();
        }
        assertThat(verified(remote, TOKEN_CONFUSED)).isFalse();
    }

    /** Regression: a JWKS with no usable key replaced the good keys (every token refused until it changed). */
    @Example
    void aRemoteJwksWithoutAUsableKeyIsAFailureAndTheOldKeysServe() {
        serve(200, GOOD.getBytes(StandardCharsets.UTF_8));
        verified(remote, TOKEN_UNKNOWN_KID);
        assertThat(verified(remote, TOKEN_RSA)).isTrue();
        for (String doc : List.of(
                "{\"keys\":[]}",
                "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"" + B64.encodeToString(new byte[64])
                        + "\",\"e\":\"AQAB\"}]}",
                "{\"keys\":[{\"kty\":\"XYZ\",\"kid\":\"a\"}]}")) {
            serve(200, doc.getBytes(StandardCharsets.UTF_8));
            verified(remote, TOKEN_UNKNOWN_KID);
            assertThat(verified(remote, TOKEN_RSA)).as("after %s", doc).isTrue();
        }
    }

    /** Regression: {"keys":[null]} threw a NullPointerException out of the JWKS parser. */
    @Example
    void nullKeysAreAClearError() {
        for (String doc : List.of("{\"keys\":[null]}", "{\"keys\":[{\"kty\":null}]}", "{\"keys\":[5]}")) {
            JwtAuthenticator a = JwtAuthenticator.of(List.of(rule(null, doc)), inlineCache);
            assertThat(verified(a, TOKEN_RSA)).isFalse();
            assertThat(a.problems())
                    .as("%s", doc)
                    .anySatisfy(p -> assertThat(p).contains("not a JWKS").doesNotContain("NullPointerException: null"));
        }
    }

    /** An RSA key with a huge public exponent (every verification as slow as a private-key operation) is skipped. */
    @Example
    void aHugeRsaExponentIsSkippedNamingIt() {
        String hugeE =
                B64.encodeToString(BigInteger.ONE.shiftLeft(2047).setBit(0).toByteArray());
        String doc = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"" + RSA.getModulus() + "\",\"e\":\"" + hugeE
                + "\"}]}";
        JwtAuthenticator a = JwtAuthenticator.of(List.of(rule(null, doc)), inlineCache);
        assertThat(verified(a, TOKEN_RSA)).isFalse();
        assertThat(a.problems()).anySatisfy(p -> assertThat(p).contains("RSA public exponent e has 2048 bits"));
    }

    // ---- documents ----

    @Provide
    Arbitrary<Integer> statuses() {
        return Arbitraries.frequency(Tuple.of(8, 200), Tuple.of(1, 404), Tuple.of(1, 500), Tuple.of(1, 204));
    }

    @Provide
    Arbitrary<String> documents() {
        Arbitrary<Tuple.Tuple3<Integer, String, Object>> memberEdit = Combinators.combine(
                        Arbitraries.integers().between(0, 1), // which key
                        Arbitraries.of("kty", "crv", "alg", "use", "kid", "n", "e", "x", "y", "d", "k", "key_ops"),
                        Arbitraries.of(hostileValues()))
                .as(Tuple::of);
        Arbitrary<String> edited = memberEdit.list().ofMinSize(1).ofMaxSize(3).map(edits -> {
            List<Map<String, Object>> keys = goodKeys();
            for (var e : edits) {
                Object value = e.get3();
                if (value == REMOVE) {
                    keys.get(e.get1()).remove(e.get2());
                } else {
                    keys.get(e.get1()).put(e.get2(), value == JSON_NULL ? null : value);
                }
            }
            return json(Map.of("keys", keys));
        });
        Arbitrary<String> structural = Arbitraries.of(
                "{\"keys\":[]}",
                "{\"keys\":null}",
                "{\"keys\":{}}",
                "{\"keys\":\"x\"}",
                "{\"keys\":[null]}",
                "{\"keys\":[5]}",
                "{\"keys\":[[]]}",
                "{\"keys\":[\"" + RSA.toPublicJWK() + "\"]}",
                "{}",
                "[]",
                "null",
                "",
                "   ",
                "\ufeff" + GOOD,
                GOOD.substring(0, GOOD.length() / 2),
                GOOD + "garbage",
                GOOD.replace("\"kid\":\"a\"", "\"kid\":\"a\",\"kid\":\"e\""), // a duplicate member
                "{\"keys\":" + "[".repeat(5000) + "]".repeat(5000) + "}",
                json(Map.of("keys", java.util.Collections.nCopies(70, goodKeys().get(0)))), // > 64 keys
                json(Map.of("keys", List.of(goodKeys().get(0), goodKeys().get(0)))), // same key twice
                json(Map.of(
                        "keys",
                        List.of(
                                ATTACKER.toPublicJWK().toJSONObject(),
                                goodKeys().get(0)))),
                json(Map.of("keys", List.of(RSA.toJSONObject()))), // private parts
                json(Map.of("keys", List.of(rsaWith(RSA.getModulus().toString(), "AA")))), // e = 0
                json(Map.of("keys", List.of(rsaWith(RSA.getModulus().toString(), "Ag")))), // e = 2
                json(Map.of("keys", List.of(rsaWith(RSA.getModulus().toString(), "Aw")))), // e = 3: fine
                json(Map.of("keys", List.of(rsaWith(hugeModulus(), "AQAB")))),
                json(Map.of("keys", List.of(rsaWith(rsa("s", 1024).getModulus().toString(), "AQAB")))),
                json(Map.of(
                        "keys",
                        List.of(Map.of(
                                "kty",
                                "EC",
                                "crv",
                                "P-256",
                                "kid",
                                "e",
                                "x",
                                EC.getX().toString(),
                                "y",
                                EC.getX().toString())))), // off the curve
                json(Map.of(
                        "keys",
                        List.of(Map.of(
                                "kty",
                                "EC",
                                "crv",
                                "P-384",
                                "kid",
                                "e",
                                "x",
                                EC.getX().toString(),
                                "y",
                                EC.getY().toString())))), // another curve's coordinates
                json(Map.of("keys", List.of(Map.of("kty", "oct", "kid", "a", "k", B64.encodeToString(new byte[32]))))));
        return Arbitraries.frequency(Tuple.of(3, GOOD), Tuple.of(12, "edited"), Tuple.of(5, "structural"))
                .flatMap(kind -> switch (kind) {
                    case "edited" -> edited;
                    case "structural" -> structural;
                    default -> Arbitraries.just(GOOD);
                });
    }

    private static final Object REMOVE = new Object() {
        @Override
        public String toString() {
            return "<removed>";
        }
    };

    private static final Object JSON_NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    private static Object[] hostileValues() {
        return new Object[] {
            REMOVE,
            JSON_NULL,
            5,
            -1,
            1e308,
            true,
            List.of(),
            List.of("RSA"),
            Map.of(),
            "",
            " ",
            "RSA",
            "rsa",
            "EC",
            "oct",
            "OKP",
            "P-256",
            "P-384",
            "secp256k1",
            "Ed25519",
            "X25519",
            "RS256",
            "ES256",
            "HS256",
            "none",
            "EdDSA",
            "PS256",
            "sig",
            "enc",
            "a",
            "e",
            "AQAB",
            "AA",
            "!!",
            "AQAB=",
            "+/+/",
            B64.encodeToString(new byte[32]),
            RSA.getModulus().toString().substring(0, 100),
            hugeModulus(),
            B64.encodeToString(BigInteger.ONE.shiftLeft(4095).setBit(0).toByteArray()),
            "k".repeat(10_000),
            "\u0000",
            "\ud800"
        };
    }

    private static List<Map<String, Object>> goodKeys() {
        var out = new ArrayList<Map<String, Object>>();
        out.add(new LinkedHashMap<>(RSA.toPublicJWK().toJSONObject()));
        out.add(new LinkedHashMap<>(EC.toPublicJWK().toJSONObject()));
        return out;
    }

    private static Map<String, Object> rsaWith(String n, String e) {
        var m = new LinkedHashMap<String, Object>();
        m.put("kty", "RSA");
        m.put("kid", "a");
        m.put("n", n);
        m.put("e", e);
        return m;
    }

    private static String hugeModulus() {
        byte[] n = new byte[2050]; // 16400 bits
        Arrays.fill(n, (byte) 0xff);
        return B64.encodeToString(n);
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The independent oracle: a 200 whose body is a JSON object with a non-empty {@code keys} array. */
    private static boolean hasNonEmptyKeys(String doc, int status) {
        if (status != 200) {
            return false;
        }
        try {
            JsonNode n = JSON.readTree(doc);
            return n != null && n.path("keys").isArray() && !n.path("keys").isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    // ---- tokens and requests ----

    private static void serve(int status, byte[] body) {
        servedStatus = status;
        served = body;
        millis.addAndGet(1000); // past every rate limit of the cache
    }

    private static boolean verified(JwtAuthenticator a, String token) {
        JwtResult r;
        try {
            r = a.authenticate(new JwtRequest(
                            "GET",
                            "http",
                            "api.example:8080",
                            "/orders",
                            Map.of("authorization", List.of("Bearer " + token))))
                    .toCompletableFuture()
                    .get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("authentication did not answer (an exception or a hang)", e);
        }
        if (r.rejected()) {
            assertThat(r.rejection().status()).isEqualTo(401);
            assertThat(r.rejection().body()).isIn(ENVOY_TEXTS);
            return false;
        }
        return r.token() instanceof Token.Verified;
    }

    private static JwtRule rule(String jwksUri, String jwks) {
        return new JwtRule(
                ISSUER, List.of(), jwksUri, jwks, List.of(), List.of(), List.of(), null, false, List.of(), List.of());
    }

    private static String abbreviated(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "...(" + s.length() + " chars)" : s;
    }

    private static RSAKey rsa(String kid, int bits) {
        try {
            return new RSAKeyGenerator(bits, true).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ECKey ec(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JWSSigner rsaSigner(RSAKey key) {
        try {
            return new RSASSASigner(key);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JWSSigner ecSigner() {
        try {
            return new ECDSASigner(EC);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JWTClaimsSet claims() {
        return new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .subject("alice")
                .issueTime(Date.from(NOW.minusSeconds(60)))
                .expirationTime(Date.from(NOW.plus(Duration.ofDays(3650))))
                .build();
    }

    private static String sign(JWSSigner signer, JWSAlgorithm alg, String kid) {
        try {
            var jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).build(), claims());
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The classic confusion: HS256 keyed with the RSA key's public modulus. */
    private static String hmacWithTheModulus() {
        try {
            return sign(new MACSigner(RSA.getModulus().decode()), JWSAlgorithm.HS256, "a");
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String none() {
        String header = B64.encodeToString("{\"alg\":\"none\",\"kid\":\"a\"}".getBytes(StandardCharsets.UTF_8));
        String payload = B64.encodeToString(claims().toString().getBytes(StandardCharsets.UTF_8));
        return header + "." + payload + ".";
    }
}
