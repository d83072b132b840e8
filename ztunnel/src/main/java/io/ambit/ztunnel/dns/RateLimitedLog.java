package io.ambit.ztunnel.dns;

import io.ambit.ztunnel.logging.LogLimiter;
import org.slf4j.Logger;

/**
 * At most one warning per 10 s for a kind of bad input, with how many were held back: a flood of garbage
 * packets must not become a flood of log lines.
 */
final class RateLimitedLog {
    private final Logger log;
    private final LogLimiter limiter = new LogLimiter(10_000);

    RateLimitedLog(Logger log) {
        this.log = log;
    }

    void warn(String what, Object detail) {
        long held = limiter.tryAcquire();
        if (held >= 0) {
            log.warn("{}: {}{}", what, detail, LogLimiter.heldBack(held));
        }
    }
}
