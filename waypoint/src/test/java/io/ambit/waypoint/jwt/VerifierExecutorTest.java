package io.ambit.waypoint.jwt;

import static io.ambit.waypoint.jwt.JwtFixtures.NOW;
import static io.ambit.waypoint.jwt.JwtFixtures.bearer;
import static io.ambit.waypoint.jwt.JwtFixtures.inlineRule;
import static io.ambit.waypoint.jwt.JwtFixtures.jwks;
import static io.ambit.waypoint.jwt.JwtFixtures.sign;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.ECKey;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** New signatures are verified off the caller's thread when the cache has a verifier executor. */
class VerifierExecutorTest {
    private static final ECKey KEY = JwtFixtures.ec("ec-1");

    private static String completingThread(JwtAuthenticator a, String token) throws Exception {
        return a.authenticate(bearer(token))
                .thenApply(r -> (r.rejected() ? "refused " + r.detail() + " on " : "")
                        + Thread.currentThread().getName())
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }

    @Test
    void aNewSignatureIsVerifiedOnTheVerifierAndARepeatedTokenInline() throws Exception {
        var pool = JwksCache.boundedVerifier(1, 8);
        try (var cache = new JwksCache(JwksCache.Settings.DEFAULT, new JwtFixtures.FakeClock(NOW), pool)) {
            var a = JwtAuthenticator.of(List.of(inlineRule(jwks(KEY))), cache);
            String token = sign(KEY);
            assertThat(completingThread(a, token)).startsWith("ambit-jwt-verify-");
            assertThat(completingThread(a, token))
                    .isEqualTo(Thread.currentThread().getName());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aSaturatedVerifierRefusesTheTokenFailingClosed() throws Exception {
        Executor full = r -> {
            throw new RejectedExecutionException("full");
        };
        try (var cache = new JwksCache(JwksCache.Settings.DEFAULT, new JwtFixtures.FakeClock(NOW), full)) {
            var a = JwtAuthenticator.of(List.of(inlineRule(jwks(KEY))), cache);
            var r = JwtFixtures.await(a.authenticate(bearer(sign(KEY))));
            assertThat(r.rejection().status()).isEqualTo(401);
            assertThat(r.detail()).contains("capacity exhausted");
        }
    }
}
