package io.ambit.bench.waypointsec;

import io.ambit.waypoint.ratelimit.BucketSpec;
import io.ambit.waypoint.ratelimit.RateLimitDecision;
import io.ambit.waypoint.ratelimit.RateLimitLoader;
import io.ambit.waypoint.ratelimit.RateLimiter;
import io.ambit.waypoint.ratelimit.RateLimits;
import io.ambit.waypoint.ratelimit.Ticker;
import io.ambit.waypoint.ratelimit.TokenBucket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The local rate limit per request: one token bucket ({@code granted} always has tokens, {@code refused} is
 * empty), a keyed {@link RateLimiter}, the whole stage with the article's EnvoyFilter ({@code stage}), and two
 * threads contending on one bucket ({@code contended}, one compare-and-set loop).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TokenBucketBench {
    private TokenBucket granted;
    private TokenBucket refused;
    private RateLimiter keyed;
    private RateLimits stage;

    @Setup
    public void setUp() {
        granted = new TokenBucket(new BucketSpec(BucketSpec.MAX, BucketSpec.MAX, Duration.ofMillis(50)), Ticker.SYSTEM);
        refused = new TokenBucket(new BucketSpec(1, 1, Duration.ofHours(24)), Ticker.SYSTEM);
        refused.tryAcquire();
        keyed = new RateLimiter(new BucketSpec(BucketSpec.MAX, BucketSpec.MAX, Duration.ofMillis(50)), Ticker.SYSTEM);
        stage = new RateLimits();
        var r = new RateLimitLoader("istio-system").text("""
                        apiVersion: networking.istio.io/v1alpha3
                        kind: EnvoyFilter
                        metadata: {name: rate-limit-filter, namespace: production}
                        spec:
                          configPatches:
                            - applyTo: HTTP_FILTER
                              patch:
                                operation: INSERT_BEFORE
                                value:
                                  name: envoy.filters.http.local_ratelimit
                                  typed_config:
                                    "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                                    type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                                    value:
                                      stat_prefix: rate_limit
                                      token_bucket: {max_tokens: 4294967295, tokens_per_fill: 4294967295, fill_interval: 0.05s}
                                      filter_enabled: {default_value: {numerator: 100, denominator: HUNDRED}}
                                      filter_enforced: {default_value: {numerator: 100, denominator: HUNDRED}}
                        """, "bench.yaml").result();
        if (!r.ok()) {
            throw new IllegalStateException(r.errors().toString());
        }
        stage.update(r.limits());
    }

    @Benchmark
    public long granted() {
        return granted.acquire();
    }

    @Benchmark
    public long refused() {
        return refused.acquire();
    }

    @Benchmark
    public boolean keyed() {
        return keyed.tryAcquire("route-orders");
    }

    @Benchmark
    public RateLimitDecision stage() {
        return stage.check("production", "payments", "waypoint", null);
    }

    @Benchmark
    @Threads(2)
    public long contended() {
        return granted.acquire();
    }
}
