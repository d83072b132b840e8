package io.ambit.waypoint.conformance.attack;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.waypoint.ingress.HostNames;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HostNamesTest {
    @ParameterizedTest(name = "{0} is matched and forwarded as {1}")
    @CsvSource({
        "secret.example.com., secret.example.com",
        "SECRET.example.com.:8000, SECRET.example.com:8000",
        "secret.example.com, secret.example.com",
        "secret.example.com:8000, secret.example.com:8000",
        "127.0.0.1:80, 127.0.0.1:80",
        "'[::1]:80', '[::1]:80'",
        "., .",
        "a..:80, a..:80",
        "x.:1, x:1"
    })
    void aTrailingDotOfTheHostIsRemovedAndNothingElse(String sent, String canonical) {
        assertThat(HostNames.withoutTrailingDot(sent)).isEqualTo(canonical);
    }
}
