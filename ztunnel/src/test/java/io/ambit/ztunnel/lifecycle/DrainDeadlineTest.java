package io.ambit.ztunnel.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DrainDeadlineTest {
    @Test
    void fiveSecondsWhenNothingIsSet() {
        assertThat(DrainDeadline.fromEnvironment(Map.of())).isEqualTo(Duration.ofSeconds(5));
    }

    @ParameterizedTest
    @CsvSource({"30, 25", "11, 6", "10, 9", "2, 1", "0, 0"})
    void theGracePeriodLeavesTheKubeletItsMargin(String grace, long expected) {
        assertThat(DrainDeadline.fromEnvironment(Map.of("TERMINATION_GRACE_PERIOD_SECONDS", grace)))
                .isEqualTo(Duration.ofSeconds(expected));
    }

    @Test
    void theExplicitDeadlineWins() {
        var env = Map.of("CONNECTION_TERMINATION_DEADLINE", "1500ms", "TERMINATION_GRACE_PERIOD_SECONDS", "30");
        assertThat(DrainDeadline.fromEnvironment(env)).isEqualTo(Duration.ofMillis(1500));
    }

    @ParameterizedTest
    @CsvSource({"5s, 5000", "0.5s, 500", "250ms, 250", "2m, 120000", "7, 7000", "0, 0"})
    void durations(String text, long millis) {
        assertThat(DrainDeadline.parse(text, "x")).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @ValueSource(strings = {"soon", "-1s", "2h", "5 seconds", "", "ms"})
    void badDurationsNameTheSettingAndTheExpectedShape(String text) {
        assertThatThrownBy(() -> DrainDeadline.parse(text, "--drain-deadline"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--drain-deadline is \"" + text + "\"")
                .hasMessageContaining("expected: a duration from 0 to 1h");
    }

    @Test
    void aBadGracePeriodIsNamed() {
        assertThatThrownBy(() -> DrainDeadline.fromEnvironment(Map.of("TERMINATION_GRACE_PERIOD_SECONDS", "-3")))
                .hasMessageContaining("TERMINATION_GRACE_PERIOD_SECONDS is \"-3\"");
    }
}
