package io.ambit.ztunnel.logging;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Lets a warning about input from a peer through at most once per interval and counts the ones held back,
 * so a peer that keeps sending the same bad thing (a CNI agent in a loop, a flood of garbage packets)
 * cannot turn the log into the bottleneck or bury everything else in it. The first warning always passes;
 * the next one that passes says how many were held back in between.
 *
 * <pre>{@code
 * long held = limiter.tryAcquire();
 * if (held >= 0) log.warn("ZDS: request refused: {}{}", error, LogLimiter.heldBack(held));
 * }</pre>
 *
 * <p>Thread-safe without locks: callers race on one compare-and-set of the next allowed time.
 */
public final class LogLimiter {
    private final long intervalNanos;
    private final LongSupplier clock;
    private final AtomicLong nextAllowed;
    private final AtomicLong held = new AtomicLong();

    /** At most one warning per {@code intervalMillis}, on the monotonic clock. */
    public LogLimiter(long intervalMillis) {
        this(intervalMillis, System::nanoTime);
    }

    /** With a clock of one's own (tests step it by hand). */
    LogLimiter(long intervalMillis, LongSupplier clock) {
        if (intervalMillis <= 0) {
            throw new IllegalArgumentException("interval is " + intervalMillis + " ms (expected > 0)");
        }
        this.intervalNanos = intervalMillis * 1_000_000L;
        this.clock = clock;
        this.nextAllowed = new AtomicLong(clock.getAsLong());
    }

    /**
     * Whether to log now: the number of warnings held back since the last one that passed (0 or more),
     * or -1 to stay quiet (this one is then counted as held back).
     */
    public long tryAcquire() {
        long now = clock.getAsLong();
        long next = nextAllowed.get();
        if (now - next >= 0 && nextAllowed.compareAndSet(next, now + intervalNanos)) {
            return held.getAndSet(0);
        }
        held.incrementAndGet();
        return -1;
    }

    /** The suffix a passing warning carries: empty, or how many like it were held back before it. */
    public static String heldBack(long held) {
        return held <= 0 ? "" : " (" + held + " more like it not logged)";
    }
}
