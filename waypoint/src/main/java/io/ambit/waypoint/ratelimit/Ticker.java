package io.ambit.waypoint.ratelimit;

/**
 * A monotonic nanosecond clock ({@link System#nanoTime()} in production, a hand-moved one in tests).
 * Token buckets assume it never goes back.
 */
@FunctionalInterface
public interface Ticker {
    long nanos();

    Ticker SYSTEM = System::nanoTime;
}
