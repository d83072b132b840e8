package io.ambit.hbone.fuzz;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/**
 * Shared generators and the fixed seed of the hbone property tests. Every property runs with {@link #SEED}
 * so a failure reproduces on every machine; the number of tries is jqwik's default (1000) unless
 * {@code -Djqwik.tries.default=N} asks for a longer run.
 */
final class FuzzInputs {
    /** The fixed seed: change it (or run longer) to explore other inputs; never leave CI on a random one. */
    static final String SEED = "4206120261122";

    private FuzzInputs() {}

    /**
     * Header-like text: mostly characters that mean something to the parsers (separators, quotes, escapes,
     * controls, a few non-ASCII letters and digits), sometimes any character at all.
     */
    static Arbitrary<String> headerText(String meaningful, int maxLength) {
        Arbitrary<Character> special =
                Arbitraries.of(toChars(meaningful + " \t\r\n\0\u007f\u0085\u00e9\u0663\uff10\u2003"));
        Arbitrary<Character> ascii = Arbitraries.chars().range(' ', '~');
        Arbitrary<Character> any = Arbitraries.chars();
        Arbitrary<Character> c = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, special), net.jqwik.api.Tuple.of(4, ascii), net.jqwik.api.Tuple.of(1, any));
        return c.list().ofMaxSize(maxLength).map(FuzzInputs::join);
    }

    /**
     * Records whether the parser accepted this try and requires, over the whole run, that both outcomes
     * happened in at least 1% of tries: a generator that never reaches the accepting (or the refusing) path
     * would make the property pass without testing anything.
     */
    static void outcome(boolean accepted) {
        net.jqwik.api.statistics.Statistics.label("outcome").collect(accepted ? "accepted" : "refused");
        net.jqwik.api.statistics.Statistics.label("outcome").coverage(c -> {
            c.check("accepted").percentage(p -> p >= 1.0);
            c.check("refused").percentage(p -> p >= 1.0);
        });
    }

    static String join(java.util.List<?> parts) {
        StringBuilder sb = new StringBuilder();
        parts.forEach(sb::append);
        return sb.toString();
    }

    private static Character[] toChars(String s) {
        return s.chars().mapToObj(c -> (char) c).toArray(Character[]::new);
    }
}
