package io.ambit.waypoint.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.load.LoadError;
import io.ambit.waypoint.ratelimit.RateLimitLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Rate limits from a file (the article's EnvoyFilter {@code local_ratelimit} and Ambit's LocalRateLimit, as
 * {@code examples/waypoint-security.yaml} ships them), mutated line by line: the reader either loads them or
 * names the file and a line or field for every error — never an exception, never an error without a place.
 */
class RateLimitFileFuzzTest {
    private static final String NAME = "waypoint-security.yaml";
    private static final List<String> LINES = lines();

    @Property(seed = FuzzInputs.SEED)
    void aMutatedRateLimitFileLoadsOrNamesWhereItIsWrong(@ForAll("mutants") String text) {
        RateLimitLoader.Result r =
                new RateLimitLoader("istio-system").text(text, NAME).result();

        FuzzInputs.outcome(r.ok());
        for (LoadError e : r.errors()) {
            assertThat(e.file()).isEqualTo(NAME);
            assertThat(e.message()).isNotBlank();
            assertThat(e.line() > 0 || e.field() != null || e.object() != null)
                    .as("%s names where the problem is", e)
                    .isTrue();
        }
    }

    /** The file the mutations start from loads, with its limits. */
    @Example
    void theUnmutatedFileLoads() {
        RateLimitLoader.Result r = new RateLimitLoader("istio-system")
                .text(String.join("\n", LINES), NAME)
                .result();
        assertThat(r.errors()).isEmpty();
        assertThat(r.limits()).isNotEmpty();
    }

    private record Mutation(int kind, int line, int other, String value) {
        List<String> apply(List<String> lines) {
            List<String> out = new ArrayList<>(lines);
            int i = Math.floorMod(line, out.size());
            int j = Math.floorMod(other, out.size());
            switch (kind) {
                case 0 -> out.remove(i);
                case 1 -> out.add(i, out.get(i));
                case 2 -> {
                    String t = out.get(i);
                    out.set(i, out.get(j));
                    out.set(j, t);
                }
                case 3 -> out.add(i, value);
                default -> {
                    String l = out.get(i);
                    int colon = l.indexOf(": ");
                    out.set(i, (colon >= 0 ? l.substring(0, colon + 2) : "") + value);
                }
            }
            return out;
        }
    }

    @Provide
    Arbitrary<String> mutants() {
        Arbitrary<String> value = Arbitraries.oneOf(
                Arbitraries.of(
                        "-1",
                        "0",
                        "4294967296",
                        "99999999999999999999",
                        "1.5",
                        "0s",
                        "-5s",
                        "1h",
                        "1e9s",
                        "abc",
                        "\"\"",
                        "[",
                        "{",
                        "{a: b}",
                        "[1, [2]]",
                        "*",
                        "&a x",
                        "*a",
                        "!!binary AAAA",
                        "~",
                        "null",
                        "true",
                        "? [x]",
                        "{[1]: 2}",
                        "\"\\u0001\"",
                        "\t",
                        "---",
                        "x".repeat(3000)),
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(10));
        Arbitrary<Mutation> mutation = Combinators.combine(
                        Arbitraries.integers().between(0, 4),
                        Arbitraries.integers().between(0, 1000),
                        Arbitraries.integers().between(0, 1000),
                        value)
                .as(Mutation::new);
        return mutation.list().ofMinSize(1).ofMaxSize(3).map(ms -> {
            List<String> lines = LINES;
            for (Mutation m : ms) {
                lines = m.apply(lines);
            }
            return String.join("\n", lines) + "\n";
        });
    }

    private static List<String> lines() {
        try {
            return Files.readAllLines(Path.of("../examples/waypoint-security.yaml"));
        } catch (IOException e) {
            throw new UncheckedIOException("the example this test mutates", e);
        }
    }
}
