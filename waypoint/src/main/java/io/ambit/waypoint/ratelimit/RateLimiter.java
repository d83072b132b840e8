package io.ambit.waypoint.ratelimit;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Token buckets of one {@link BucketSpec} by key (a route, a policy, a connection): {@code tryAcquire(key)}.
 * Keys are meant to come from configuration, so they are few; past {@link #MAX_KEYS} distinct keys, new
 * keys share one overflow bucket, so memory stays bounded and those requests stay limited (never unlimited).
 */
public final class RateLimiter {
    public static final int MAX_KEYS = 10_000;

    private final BucketSpec spec;
    private final Ticker ticker;
    private final ConcurrentHashMap<String, TokenBucket> buckets = new ConcurrentHashMap<>();
    private final TokenBucket overflow;

    public RateLimiter(BucketSpec spec, Ticker ticker) {
        this.spec = spec;
        this.ticker = ticker;
        this.overflow = new TokenBucket(spec, ticker);
    }

    /** Whether a request under {@code key} may pass (and takes its token). */
    public boolean tryAcquire(String key) {
        return bucket(key).tryAcquire();
    }

    /** The bucket of a key, created full on first use. */
    public TokenBucket bucket(String key) {
        TokenBucket b = buckets.get(key);
        if (b != null) {
            return b;
        }
        if (buckets.size() >= MAX_KEYS) {
            return overflow;
        }
        return buckets.computeIfAbsent(key, k -> new TokenBucket(spec, ticker));
    }

    public BucketSpec spec() {
        return spec;
    }
}
