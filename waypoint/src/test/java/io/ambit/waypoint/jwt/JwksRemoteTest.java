package io.ambit.waypoint.jwt;

import static io.ambit.waypoint.jwt.JwtFixtures.ISSUER;
import static io.ambit.waypoint.jwt.JwtFixtures.NOW;
import static io.ambit.waypoint.jwt.JwtFixtures.await;
import static io.ambit.waypoint.jwt.JwtFixtures.bearer;
import static io.ambit.waypoint.jwt.JwtFixtures.claims;
import static io.ambit.waypoint.jwt.JwtFixtures.jwks;
import static io.ambit.waypoint.jwt.JwtFixtures.rule;
import static io.ambit.waypoint.jwt.JwtFixtures.sign;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.RSAKey;
import io.ambit.policy.engine.Token;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** JWKS from a real HTTP server: caching, rotation, refresh, and failing closed (security cases 29–31). */
class JwksRemoteTest {
    private static final JwksCache.Settings SETTINGS = new JwksCache.Settings(
            Duration.ofMinutes(20),
            Duration.ofHours(1),
            Duration.ofSeconds(15),
            Duration.ofMillis(800),
            Duration.ofSeconds(1),
            Duration.ofMinutes(1),
            64 * 1024);

    private final JwtFixtures.FakeClock clock = new JwtFixtures.FakeClock(NOW);
    private final JwksCache cache = new JwksCache(SETTINGS, clock);
    private final JwksServer server;
    private static final RSAKey key1 = JwtFixtures.rsa("key-1");
    private static final RSAKey key2 = JwtFixtures.rsa("key-2");

    JwksRemoteTest() throws Exception {
        server = new JwksServer("127.93.1.1");
    }

    @AfterEach
    void close() {
        cache.close();
        server.close();
    }

    private JwtAuthenticator remote() {
        return JwtAuthenticator.of(List.of(rule(ISSUER, List.of(), server.uri("/jwks.json"), null)), cache);
    }

    @Test
    void keysAreFetchedOnceAndServeEveryLaterRequest() {
        server.serve(jwks(key1));
        var a = remote();
        for (int i = 0; i < 20; i++) {
            assertThat(await(a.authenticate(bearer(sign(key1)))).token()).isInstanceOf(Token.Verified.class);
        }
        assertThat(server.hits()).isEqualTo(1);
    }

    @Test
    void warmFetchesBeforeTheFirstRequest() {
        server.serve(jwks(key1));
        remote().warm();
        awaitTrue(() -> server.hits() == 1);
    }

    @Test
    void aRotatedKeyIsPickedUpByItsUnknownKidAndTheOldOneStopsWorking() {
        server.serve(jwks(key1));
        var a = remote();
        assertThat(await(a.authenticate(bearer(sign(key1)))).rejected()).isFalse();

        server.serve(jwks(key2)); // the issuer rotates: key-1 is gone
        assertThat(await(a.authenticate(bearer(sign(key2)))).rejected()).isFalse();
        assertThat(server.hits()).isEqualTo(2);

        var old = await(a.authenticate(bearer(sign(key1))));
        assertThat(old.rejection().body()).isEqualTo("Jwks doesn't have key to match kid or alg from Jwt");
        assertThat(server.hits()).as("the refetch for key-2 was just now").isEqualTo(2);
        clock.advance(SETTINGS.unknownKidInterval());
        assertThat(await(a.authenticate(bearer(sign(key1)))).rejected()).isTrue();
        assertThat(server.hits()).isEqualTo(3);
    }

    @Test
    void randomKidsCostAtMostOneFetchPerInterval() {
        server.serve(jwks(key1));
        var a = remote();
        await(a.authenticate(bearer(sign(key1))));
        for (int i = 0; i < 50; i++) {
            var r = await(
                    a.authenticate(bearer(sign(JwtFixtures.ec(UUID.randomUUID().toString())))));
            assertThat(r.rejected()).isTrue();
        }
        assertThat(server.hits())
                .as("the first unknown kid refetched, the other 49 waited")
                .isEqualTo(2);
        clock.advance(SETTINGS.unknownKidInterval());
        await(a.authenticate(bearer(sign(JwtFixtures.ec("another")))));
        assertThat(server.hits()).isEqualTo(3);
    }

    @Test
    void anUnreachableJwksServerRefusesEveryTokenAndNeverFallsBackToAKey() {
        server.serve(jwks(key1));
        String uri = server.uri("/jwks.json");
        server.close(); // nothing listens there any more
        var a = JwtAuthenticator.of(List.of(rule(ISSUER, List.of(), uri, null)), cache);
        var r = await(a.authenticate(bearer(sign(key1))));
        assertThat(r.rejection().status()).isEqualTo(401);
        assertThat(r.rejection().body()).isEqualTo("Jwks remote fetch is failed");
        assertThat(r.token()).isInstanceOf(Token.Invalid.class);
    }

    @Test
    void aFailingServerIsRetriedAfterABackoffAndThenRecovers() {
        server.serve(jwks(key1));
        server.fail(503);
        var a = remote();
        assertThat(await(a.authenticate(bearer(sign(key1)))).rejection().body())
                .isEqualTo("Jwks remote fetch is failed");
        assertThat(await(a.authenticate(bearer(sign(key1)))).rejected()).isTrue();
        assertThat(server.hits())
                .as("requests during the backoff do not hit the server")
                .isEqualTo(1);

        server.serve(jwks(key1));
        clock.advance(SETTINGS.retryMin());
        assertThat(await(a.authenticate(bearer(sign(key1)))).rejected()).isFalse();
        assertThat(server.hits()).isEqualTo(2);
    }

    @Test
    void documentsThatAreNotAUsableJwksAreFailures() {
        var a = remote();
        String[] bad = {
            "not json",
            "{\"keys\":\"nope\"}",
            "{\"other\":[]}",
            "{\"keys\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}",
            "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"kid\":\"key-1\"}]}",
            "x".repeat(SETTINGS.maxBytes() + 1),
        };
        for (String doc : bad) {
            server.serve(doc);
            clock.advance(SETTINGS.retryMax());
            var r = await(a.authenticate(bearer(sign(key1))));
            assertThat(r.rejected())
                    .as("JWKS %s", doc.length() > 40 ? doc.substring(0, 40) : doc)
                    .isTrue();
            assertThat(r.rejection().body())
                    .isIn("Jwks remote fetch is failed", "Jwks doesn't have any valid public key");
        }
    }

    @Test
    void aSlowServerTimesOutAndFailsClosed() {
        server.serve(jwks(key1));
        server.delay(3_000);
        var r = await(remote().authenticate(bearer(sign(key1))));
        assertThat(r.rejection().body()).isEqualTo("Jwks remote fetch is failed");
    }

    @Test
    void keysAreRefreshedAfterTheIntervalWhileTheOldOnesKeepServing() {
        server.serve(jwks(key1));
        var a = remote();
        await(a.authenticate(bearer(sign(key1))));
        server.serve(jwks(key1, key2));
        clock.advance(SETTINGS.refreshInterval());
        assertThat(await(a.authenticate(bearer(sign(key1)))).rejected()).isFalse();
        awaitTrue(() -> server.hits() == 2);
        // key-2 is known from the refresh, without an unknown-kid fetch
        awaitTrue(() -> !await(a.authenticate(bearer(sign(key2)))).rejected());
        assertThat(server.hits()).isEqualTo(2);
    }

    @Test
    void staleKeysStopWorkingWhenRefreshesKeepFailingPastMaxStale() {
        server.serve(jwks(key1));
        var a = remote();
        await(a.authenticate(bearer(sign(key1, claims(b -> b.expirationTime(null))))));
        server.fail(500);
        clock.advance(SETTINGS.refreshInterval().plus(SETTINGS.maxStale()).minusSeconds(1));
        String token = sign(key1, claims(b -> b.expirationTime(null)));
        assertThat(await(a.authenticate(bearer(token))).rejected())
                .as("stale but within maxStale")
                .isFalse();
        clock.advance(Duration.ofSeconds(2));
        awaitTrue(() -> await(a.authenticate(bearer(token))).rejected());
        assertThat(await(a.authenticate(bearer(token))).rejection().body()).isEqualTo("Jwks remote fetch is failed");
    }

    @Test
    void withoutJwksOrJwksUriTheKeysAreDiscoveredFromTheIssuer() throws Exception {
        String issuer = server.uri("");
        var discovery = new JwksServer("127.93.1.2");
        try {
            // the issuer's OpenID configuration points at the JWKS on another server
            server.serve("{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + discovery.uri("/keys") + "\"}");
            discovery.serve(jwks(key1));
            var a = JwtAuthenticator.of(List.of(rule(issuer, List.of(), null, null)), cache);
            var r = await(a.authenticate(bearer(sign(key1, claims(b -> b.issuer(issuer))))));
            assertThat(r.rejected()).isFalse();
            assertThat(((Token.Verified) r.token()).issuer()).isEqualTo(issuer);
        } finally {
            discovery.close();
        }
    }

    @Test
    void concurrentRequestsDuringRefreshesNeverFailOpenOrBreak() throws Exception {
        server.serve(jwks(key1));
        var a = remote();
        String good = sign(key1, claims(b -> b.expirationTime(null)));
        String[] parts = good.split("\\.");
        String forged = parts[0] + "." + parts[1] + "." + new StringBuilder(parts[2]).reverse();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            var results = new java.util.ArrayList<java.util.concurrent.Future<String>>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    for (int i = 0; i < 300; i++) {
                        var ok = await(a.authenticate(bearer(good)));
                        if (ok.rejected()) {
                            return "a valid token was refused: " + ok.detail();
                        }
                        if (!await(a.authenticate(bearer(forged))).rejected()) {
                            return "a forged token was accepted";
                        }
                    }
                    return null;
                }));
            }
            for (int i = 0; i < 20; i++) {
                server.serve(i % 2 == 0 ? jwks(key1, key2) : jwks(key2, key1));
                clock.advance(SETTINGS.refreshInterval());
            }
            for (var f : results) {
                assertThat(f.get(60, java.util.concurrent.TimeUnit.SECONDS)).isNull();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Waits for a condition the code under test reaches on another thread; bounded by 5 s. */
    private static void awaitTrue(BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached within 5 s");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
