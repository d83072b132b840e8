package io.ambit.waypoint.ratelimit;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A lock-free token bucket ({@link BucketSpec}). The whole state is one {@code long}: the number of fill
 * intervals since creation (high 32 bits, compared modulo 2^32) and the tokens left (low 32 bits). Fills
 * are computed from the clock when a request comes, so an idle bucket costs nothing and there is no timer.
 * One compare-and-set per grant; contention retries, it never blocks.
 */
public final class TokenBucket {
    private static final long LOW = 0xFFFF_FFFFL;

    private final BucketSpec spec;
    private final Ticker ticker;
    private final long start;
    private final long interval;
    /** Fills needed to go from empty to full: beyond this many, elapsed time no longer matters. */
    private final long fillsToFull;

    private final AtomicLong state;

    public TokenBucket(BucketSpec spec, Ticker ticker) {
        this.spec = spec;
        this.ticker = ticker;
        this.start = ticker.nanos();
        this.interval = spec.fillInterval().toNanos();
        this.fillsToFull = (spec.maxTokens() + spec.tokensPerFill() - 1) / spec.tokensPerFill();
        this.state = new AtomicLong(spec.maxTokens()); // epoch 0, full
    }

    public BucketSpec spec() {
        return spec;
    }

    /** Takes a token if there is one. */
    public boolean tryAcquire() {
        return acquire() >= 0;
    }

    /** Takes a token: the tokens left afterwards, or -1 when there was none. */
    public long acquire() {
        long epoch = epoch(ticker.nanos());
        while (true) {
            long s = state.get();
            long tokens = refilled(s, epoch);
            if (tokens == 0) {
                return -1; // nothing was refilled either, so there is nothing to store
            }
            long next = (epoch << 32) | (tokens - 1);
            if (state.compareAndSet(s, next)) {
                return tokens - 1;
            }
        }
    }

    /** Tokens available now, without taking one. */
    public long available() {
        return refilled(state.get(), epoch(ticker.nanos()));
    }

    /** Whole seconds (rounded up) until the next fill: Envoy's {@code x-ratelimit-reset}. */
    public long secondsToNextFill() {
        long elapsed = Math.max(0, ticker.nanos() - start);
        long toNext = interval - (elapsed % interval);
        return (toNext + 999_999_999L) / 1_000_000_000L;
    }

    private long epoch(long now) {
        return (Math.max(0, now - start) / interval) & LOW;
    }

    private long refilled(long s, long epoch) {
        long tokens = s & LOW;
        long fills = (epoch - (s >>> 32)) & LOW; // the ticker is monotonic, so this wraps correctly
        if (fills == 0 || tokens == spec.maxTokens()) {
            return tokens;
        }
        if (fills >= fillsToFull) {
            return spec.maxTokens();
        }
        return Math.min(spec.maxTokens(), tokens + fills * spec.tokensPerFill()); // < 2^32 * 2^32 / 2^32: no overflow
    }
}
