package io.ambit.policy.load;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Error messages quote the wrong value; a huge value must not put the user's whole file into one log line. */
class ProblemsTest {
    @Test
    void aShortMessageIsKeptWhole() {
        String m = "is \"maybe\" (expected: true or false)";
        assertThat(Problems.bounded(m)).isEqualTo(m);
    }

    @Test
    void aHugeQuotedValueKeepsItsStartAndWhatWasExpected() {
        String value = "root:x:0:0:root:/root:/bin/bash ".repeat(2_000);
        String m = "is \"" + value + "\" (expected: a map of workloads, services and policies)";
        String b = Problems.bounded(m);
        assertThat(b.length()).isLessThan(Problems.MAX_MESSAGE + 60);
        assertThat(b)
                .startsWith("is \"root:x:0:0:root")
                .contains("characters left out")
                .endsWith("(expected: a map of workloads, services and policies)");
    }
}
