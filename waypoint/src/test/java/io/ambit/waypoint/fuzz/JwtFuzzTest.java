package io.ambit.waypoint.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.ambit.policy.crd.JwtRule;
import io.ambit.policy.engine.Token;
import io.ambit.waypoint.jwt.JwksCache;
import io.ambit.waypoint.jwt.JwtAuthenticator;
import io.ambit.waypoint.jwt.JwtFailure;
import io.ambit.waypoint.jwt.JwtRequest;
import io.ambit.waypoint.jwt.JwtResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * RequestAuthentication against malformed tokens (security cases 29-31, issue 6: "malformed tokens: 401,
 * never 500"): a token signed by the configured key, mutated as text (characters flipped, inserted,
 * deleted, segments cut or repeated) or with its header or payload JSON replaced by hostile JSON (deep
 * nesting, wrong types, huge numbers, duplicate keys), is either the original, still verified as alice,
 * or refused with 401, one of Envoy's status texts and a {@code WWW-Authenticate} challenge — never an
 * exception, never another status.
 */
class JwtFuzzTest {
    private static final String ISSUER = "https://auth.company.example";
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final RSAKey KEY = rsa();
    private static final String VALID = sign(KEY);
    private static final JwksCache CACHE = new JwksCache(JwksCache.Settings.DEFAULT, InstantSource.fixed(NOW));
    private static final JwtAuthenticator AUTH = JwtAuthenticator.of(
            List.of(new JwtRule(
                    ISSUER,
                    List.of(),
                    null,
                    new JWKSet(KEY).toPublicJWKSet().toString(),
                    List.of(),
                    List.of(),
                    List.of(),
                    null,
                    false,
                    List.of(),
                    List.of())),
            CACHE);
    private static final JwtAuthenticator FROM_QUERY_OR_COOKIE = JwtAuthenticator.of(
            List.of(new JwtRule(
                    ISSUER,
                    List.of(),
                    null,
                    new JWKSet(KEY).toPublicJWKSet().toString(),
                    List.of(),
                    List.of("access_token"),
                    List.of("session"),
                    null,
                    false,
                    List.of(),
                    List.of())),
            CACHE);
    private static final List<String> ENVOY_TEXTS =
            Arrays.stream(JwtFailure.values()).map(JwtFailure::message).toList();

    @AfterContainer
    static void close() {
        CACHE.close();
    }

    @Property(seed = FuzzInputs.SEED)
    void aMutatedTokenIsTheOriginalOrA401(@ForAll("mutatedTokens") String token) {
        check(token);
    }

    @Property(seed = FuzzInputs.SEED)
    void hostileJsonInHeaderOrPayloadIsA401(@ForAll("hostileJson") String json, @ForAll boolean inHeader) {
        String[] parts = VALID.split("\\.");
        String header = inHeader ? b64(json) : parts[0];
        String payload = inHeader ? parts[1] : b64(json);

        JwtResult r = await(AUTH.authenticate(bearer(header + "." + payload + "." + parts[2])));

        assertThat(r.rejected()).isTrue();
        assertThat(r.rejection().status()).isEqualTo(401);
        assertThat(r.rejection().body()).isIn(ENVOY_TEXTS);
    }

    /**
     * Tokens in the query or a cookie among hostile neighbours (empty pairs, encoded names, repeats, quotes,
     * stray {@code %}): never an exception; a verified token is alice's, and is gone from what goes upstream
     * (no parameter whose decoded name is {@code access_token}, no {@code session} cookie), the path itself
     * untouched.
     */
    @Property(seed = FuzzInputs.SEED)
    void aTokenInTheQueryOrACookieIsJudgedAndRemoved(
            @ForAll("queries") String query, @ForAll("cookies") String cookie, @ForAll boolean withCookie) {
        Map<String, List<String>> headers = withCookie ? Map.of("cookie", List.of(cookie)) : Map.of();
        JwtRequest request = new JwtRequest("GET", "http", "api.example:8080", "/orders?" + query, headers);

        JwtResult r = await(FROM_QUERY_OR_COOKIE.authenticate(request));
        String kind = r.rejected() ? "refused" : r.token() instanceof Token.Verified ? "verified" : "none";
        net.jqwik.api.statistics.Statistics.label("token").collect(kind);
        net.jqwik.api.statistics.Statistics.label("token").coverage(c -> {
            c.check("verified").percentage(p -> p >= 1.0);
            c.check("refused").percentage(p -> p >= 1.0);
        });

        if (r.rejected()) {
            assertThat(r.rejection().status()).isEqualTo(401);
            assertThat(r.rejection().body()).isIn(ENVOY_TEXTS);
            return;
        }
        if (!(r.token() instanceof Token.Verified v)) {
            return; // no token anywhere
        }
        assertThat(v.subject()).isEqualTo("alice");
        String upstream = r.path() == null ? request.path() : r.path();
        assertThat(upstream).startsWith("/orders");
        for (String pair : query(upstream).split("&", -1)) {
            String name = percentDecoded(pair.split("=", 2)[0]);
            assertThat(name).as("upstream %s", upstream).isNotEqualTo("access_token");
        }
        // What goes upstream: the rebuilt cookie header when the original was removed, else the original.
        List<String> upstreamCookies = r.removeHeaders().contains("cookie")
                ? r.addHeaders().stream()
                        .filter(h -> h.getKey().equals("cookie"))
                        .map(Map.Entry::getValue)
                        .toList()
                : headers.getOrDefault("cookie", List.of());
        for (String header : upstreamCookies) {
            for (String c : header.split(";", -1)) {
                // other cookies stay as sent, even one holding the same text ("sess=<token>"); a bare
                // "session" without '=' carries no value, so no token
                int eq = c.indexOf('=');
                assertThat(eq < 0 ? "" : c.substring(0, eq).strip())
                        .as("upstream cookie %s", header)
                        .isNotEqualTo("session");
            }
        }
    }

    /** RFC 3986 percent-decoding that keeps a malformed escape as written (what a lenient backend does). */
    private static String percentDecoded(String s) {
        var out = new java.io.ByteArrayOutputStream();
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < in.length; i++) {
            if (in[i] == '%' && i + 2 < in.length && isHex(in[i + 1]) && isHex(in[i + 2])) {
                out.write(java.util.HexFormat.fromHexDigits(new String(in, i + 1, 2, StandardCharsets.US_ASCII)));
                i += 2;
            } else {
                out.write(in[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static boolean isHex(byte b) {
        return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
    }

    private static String query(String target) {
        int q = target.indexOf('?');
        return q < 0 ? "" : target.substring(q + 1);
    }

    @Provide
    Arbitrary<String> queries() {
        Arbitrary<String> pair = Arbitraries.of(
                "access_token=" + VALID,
                "access%5Ftoken=" + VALID,
                "%61ccess_token=" + VALID,
                "access_token=" + VALID.substring(0, 20),
                "access_token=",
                "access_token",
                "a=1",
                "",
                "=",
                "%",
                "%zz=%",
                "b=" + VALID,
                "x=%E2%82",
                "access_token=%" + VALID);
        return pair.list().ofMaxSize(4).map(pairs -> String.join("&", pairs));
    }

    @Provide
    Arbitrary<String> cookies() {
        Arbitrary<String> part = Arbitraries.of(
                "session=" + VALID,
                "session=\"" + VALID + "\"",
                " session = " + VALID + " ",
                "session=",
                "session",
                "a=b",
                "",
                "=x",
                "\"",
                "sess=" + VALID,
                "session=" + VALID + "x");
        return part.list().ofMaxSize(4).map(parts -> String.join(";", parts));
    }

    /** The unmutated token verifies: the mutations start from something the waypoint accepts. */
    @Example
    void theOriginalTokenIsVerified() {
        JwtResult r = await(AUTH.authenticate(bearer(VALID)));
        assertThat(r.rejected()).isFalse();
        assertThat(r.token()).isInstanceOfSatisfying(Token.Verified.class, v -> assertThat(v.subject())
                .isEqualTo("alice"));
    }

    /** Regression: a header or payload of JSON "null" threw a NullPointerException (a 500, not a 401). */
    @Example
    void aNullJsonHeaderOrPayloadIsA401() {
        String[] parts = VALID.split("\\.");
        for (String token : new String[] {
            b64("null") + "." + parts[1] + "." + parts[2], parts[0] + "." + b64("null") + "." + parts[2]
        }) {
            JwtResult r = await(AUTH.authenticate(bearer(token)));
            assertThat(r.rejected()).isTrue();
            assertThat(r.rejection().status()).isEqualTo(401);
        }
    }

    private static JwtResult check(String token) {
        JwtResult r = await(AUTH.authenticate(bearer(token)));
        FuzzInputs.outcome(!r.rejected());
        if (r.rejected()) {
            assertThat(r.rejection().status()).as("status for %s", token).isEqualTo(401);
            assertThat(r.rejection().body()).isIn(ENVOY_TEXTS);
            assertThat(r.rejection().wwwAuthenticate()).startsWith("Bearer realm=\"");
            assertThat(r.token()).isInstanceOf(Token.Invalid.class);
        } else if (r.token() instanceof Token.Verified v) {
            // Only the signed claims can come out, whatever was changed around them.
            assertThat(v.subject()).isEqualTo("alice");
            assertThat(v.issuer()).isEqualTo(ISSUER);
        }
        return r;
    }

    @Provide
    Arbitrary<String> mutatedTokens() {
        Arbitrary<String> piece = Arbitraries.oneOf(
                Arbitraries.of(
                        ".", "..", "=", "==", "+", "/", "-", "_", "%2E", " ", "\t", ",", "Bearer ", "\u00e9", "A"),
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(3));
        Arbitrary<Tuple.Tuple3<Integer, Integer, String>> edit = Combinators.combine(
                        Arbitraries.integers().between(0, 4),
                        Arbitraries.integers().between(0, 2000),
                        piece)
                .as(Tuple::of);
        return edit.list().ofMaxSize(3).map(edits -> {
            String s = VALID;
            for (var e : edits) {
                int at = Math.floorMod(e.get2(), s.length() + 1);
                s = switch (e.get1()) {
                    case 0 -> s.substring(0, at) + e.get3() + s.substring(at);
                    case 1 ->
                        s.substring(0, at)
                                + s.substring(
                                        Math.min(s.length(), at + 1 + e.get3().length()));
                    case 2 -> s.substring(0, at);
                    case 3 -> s + "." + s.substring(at);
                    default -> at < s.length() ? s.substring(0, at) + flip(s.charAt(at)) + s.substring(at + 1) : s;
                };
            }
            return s;
        });
    }

    @Provide
    Arbitrary<String> hostileJson() {
        return Arbitraries.of(
                "[".repeat(10_000) + "]".repeat(10_000),
                "{\"a\":".repeat(5_000) + "1" + "}".repeat(5_000),
                "{\"alg\":[\"RS256\"],\"kid\":\"" + KEY.getKeyID() + "\"}",
                "{\"alg\":\"RS256\",\"kid\":{\"x\":1}}",
                "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":5}",
                "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":[\"exp\"]}",
                "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"jwk\":\"x\"}",
                "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"jwk\":{\"kty\":\"RSA\"}}",
                "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x5c\":{\"a\":1}}",
                "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x5c\":[\"!!\"]}",
                "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":5,\"cty\":[]}",
                "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"b64\":\"no\"}",
                "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"jku\":5,\"x5u\":\"::\"}",
                "{\"alg\":\"RS256\",\"alg\":\"none\"}",
                "{\"alg\":\"RS256\",\"kid\":\"" + "k".repeat(100_000) + "\"}",
                "{\"iss\":\"" + ISSUER + "\",\"sub\":\"alice\",\"exp\":1e999999}",
                "{\"iss\":\"" + ISSUER + "\",\"sub\":\"alice\",\"exp\":-99999999999999999999999}",
                "{\"iss\":\"" + ISSUER + "\",\"sub\":\"mallory\",\"exp\":\"tomorrow\"}",
                "{\"iss\":1,\"sub\":[],\"aud\":{}}",
                "{\"iss\":\"" + ISSUER + "\",\"sub\":\"\\ud800\"}",
                "\u0000",
                "",
                "null",
                "[]",
                "\"a\"",
                "{\"a\":NaN}",
                "{\"a\":1,}",
                "{\"a\" 1}",
                "{'a':1}",
                "\ufeff{}");
    }

    private static char flip(char c) {
        return c == 'A' ? 'B' : 'A';
    }

    private static String b64(String json) {
        return B64.encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    private static JwtRequest bearer(String token) {
        return new JwtRequest(
                "GET", "http", "api.example:8080", "/orders", Map.of("authorization", List.of("Bearer " + token)));
    }

    private static JwtResult await(java.util.concurrent.CompletionStage<JwtResult> s) {
        try {
            return s.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("authentication did not answer (an exception or a hang)", e);
        }
    }

    private static RSAKey rsa() {
        try {
            return new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sign(RSAKey key) {
        try {
            var claims = new JWTClaimsSet.Builder()
                    .issuer(ISSUER)
                    .subject("alice")
                    .issueTime(Date.from(NOW.minusSeconds(60)))
                    .expirationTime(Date.from(NOW.plus(Duration.ofHours(1))))
                    .build();
            var jwt = new SignedJWT(
                    new JWSHeader.Builder(JWSAlgorithm.RS256)
                            .keyID(key.getKeyID())
                            .type(JOSEObjectType.JWT)
                            .build(),
                    claims);
            jwt.sign(new RSASSASigner(key));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }
}
