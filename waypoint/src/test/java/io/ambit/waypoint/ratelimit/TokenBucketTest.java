package io.ambit.waypoint.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketTest {
    private final FakeTicker ticker = new FakeTicker();

    @Test
    void itStartsFullAndRefillsTokensPerFillEachIntervalUpToMax() {
        var b = new TokenBucket(new BucketSpec(3, 2, Duration.ofSeconds(1)), ticker);
        assertThat(b.acquire()).isEqualTo(2);
        assertThat(b.acquire()).isEqualTo(1);
        assertThat(b.acquire()).isEqualTo(0);
        assertThat(b.acquire()).isEqualTo(-1);
        ticker.advance(Duration.ofMillis(999));
        assertThat(b.tryAcquire()).isFalse();
        ticker.advance(Duration.ofMillis(1));
        assertThat(b.available()).isEqualTo(2);
        assertThat(b.tryAcquire()).isTrue();
        ticker.advance(Duration.ofHours(5));
        assertThat(b.available()).isEqualTo(3);
    }

    @Test
    void theResetIsTheSecondsToTheNextFill() {
        var b = new TokenBucket(new BucketSpec(10, 10, Duration.ofSeconds(60)), ticker);
        assertThat(b.secondsToNextFill()).isEqualTo(60);
        ticker.advance(Duration.ofMillis(59_500));
        assertThat(b.secondsToNextFill()).isEqualTo(1);
        ticker.advance(Duration.ofMillis(500));
        assertThat(b.secondsToNextFill()).isEqualTo(60);
    }

    @Test
    void hugeBucketsDoNotOverflow() {
        var b = new TokenBucket(new BucketSpec(BucketSpec.MAX, BucketSpec.MAX, Duration.ofMillis(50)), ticker);
        assertThat(b.acquire()).isEqualTo(BucketSpec.MAX - 1);
        ticker.advance(Duration.ofDays(365 * 20)); // far past 2^32 intervals: the epoch wraps
        assertThat(b.available()).isLessThanOrEqualTo(BucketSpec.MAX);
        assertThat(b.tryAcquire()).isTrue();
    }

    @Test
    void invalidSpecsAreRefused() {
        assertThatThrownBy(() -> new BucketSpec(0, 1, Duration.ofSeconds(1))).hasMessageContaining("maxTokens: 0");
        assertThatThrownBy(() -> new BucketSpec(1, 0, Duration.ofSeconds(1))).hasMessageContaining("tokensPerFill: 0");
        assertThatThrownBy(() -> new BucketSpec(1, 1, Duration.ofMillis(49))).hasMessageContaining("at least 50ms");
    }

    /**
     * Property: for random specs and random request times (bursts, pauses, many intervals at once), the
     * bucket grants exactly what a plain reference model grants, and in every span of time no more than
     * {@code maxTokens + tokensPerFill * fills in the span}.
     */
    @Test
    void neverGrantsMoreThanTheConfiguredRate() {
        var random = new Random(20260301L);
        for (int round = 0; round < 300; round++) {
            long max = 1 + random.nextInt(random.nextBoolean() ? 5 : 500);
            long perFill = 1 + random.nextInt((int) Math.min(max * 2, 1000));
            Duration interval = Duration.ofMillis(50 + random.nextInt(2000));
            var t = new FakeTicker();
            var b = new TokenBucket(new BucketSpec(max, perFill, interval), t);
            long start = t.nanos();
            long iv = interval.toNanos();

            long modelTokens = max;
            long modelEpoch = 0;
            var grants = new ArrayList<Long>();
            for (int i = 0; i < 2000; i++) {
                switch (random.nextInt(4)) {
                    case 0 -> t.advanceNanos(0); // burst
                    case 1 -> t.advanceNanos(random.nextLong(iv / 4 + 1));
                    case 2 -> t.advanceNanos(random.nextLong(iv * 2));
                    default -> t.advanceNanos(random.nextLong(iv * 20));
                }
                long epoch = (t.nanos() - start) / iv;
                modelTokens = Math.min(max, modelTokens + (epoch - modelEpoch) * perFill);
                modelEpoch = epoch;
                boolean expected = modelTokens > 0;
                if (expected) {
                    modelTokens--;
                }
                boolean granted = b.tryAcquire();
                assertThat(granted).as("round %d request %d", round, i).isEqualTo(expected);
                if (granted) {
                    grants.add(t.nanos());
                }
            }
            // every span [grants[i], grants[j]] holds at most max + perFill * (fill boundaries inside it)
            for (int i = 0; i < grants.size(); i += 7) {
                for (int j = i; j < grants.size(); j += 13) {
                    long fills = (grants.get(j) - start) / iv - (grants.get(i) - start) / iv;
                    assertThat((long) (j - i + 1)).isLessThanOrEqualTo(max + perFill * fills);
                }
            }
        }
    }

    /** Property under contention: threads racing on one bucket never get more than it holds. */
    @Test
    void concurrentTakersNeverOvershoot() throws Exception {
        var b = new TokenBucket(new BucketSpec(1000, 250, Duration.ofSeconds(1)), ticker);
        var pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 5; round++) {
                var granted = new AtomicLong();
                var go = new CountDownLatch(1);
                List<Future<?>> workers = new ArrayList<>();
                for (int w = 0; w < 4; w++) {
                    workers.add(pool.submit(() -> {
                        go.await();
                        for (int i = 0; i < 2000; i++) {
                            if (b.tryAcquire()) {
                                granted.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                go.countDown();
                for (var f : workers) {
                    f.get(30, TimeUnit.SECONDS);
                }
                assertThat(granted.get()).isEqualTo(round == 0 ? 1000 : 250);
                ticker.advance(Duration.ofSeconds(1));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void keysHaveTheirOwnBucketsAndTheirNumberIsBounded() {
        var limiter = new RateLimiter(new BucketSpec(1, 1, Duration.ofSeconds(1)), ticker);
        assertThat(limiter.tryAcquire("route-a")).isTrue();
        assertThat(limiter.tryAcquire("route-a")).isFalse();
        assertThat(limiter.tryAcquire("route-b")).isTrue();
        for (int i = 0; i < RateLimiter.MAX_KEYS + 10; i++) {
            limiter.tryAcquire("k" + i);
        }
        // past the bound, new keys share one (already empty) bucket: limited, never unlimited
        assertThat(limiter.tryAcquire("one-more")).isFalse();
        assertThat(limiter.bucket("one-more")).isSameAs(limiter.bucket("and-another"));
    }
}
