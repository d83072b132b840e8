package io.ambit.hbone.cert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.hbone.identity.SpiffeId;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The secret manager's behaviour (ztunnel-reference §3.3), on a fake clock: no sleeps, no timings. */
class CertificateManagerTest {
    private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
    private static final SpiffeId SLEEP = SpiffeId.parse("spiffe://cluster.local/ns/default/sa/sleep");
    private static final SpiffeId HTTPBIN = SpiffeId.parse("spiffe://cluster.local/ns/default/sa/httpbin");
    private static final Executor DIRECT = Runnable::run;

    private final MutableClock clock = new MutableClock(T0);
    private final FakeScheduler scheduler = new FakeScheduler(clock);
    private final FakeCa ca = new FakeCa(clock);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<WorkloadCertificate> announced = new CopyOnWriteArrayList<>();

    /** No jitter anywhere: rotation exactly at the fraction, backoff exactly 0.5 s × 2^n. */
    private CertificateManager.Builder builder(Executor executor) {
        return CertificateManager.builder(ca, scheduler, executor)
                .clock(clock)
                .meterRegistry(registry)
                .rotationJitter(0)
                .random(() -> 0.5);
    }

    private CertificateManager manager(Executor executor) {
        var manager = builder(executor).build();
        manager.addListener(announced::add);
        return manager;
    }

    @Test
    void fetchesOnFirstUseOffTheCallersThreadAndSharesOneFetch() {
        var executor = new ManualExecutor();
        var manager = manager(executor);

        CompletableFuture<WorkloadCertificate> first = manager.certificate(SLEEP);
        CompletableFuture<WorkloadCertificate> second = manager.certificate(SLEEP);

        assertThat(first).isNotDone();
        assertThat(second).isNotDone();
        assertThat(ca.calls).as("nothing runs on the caller's thread").isEmpty();
        assertThat(executor.size()).isEqualTo(1);
        assertThat(manager.current(SLEEP)).isEmpty();

        executor.runAll();

        WorkloadCertificate cert = first.join();
        assertThat(second.join()).isSameAs(cert);
        assertThat(cert.identity()).isEqualTo(SLEEP);
        assertThat(cert.lifetime()).isEqualTo(Duration.ofHours(24).plusMinutes(1)); // backdated a minute
        assertThat(manager.current(SLEEP)).containsSame(cert);
        assertThat(manager.certificate(SLEEP)).isCompletedWithValue(cert);
        assertThat(ca.calls).hasSize(1);
        assertThat(executor.size()).isZero();
        assertThat(announced).containsExactly(cert);
    }

    @Test
    void prefetchFetchesAheadOfFirstUse() {
        var executor = new ManualExecutor();
        var manager = manager(executor);

        manager.prefetch(SLEEP);
        manager.prefetch(SLEEP);
        assertThat(executor.size()).isEqualTo(1);
        executor.runAll();

        assertThat(manager.current(SLEEP)).isPresent();
        assertThat(manager.certificate(SLEEP)).isDone();
        manager.prefetch(SLEEP);
        assertThat(executor.size())
                .as("a held certificate is not fetched again")
                .isZero();
        assertThat(ca.calls).hasSize(1);
    }

    @ParameterizedTest
    @MethodSource
    void rotatesAtTheConfiguredPointOfItsLife(double rotateAt, double jitter, double random, double fraction) {
        var manager = builder(DIRECT)
                .rotateAt(rotateAt)
                .rotationJitter(jitter)
                .random(() -> random)
                .build();
        manager.addListener(announced::add);
        WorkloadCertificate first = manager.certificate(SLEEP).join();
        Instant due = first.notBefore().plusNanos((long) (first.lifetime().toNanos() * fraction));

        scheduler.advanceTo(due.minusSeconds(1));
        assertThat(ca.calls).hasSize(1);
        assertThat(manager.current(SLEEP)).containsSame(first);

        scheduler.advanceTo(due);
        assertThat(ca.calls).containsExactly(T0, due);
        WorkloadCertificate second = manager.current(SLEEP).orElseThrow();
        assertThat(second.leaf().getSerialNumber()).isNotEqualTo(first.leaf().getSerialNumber());
        assertThat(second.notBefore()).isAfter(first.notBefore());
        assertThat(announced).containsExactly(first, second);
        assertThat(registry.counter(CertificateManager.ROTATIONS_METRIC, "identity", SLEEP.toString())
                        .count())
                .isEqualTo(1.0);
    }

    static Stream<Arguments> rotatesAtTheConfiguredPointOfItsLife() {
        return Stream.of(
                argumentSet("by default at half its life when the jitter draws nothing", 0.5, 0.05, 0.0, 0.5),
                argumentSet(
                        "the jitter only brings a rotation forward, by at most 5 % of the life",
                        0.5, 0.05, 0.999, 0.5 - 0.05 * 0.999),
                argumentSet("at 80 % of its life when configured so", 0.8, 0.0, 0.5, 0.8),
                argumentSet("at a tenth of its life when configured so", 0.1, 0.0, 0.5, 0.1));
    }

    @Test
    void keepsTheCertificateWhileTheCaIsDownAndRetriesWithBackoff() {
        var manager = manager(DIRECT);
        WorkloadCertificate cert = manager.certificate(SLEEP).join();
        Instant halfLife = cert.notBefore().plus(cert.lifetime().dividedBy(2));
        ca.down = true;

        scheduler.advanceTo(halfLife.plus(Duration.ofMinutes(15)));

        List<Instant> attempts = ca.calls.subList(1, ca.calls.size());
        assertThat(attempts.getFirst()).isEqualTo(halfLife);
        assertThat(gaps(attempts).subList(0, 12))
                .containsExactly(
                        ms(500),
                        ms(1000),
                        ms(2000),
                        ms(4000),
                        ms(8000),
                        ms(16000),
                        ms(32000),
                        ms(64000),
                        ms(128000),
                        ms(150000),
                        ms(150000),
                        ms(150000));
        assertThat(manager.current(SLEEP)).as("the valid certificate is kept").containsSame(cert);
        assertThat(manager.certificate(SLEEP)).isCompletedWithValue(cert);
        assertThat(registry.counter(CertificateManager.FAILURES_METRIC, "identity", SLEEP.toString())
                        .count())
                .isEqualTo(attempts.size());

        scheduler.advanceTo(cert.notAfter());
        assertThat(manager.current(SLEEP))
                .as("an expired certificate is never handed out")
                .isEmpty();
        int callsSoFar = ca.calls.size();
        assertThat(manager.certificate(SLEEP))
                .as("unavailable: fails at once with the CA's error")
                .isCompletedExceptionally();
        assertThatThrownBy(() -> manager.certificate(SLEEP).join())
                .isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(CertificateSourceException.class)
                .hasMessageContaining("CA unavailable");
        assertThat(ca.calls).as("without calling the CA again before the retry").hasSize(callsSoFar);

        ca.down = false;
        scheduler.advanceTo(scheduler.nextDue().orElseThrow());
        WorkloadCertificate renewed = manager.current(SLEEP).orElseThrow();
        assertThat(renewed.notBefore()).isAfter(cert.notAfter().minus(Duration.ofMinutes(2)));
        assertThat(scheduler.nextDue())
                .as("back to rotating at half-life")
                .contains(renewed.notBefore().plus(renewed.lifetime().dividedBy(2)));
        assertThat(announced).containsExactly(cert, renewed);
    }

    @ParameterizedTest
    @MethodSource
    void backoff(int attempt, double random, Duration expected) {
        assertThat(RetryBackoff.DEFAULT.delay(attempt, random)).isEqualTo(expected);
    }

    static Stream<Arguments> backoff() {
        return Stream.of(
                argumentSet("the first retry waits half a second", 0, 0.5, ms(500)),
                argumentSet("each retry doubles the wait", 3, 0.5, ms(4000)),
                argumentSet("the wait stops growing at 150 s", 9, 0.5, ms(150000)),
                argumentSet("and stays there", 40, 0.5, ms(150000)),
                argumentSet("the jitter takes off up to 20 %", 0, 0.0, ms(400)),
                argumentSet("the jitter adds up to 20 %", 1, 1.0, ms(1200)),
                argumentSet("the jitter applies after the cap", 12, 1.0, ms(180000)));
    }

    @Test
    void withoutACertificateAnIdentityIsUnavailableUntilTheNextAttempt() {
        var executor = new ManualExecutor();
        var manager = manager(executor);
        ca.down = true;

        CompletableFuture<WorkloadCertificate> waiting = manager.certificate(SLEEP);
        executor.runAll();
        assertThatThrownBy(waiting::join).hasCauseInstanceOf(CertificateSourceException.class);

        assertThat(manager.certificate(SLEEP)).isCompletedExceptionally();
        scheduler.advance(ms(499));
        assertThat(executor.size()).isZero();
        assertThat(ca.calls).hasSize(1);

        scheduler.advance(ms(1));
        assertThat(executor.size()).as("the retry starts after 500 ms").isEqualTo(1);
        ca.down = false;
        CompletableFuture<WorkloadCertificate> joined = manager.certificate(SLEEP);
        assertThat(joined).as("a caller during the retry waits for it").isNotDone();
        executor.runAll();
        assertThat(joined.join().identity()).isEqualTo(SLEEP);
    }

    @Test
    void atMostEightFetchesRunAtOnceAndRealTimeRequestsGoFirst() {
        var executor = new ManualExecutor();
        var manager = manager(executor);
        List<SpiffeId> warm = IntStream.range(0, 10)
                .mapToObj(i -> SpiffeId.parse("spiffe://cluster.local/ns/warm/sa/sa" + i))
                .toList();

        warm.forEach(manager::prefetch);
        assertThat(executor.size()).isEqualTo(8);
        CompletableFuture<WorkloadCertificate> urgent = manager.certificate(SLEEP);
        assertThat(executor.size()).isEqualTo(8);

        List<Integer> queued = new ArrayList<>();
        while (executor.runNext()) {
            queued.add(executor.size());
        }

        assertThat(queued).allMatch(n -> n <= 8);
        assertThat(ca.requested.subList(0, 9))
                .as("the data-path request overtakes the warm-ups still queued")
                .containsExactly(
                        warm.get(0),
                        warm.get(1),
                        warm.get(2),
                        warm.get(3),
                        warm.get(4),
                        warm.get(5),
                        warm.get(6),
                        warm.get(7),
                        SLEEP);
        assertThat(ca.requested.subList(9, 11)).containsExactly(warm.get(8), warm.get(9));
        assertThat(urgent).isDone();
        assertThat(manager.identities()).hasSize(11);
    }

    @Test
    void aCertificateForAnotherIdentityIsRefused() {
        var manager = manager(DIRECT);
        ca.impersonate = HTTPBIN;

        assertThatThrownBy(() -> manager.certificate(SLEEP).join())
                .hasCauseInstanceOf(CertificateSourceException.class)
                .hasMessageContaining(
                        "the CA returned a certificate for " + HTTPBIN + " when " + SLEEP + " was requested");
        assertThat(manager.current(SLEEP)).isEmpty();
        assertThat(registry.counter(CertificateManager.FAILURES_METRIC, "identity", SLEEP.toString())
                        .count())
                .isEqualTo(1.0);
    }

    @Test
    void aCertificatePastItsRefreshPointIsRefetchedWithBackoffNotInALoop() {
        var manager = manager(DIRECT);
        ca.issuedAgo = Duration.ofHours(20); // valid for 4 more hours, half-life long gone (a static file)

        WorkloadCertificate cert = manager.certificate(SLEEP).join();
        scheduler.advance(Duration.ofSeconds(10));

        assertThat(gaps(ca.calls)).containsExactly(ms(500), ms(1000), ms(2000), ms(4000));
        assertThat(manager.current(SLEEP)).isPresent();
        assertThat(cert.notAfter()).isAfter(clock.instant());
    }

    @Test
    void theSameCertificateAgainIsNeitherARotationNorNews() throws Exception {
        WorkloadCertificate fixed = ca.ca.issue(SLEEP, T0.minus(Duration.ofHours(20)), Duration.ofHours(24));
        var manager = CertificateManager.builder((id, ttl) -> fixed, scheduler, DIRECT)
                .clock(clock)
                .meterRegistry(registry)
                .random(() -> 0.5)
                .build();
        manager.addListener(announced::add);

        manager.certificate(SLEEP).join();
        scheduler.advance(Duration.ofMinutes(10));

        assertThat(announced).containsExactly(fixed);
        assertThat(registry.counter(CertificateManager.ROTATIONS_METRIC, "identity", SLEEP.toString())
                        .count())
                .isZero();
    }

    @Test
    void anExecutorThatRefusesCountsAsAFailure() {
        Executor refusing = task -> {
            throw new RejectedExecutionException("shut down");
        };
        var manager = manager(refusing);

        assertThatThrownBy(() -> manager.certificate(SLEEP).join())
                .hasCauseInstanceOf(CertificateSourceException.class)
                .hasMessageContaining("rejected");
        assertThat(scheduler.nextDue()).contains(T0.plus(ms(500)));
    }

    @Test
    void theExpiryGaugeCarriesNotAfterPerIdentity() {
        var manager = manager(DIRECT);
        WorkloadCertificate sleep = manager.certificate(SLEEP).join();
        clock.advance(Duration.ofMinutes(5));
        WorkloadCertificate httpbin = manager.certificate(HTTPBIN).join();

        assertThat(registry.get(CertificateManager.EXPIRY_METRIC)
                        .tag("identity", SLEEP.toString())
                        .gauge()
                        .value())
                .isEqualTo(sleep.notAfter().getEpochSecond());
        assertThat(registry.get(CertificateManager.EXPIRY_METRIC)
                        .tag("identity", HTTPBIN.toString())
                        .gauge()
                        .value())
                .isEqualTo(httpbin.notAfter().getEpochSecond());
    }

    @Test
    void forgetDropsTheCertificateTimersAndMetricsAndFailsWaiters() {
        var manager = manager(DIRECT);
        manager.certificate(SLEEP).join();
        assertThat(registry.find(CertificateManager.EXPIRY_METRIC).gauges()).hasSize(1);

        manager.forget(SLEEP);

        assertThat(manager.current(SLEEP)).isEmpty();
        assertThat(manager.identities()).isEmpty();
        assertThat(registry.getMeters()).isEmpty();
        assertThat(scheduler.pending()).as("no rotation left behind").isEmpty();
        scheduler.advance(Duration.ofDays(2));
        assertThat(ca.calls).hasSize(1);

        var executor = new ManualExecutor();
        var other = manager(executor);
        CompletableFuture<WorkloadCertificate> waiting = other.certificate(HTTPBIN);
        other.forget(HTTPBIN);
        assertThatThrownBy(waiting::join).hasMessageContaining("was forgotten");
        executor.runAll();
        assertThat(other.current(HTTPBIN))
                .as("a fetch finishing after forget is discarded")
                .isEmpty();
        assertThat(announced).hasSize(1);
    }

    @Test
    void aClosedListenerHearsNothingMore() {
        var manager = manager(DIRECT);
        List<WorkloadCertificate> heard = new ArrayList<>();
        Subscription subscription = manager.addListener(heard::add);
        WorkloadCertificate first = manager.certificate(SLEEP).join();
        subscription.close();

        scheduler.advance(Duration.ofHours(13));

        assertThat(heard).containsExactly(first);
        assertThat(announced).hasSize(2);
    }

    @Test
    void closeFailsWaitersAndStopsRotating() {
        var executor = new ManualExecutor();
        var manager = manager(executor);
        CompletableFuture<WorkloadCertificate> waiting = manager.certificate(SLEEP);

        manager.close();

        assertThatThrownBy(waiting::join).hasMessageContaining("closed");
        assertThat(manager.certificate(HTTPBIN)).isCompletedExceptionally();
        executor.runAll();
        assertThat(scheduler.pending()).isEmpty();
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    private static List<Duration> gaps(List<Instant> instants) {
        List<Duration> gaps = new ArrayList<>();
        for (int i = 1; i < instants.size(); i++) {
            gaps.add(Duration.between(instants.get(i - 1), instants.get(i)));
        }
        return gaps;
    }
}
