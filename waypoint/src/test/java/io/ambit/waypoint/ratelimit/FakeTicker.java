package io.ambit.waypoint.ratelimit;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A ticker that moves only when the test moves it. */
final class FakeTicker implements Ticker {
    private final AtomicLong now = new AtomicLong(1_000_000_000_000L);

    @Override
    public long nanos() {
        return now.get();
    }

    void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    void advanceNanos(long n) {
        now.addAndGet(n);
    }
}
