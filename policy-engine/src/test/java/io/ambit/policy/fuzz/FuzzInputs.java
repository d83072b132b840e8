package io.ambit.policy.fuzz;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

/**
 * Shared generators and the fixed seed of the policy-engine property tests. Every property runs with
 * {@link #SEED} so a failure reproduces everywhere; tries are jqwik's default (1000) unless
 * {@code -Djqwik.tries.default=N} asks for a longer run.
 */
final class FuzzInputs {
    /** The fixed seed: change it (or run longer) to explore other inputs; never leave CI on a random one. */
    static final String SEED = "4206120261122";

    private FuzzInputs() {}

    /** Text made mostly of {@code meaningful} characters, then printable ASCII, then anything. */
    static Arbitrary<String> text(String meaningful, int maxLength) {
        Arbitrary<Character> special = Arbitraries.of(chars(meaningful + " \t\0\u007f\u00e9\u0663\uff0f"));
        Arbitrary<Character> ascii = Arbitraries.chars().range(' ', '~');
        Arbitrary<Character> any = Arbitraries.chars();
        return Arbitraries.frequencyOf(Tuple.of(6, special), Tuple.of(3, ascii), Tuple.of(1, any))
                .list()
                .ofMaxSize(maxLength)
                .map(FuzzInputs::join);
    }

    static String join(List<?> parts) {
        StringBuilder sb = new StringBuilder();
        parts.forEach(sb::append);
        return sb.toString();
    }

    /** Requires that both outcomes happen in at least 1% of the tries (else the generator tests nothing). */
    static void outcome(boolean accepted) {
        Statistics.label("outcome").collect(accepted ? "accepted" : "refused");
        Statistics.label("outcome").coverage(c -> {
            c.check("accepted").percentage(p -> p >= 1.0);
            c.check("refused").percentage(p -> p >= 1.0);
        });
    }

    private static Character[] chars(String s) {
        return s.chars().mapToObj(c -> (char) c).toArray(Character[]::new);
    }
}
