package io.ambit.hbone.cert;

import java.time.Duration;

/**
 * Exponential backoff with jitter for retrying a CA: {@code initial × multiplier^attempt}, capped at {@code
 * max}, then spread by ±{@code jitter} (so a capped delay may exceed {@code max} by up to that fraction, as
 * in ztunnel).
 *
 * @param initial the first delay
 * @param multiplier growth per attempt, ≥ 1
 * @param max the cap before jitter
 * @param jitter the spread, a fraction in [0, 1)
 */
public record RetryBackoff(Duration initial, double multiplier, Duration max, double jitter) {
    /** ztunnel's: 500 ms, doubling, capped at 150 s, ±20 % (ztunnel-reference §3.3). */
    public static final RetryBackoff DEFAULT =
            new RetryBackoff(Duration.ofMillis(500), 2.0, Duration.ofSeconds(150), 0.2);

    public RetryBackoff {
        if (initial.isNegative() || initial.isZero()) {
            throw new IllegalArgumentException("backoff initial: " + initial + " (expected > 0)");
        }
        if (!(multiplier >= 1.0)) {
            throw new IllegalArgumentException("backoff multiplier: " + multiplier + " (expected >= 1)");
        }
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff max: " + max + " (expected >= initial " + initial + ")");
        }
        if (!(jitter >= 0.0 && jitter < 1.0)) {
            throw new IllegalArgumentException("backoff jitter: " + jitter + " (expected in [0, 1))");
        }
    }

    /**
     * The delay before retry number {@code attempt} (0 for the first retry).
     *
     * @param random a uniform sample in [0, 1); 0.5 means no jitter
     */
    public Duration delay(int attempt, double random) {
        double base = initial.toNanos() * Math.pow(multiplier, Math.max(0, attempt));
        double capped = Math.min(base, (double) max.toNanos());
        return Duration.ofNanos(Math.round(capped * (1.0 + jitter * (2.0 * random - 1.0))));
    }
}
