package io.ambit.xds.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void failuresDoubleTheDelayFromTenMillisecondsUpToFifteenSeconds() {
        var b = new Backoff(Backoff.INITIAL, Backoff.MAX);
        var delays = new ArrayList<Long>();
        for (int i = 0; i < 14; i++) {
            delays.add(b.failed().toMillis());
        }
        assertThat(delays)
                .containsExactly(
                        10L, 20L, 40L, 80L, 160L, 320L, 640L, 1280L, 2560L, 5120L, 10240L, 15000L, 15000L, 15000L);
    }

    @Test
    void aStreamThatWorkedStartsOverAtTheInitialDelay() {
        var b = new Backoff(Backoff.INITIAL, Backoff.MAX);
        b.failed();
        b.failed();
        b.failed();
        assertThat(b.reset()).isEqualTo(Duration.ofMillis(10));
        assertThat(b.failed()).isEqualTo(Duration.ofMillis(20));
    }

    @Test
    void nonsenseBoundsAreRefused() {
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1)))
                .hasMessageContaining("expected: 0 < initial <= max");
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .hasMessageContaining("expected: 0 < initial <= max");
    }
}
