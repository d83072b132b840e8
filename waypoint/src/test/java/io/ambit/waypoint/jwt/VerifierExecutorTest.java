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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** New signatures are verified off the caller's thread when the cache has a verifier executor. */
class VerifierExecutorTest {
    private static final ECKey KEY = JwtFixtures.ec("ec-1");

    @Test
    void aNewSignatureIsVerifiedOnTheVerifierAndARepeatedTokenInline() throws Exception {
        var pool = JwksCache.boundedVerifier(1, 8);
        // Counted where the work is handed over: which thread completes the future is a race, this is not.
        var handedOver = new AtomicInteger();
        Executor counting = task -> {
            handedOver.incrementAndGet();
            pool.execute(task);
        };
        try (var cache = new JwksCache(JwksCache.Settings.DEFAULT, new JwtFixtures.FakeClock(NOW), counting)) {
            var a = JwtAuthenticator.of(List.of(inlineRule(jwks(KEY))), cache);
            String token = sign(KEY);
            var first = JwtFixtures.await(a.authenticate(bearer(token)));
            assertThat(first.rejected()).isFalse();
            assertThat(handedOver).as("a new signature goes to the verifier").hasValue(1);
            var again = JwtFixtures.await(a.authenticate(bearer(token)));
            assertThat(again.rejected()).isFalse();
            assertThat(handedOver).as("a repeated token is answered inline").hasValue(1);
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
