package io.ambit.xds.client;

import java.time.Duration;

/**
 * ztunnel's reconnect delay (ztunnel-reference §4.3): starts at 10 ms, doubles on each failure up to 15 s,
 * back to the start after a stream that worked. Not thread-safe: the control thread owns it.
 */
final class Backoff {
    static final Duration INITIAL = Duration.ofMillis(10);
    static final Duration MAX = Duration.ofSeconds(15);

    private final Duration initial;
    private final Duration max;
    private Duration next;

    Backoff(Duration initial, Duration max) {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff " + initial + " to " + max + " (expected: 0 < initial <= max)");
        }
        this.initial = initial;
        this.max = max;
        this.next = initial;
    }

    /** The delay before the next attempt after a failure; the one after that is twice as long. */
    Duration failed() {
        Duration d = next;
        next = next.multipliedBy(2).compareTo(max) > 0 ? max : next.multipliedBy(2);
        return d;
    }

    /** After a stream that received responses: reconnect at once (after the initial delay). */
    Duration reset() {
        next = initial;
        return failed();
    }
}
