package io.ambit.waypoint.stages;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class QueriesTest {
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(
                        "a parameter is added to a path without query",
                        "/a",
                        List.of(Map.entry("x", "1")),
                        List.of(),
                        "/a?x=1"),
                Arguments.of(
                        "a parameter replaces every one of its name",
                        "/a?x=0&y=2&x=3",
                        List.of(Map.entry("x", "1")),
                        List.of(),
                        "/a?y=2&x=1"),
                Arguments.of(
                        "a removed parameter goes, encoded or not",
                        "/a?t%6Fken=s&token=t&keep=1",
                        List.of(),
                        List.of("token"),
                        "/a?keep=1"),
                Arguments.of(
                        "removing the last parameter drops the ?", "/a?token=s", List.of(), List.of("token"), "/a"),
                Arguments.of(
                        "values are percent-encoded",
                        "/a",
                        List.of(Map.entry("q", "a b&c=d/é")),
                        List.of(),
                        "/a?q=a%20b%26c%3Dd%2F%C3%A9"),
                Arguments.of("the path is never touched", "/x/../y?z", List.of(), List.of("z"), "/x/../y"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void editsOnlyTheQuery(
            String name, String target, List<Map.Entry<String, String>> set, List<String> remove, String expected) {
        assertThat(Queries.edit(target, set, remove)).isEqualTo(expected);
    }
}
