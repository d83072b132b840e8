package io.ambit.waypoint.ratelimit;

import java.time.Duration;

/**
 * A token bucket's settings, as Envoy's {@code token_bucket}: it starts full with {@code maxTokens};
 * every {@code fillInterval}, {@code tokensPerFill} tokens are added, up to {@code maxTokens}; a request
 * takes one. So at most {@code maxTokens + tokensPerFill * n} requests pass in any span holding {@code n}
 * fills.
 *
 * @param maxTokens     bucket size, 1 to 2^32-1 (Envoy's uint32)
 * @param tokensPerFill tokens added per fill, 1 to 2^32-1 (Envoy's default is 1)
 * @param fillInterval  at least 50 ms (Envoy refuses shorter)
 */
public record BucketSpec(long maxTokens, long tokensPerFill, Duration fillInterval) {
    public static final long MAX = 0xFFFF_FFFFL;
    public static final Duration MIN_INTERVAL = Duration.ofMillis(50);

    public BucketSpec {
        if (maxTokens < 1 || maxTokens > MAX) {
            throw new IllegalArgumentException("maxTokens: " + maxTokens + " (expected: 1 to " + MAX + ")");
        }
        if (tokensPerFill < 1 || tokensPerFill > MAX) {
            throw new IllegalArgumentException("tokensPerFill: " + tokensPerFill + " (expected: 1 to " + MAX + ")");
        }
        if (fillInterval == null || fillInterval.compareTo(MIN_INTERVAL) < 0) {
            throw new IllegalArgumentException("fillInterval: " + fillInterval + " (expected: at least 50ms)");
        }
    }
}
