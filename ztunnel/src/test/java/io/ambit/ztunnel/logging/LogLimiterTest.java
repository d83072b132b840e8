package io.ambit.ztunnel.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LogLimiterTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final LogLimiter limiter = new LogLimiter(1_000, now::get);

    @Test
    void firstPassesThenOnePerIntervalWithTheCountHeldBack() {
        assertThat(limiter.tryAcquire()).isZero();
        assertThat(limiter.tryAcquire()).isEqualTo(-1);
        assertThat(limiter.tryAcquire()).isEqualTo(-1);
        now.addAndGet(999_999_999L);
        assertThat(limiter.tryAcquire()).as("still inside the interval").isEqualTo(-1);
        now.addAndGet(1);
        assertThat(limiter.tryAcquire()).as("three held back").isEqualTo(3);
        now.addAndGet(5_000_000_000L);
        assertThat(limiter.tryAcquire()).as("nothing held back since").isZero();
    }

    @Test
    void suffixNamesHowManyWereHeldBack() {
        assertThat(LogLimiter.heldBack(0)).isEmpty();
        assertThat(LogLimiter.heldBack(7)).isEqualTo(" (7 more like it not logged)");
    }

    @Test
    void refusesAnIntervalThatIsNotPositive() {
        assertThatThrownBy(() -> new LogLimiter(0)).hasMessageContaining("expected > 0");
    }
}
