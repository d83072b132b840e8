package io.ambit.policy.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.path.PathTemplate;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * URI templates in {@code paths} ({@code {*}}, {@code {**}}): validation answers a reason or nothing and
 * never throws; a template that compiles matches exactly what the obvious regular expression matches
 * ({@code {*}} = {@code [^/]+}, {@code {**}} = {@code .*}, the rest literal) on paths built from the
 * template's own pieces, where the interesting cases are.
 */
class PathTemplateFuzzTest {

    @Property(seed = FuzzInputs.SEED)
    void validationAnswersAndCompileAgrees(@ForAll("templates") String pattern) {
        Optional<String> problem = PathTemplate.validate(pattern);

        FuzzInputs.outcome(problem.isEmpty());
        if (problem.isPresent()) {
            assertThat(problem.get()).startsWith("path template \"");
            try {
                PathTemplate.compile(pattern);
                throw new AssertionError("compiled although invalid: " + pattern);
            } catch (IllegalArgumentException expected) {
                assertThat(expected.getMessage()).isEqualTo(problem.get());
            }
        } else {
            assertThat(PathTemplate.compile(pattern).pattern()).isEqualTo(pattern);
        }
    }

    @Property(seed = FuzzInputs.SEED)
    void aCompiledTemplateMatchesLikeItsRegularExpression(@ForAll("templateAndPath") List<String> pair) {
        String pattern = pair.get(0);
        String path = pair.get(1);
        if (PathTemplate.validate(pattern).isPresent()) {
            return;
        }

        boolean matches = PathTemplate.compile(pattern).matches(path);

        assertThat(matches)
                .as(pattern + " on " + path)
                .isEqualTo(regex(pattern).matcher(path).matches());
        net.jqwik.api.statistics.Statistics.label("match").collect(matches);
        net.jqwik.api.statistics.Statistics.label("match").coverage(c -> {
            c.check(true).percentage(p -> p >= 1.0);
            c.check(false).percentage(p -> p >= 1.0);
        });
    }

    private static Pattern regex(String template) {
        StringBuilder re = new StringBuilder();
        for (String segment : template.split("/", -1)) {
            switch (segment) {
                case "{*}" -> re.append("[^/]+");
                case "{**}" -> re.append(".*");
                default -> re.append(Pattern.quote(segment));
            }
            re.append("/");
        }
        re.setLength(re.length() - 1); // no separator after the last segment
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    @Provide
    Arbitrary<String> templates() {
        Arbitrary<String> segment = Arbitraries.oneOf(
                Arbitraries.of("{*}", "{**}", "a", "b.c", "", "x{*}", "{", "}", "{***}", "*", "%2F", "~"),
                FuzzInputs.text("{}*/ab", 5));
        return segment.list().ofMaxSize(6).map(parts -> String.join("/", parts));
    }

    @Provide
    Arbitrary<List<String>> templateAndPath() {
        Arbitrary<String> literal = Arbitraries.of("a", "b", "ab", "v1", "%2F");
        Arbitrary<String> templateSegment = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, literal),
                net.jqwik.api.Tuple.of(2, Arbitraries.just("{*}")),
                net.jqwik.api.Tuple.of(1, Arbitraries.just("{**}")));
        Arbitrary<String> template =
                templateSegment.list().ofMinSize(1).ofMaxSize(5).map(parts -> "/" + String.join("/", parts));
        Arbitrary<String> pathSegment = Arbitraries.of("a", "b", "ab", "v1", "", "x", "a/b", "%2F", "b/ab");
        Arbitrary<String> path = pathSegment.list().ofMaxSize(6).map(parts -> "/" + String.join("/", parts));
        return Combinators.combine(template, path).as(List::of);
    }
}
