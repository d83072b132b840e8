package io.ambit.hbone.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** ztunnel's TCP keepalive defaults and its {@code KEEPALIVE_*} environment overrides. */
final class TcpKeepaliveTest {

    @Test
    void defaultsAreZtunnels() {
        TcpKeepalive k = TcpKeepalive.fromEnvironment(Map.of());
        assertThat(k).isEqualTo(TcpKeepalive.defaults());
        assertThat(k.enabled()).isTrue();
        assertThat(k.idleSeconds()).isEqualTo(180);
        assertThat(k.intervalSeconds()).isEqualTo(180);
        assertThat(k.probes()).isEqualTo(9);
    }

    @Test
    void theEnvironmentOverridesEachValue() {
        TcpKeepalive k = TcpKeepalive.fromEnvironment(Map.of(
                "KEEPALIVE_TIME",
                "2m",
                "KEEPALIVE_INTERVAL",
                "15s",
                "KEEPALIVE_RETRIES",
                "4",
                "KEEPALIVE_ENABLED",
                "true"));
        assertThat(k).isEqualTo(new TcpKeepalive(true, Duration.ofSeconds(120), Duration.ofSeconds(15), 4));
        assertThat(TcpKeepalive.fromEnvironment(Map.of("KEEPALIVE_TIME", " 45 "))
                        .idleSeconds())
                .isEqualTo(45);
        assertThat(TcpKeepalive.fromEnvironment(Map.of("KEEPALIVE_ENABLED", "FALSE"))
                        .enabled())
                .isFalse();
        assertThat(TcpKeepalive.fromEnvironment(Map.of("KEEPALIVE_TIME", ""))).isEqualTo(TcpKeepalive.defaults());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "KEEPALIVE_TIME     | soon  | whole seconds from 1s to 32767s",
                "KEEPALIVE_TIME     | 0s    | whole seconds from 1s to 32767s",
                "KEEPALIVE_TIME     | 10h   | whole seconds from 1s to 32767s",
                "KEEPALIVE_INTERVAL | 1.5s  | whole seconds from 1s to 32767s",
                "KEEPALIVE_INTERVAL | -3    | whole seconds from 1s to 32767s",
                "KEEPALIVE_RETRIES  | 0     | a count from 1 to 127",
                "KEEPALIVE_RETRIES  | 128   | a count from 1 to 127",
                "KEEPALIVE_RETRIES  | many  | a count from 1 to 127",
                "KEEPALIVE_ENABLED  | yes   | true or false",
            })
    void aMalformedOverrideNamesTheVariableItsValueAndWhatIsExpected(String variable, String value, String expected) {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> TcpKeepalive.fromEnvironment(Map.of(variable, value)))
                .withMessageContaining(variable + " is \"" + value + "\"")
                .withMessageContaining(expected);
    }

    @Test
    void theRecordRefusesValuesTheKernelWouldNot() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new TcpKeepalive(true, Duration.ofMillis(1500), Duration.ofSeconds(1), 1))
                .withMessageContaining("idle");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new TcpKeepalive(true, Duration.ofSeconds(1), Duration.ofSeconds(40_000), 1))
                .withMessageContaining("interval");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new TcpKeepalive(true, Duration.ofSeconds(1), Duration.ofSeconds(1), 0))
                .withMessageContaining("probes");
    }
}
