package io.ambit.bench.waypointsec;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.ambit.policy.crd.JwtRule;
import io.ambit.waypoint.jwt.JwksCache;
import io.ambit.waypoint.jwt.JwtAuthenticator;
import io.ambit.waypoint.jwt.JwtRequest;
import io.ambit.waypoint.jwt.JwtResult;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The waypoint's JWT stage per request, keys cached (inline JWKS, as istiod delivers them), single thread:
 *
 * <ul>
 *   <li>{@code fresh}: a token not seen before, so a real RS256 / ES256 signature verification (the bench
 *       cycles through more distinct tokens than the verified-token cache holds);
 *   <li>{@code repeated}: the same token again (a client reusing its token), a cache hit;
 *   <li>{@code noToken}: a request without a token, the floor of the stage.
 * </ul>
 *
 * Everything else of the stage is included: extraction, JSON parsing, issuer/exp/audience checks, the
 * result with the principal and claims for the policy engine.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class JwtVerifyBench {
    private static final String ISSUER = "https://auth.bench.example";
    /** Characters of tokens to cycle through: twice what the verified-token cache keeps (4 M chars). */
    private static final long DISTINCT_CHARS = 8L << 20;

    @Param({"RS256", "ES256"})
    public String alg;

    private JwksCache cache;
    private JwtAuthenticator auth;
    private JwtRequest[] fresh;
    private JwtRequest repeated;
    private JwtRequest none;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws JOSEException {
        JWK key = alg.equals("RS256")
                ? new RSAKeyGenerator(2048).keyID("bench").generate()
                : new ECKeyGenerator(Curve.P_256).keyID("bench").generate();
        String jwks = new JWKSet(key).toPublicJWKSet().toString();
        cache = new JwksCache();
        var rule = new JwtRule(
                ISSUER,
                List.of("api.bench.example"),
                null,
                jwks,
                List.of(),
                List.of(),
                List.of(),
                null,
                false,
                List.of(),
                List.of());
        auth = JwtAuthenticator.of(List.of(rule), cache);
        String first = sign(key, 0);
        int n = (int) Math.max(1024, DISTINCT_CHARS / first.length() + 1);
        fresh = new JwtRequest[n];
        for (int i = 0; i < n; i++) {
            fresh[i] = request(i == 0 ? first : sign(key, i));
        }
        repeated = request(first);
        none = new JwtRequest("GET", "http", "api.bench.example", "/orders", Map.of());
        if (auth.authenticate(repeated).toCompletableFuture().join().rejected()) {
            throw new IllegalStateException("the bench token does not verify");
        }
    }

    @TearDown
    public void tearDown() {
        cache.close();
    }

    private static JwtRequest request(String token) {
        return new JwtRequest(
                "GET", "http", "api.bench.example", "/orders", Map.of("authorization", List.of("Bearer " + token)));
    }

    private String sign(JWK key, int i) throws JOSEException {
        var claims = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .subject("user-" + i)
                .audience("api.bench.example")
                .expirationTime(Date.from(Instant.now().plusSeconds(86_400)))
                .claim("role", "admin")
                .claim("scope", "orders:read orders:write")
                .build();
        if (alg.equals("RS256")) {
            var jwt = new SignedJWT(
                    new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("bench").build(), claims);
            jwt.sign(new RSASSASigner(key.toRSAKey()));
            return jwt.serialize();
        }
        var jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("bench").build(), claims);
        jwt.sign(new ECDSASigner(key.toECKey()));
        return jwt.serialize();
    }

    @Benchmark
    public JwtResult fresh() {
        var r = fresh[next];
        next = next + 1 == fresh.length ? 0 : next + 1;
        return auth.authenticate(r).toCompletableFuture().join();
    }

    @Benchmark
    public JwtResult repeated() {
        return auth.authenticate(repeated).toCompletableFuture().join();
    }

    @Benchmark
    public JwtResult noToken() {
        return auth.authenticate(none).toCompletableFuture().join();
    }
}
