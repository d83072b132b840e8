package io.ambit.policy.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PathTemplateTest {

    @ParameterizedTest
    @MethodSource
    void recognizesTemplates(String pattern, boolean expected) {
        assertThat(PathTemplate.isTemplate(pattern)).isEqualTo(expected);
    }

    static Stream<Arguments> recognizesTemplates() {
        return Stream.of(
                argumentSet("a one-segment operator makes a template", "/foo/{*}", true),
                argumentSet("a many-segment operator makes a template", "/foo/{**}", true),
                argumentSet("a stray opening brace makes a (broken) template", "/foo/{", true),
                argumentSet("a stray closing brace makes a (broken) template", "/foo}", true),
                argumentSet("a named variable makes a (broken) template", "/foo/{id}", true),
                argumentSet("a trailing star is a prefix match, not a template", "/foo/*", false),
                argumentSet("a lone star is a presence match, not a template", "*", false),
                argumentSet("an infix star is a literal, not a template", "/api/*/info", false),
                argumentSet("a plain path is not a template", "/foo", false));
    }

    @ParameterizedTest
    @MethodSource
    void acceptsValidTemplates(String pattern) {
        assertThat(PathTemplate.validate(pattern)).isEmpty();
        assertThat(PathTemplate.compile(pattern).pattern()).isEqualTo(pattern);
    }

    static Stream<Arguments> acceptsValidTemplates() {
        return Stream.of(
                argumentSet("one-segment operator at the end", "/foo/{*}"),
                argumentSet("many-segment operator at the end", "/foo/{**}"),
                argumentSet("one-segment operators before a many-segment one", "/foo/{*}/bar/{*}/{**}"),
                argumentSet("literal segments after the many-segment operator", "/store/{**}/cart"),
                argumentSet("a trailing slash after the many-segment operator", "/foo/{**}/"),
                argumentSet("the many-segment operator alone", "{**}"),
                argumentSet("the many-segment operator under the root", "/{**}"),
                argumentSet("adjacent one-segment operators", "/{*}/{*}"),
                argumentSet("a one-segment operator without a leading slash", "{*}/foo"),
                argumentSet("a path without braces", "/foo/bar"));
    }

    @ParameterizedTest
    @MethodSource
    void rejectsInvalidTemplates(String pattern, String reason) {
        assertThat(PathTemplate.validate(pattern))
                .hasValueSatisfying(message ->
                        assertThat(message).contains("\"" + pattern + "\"").contains(reason));
        assertThatThrownBy(() -> PathTemplate.compile(pattern))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(PathTemplate.validate(pattern).orElseThrow());
    }

    static Stream<Arguments> rejectsInvalidTemplates() {
        String notLast = "{**} is not the last operator";
        String whole = "(expected: {*} or {**} as a whole /-delimited segment)";
        String brace = "contains '{' or '}' outside {*} and {**}";
        return Stream.of(
                argumentSet("a one-segment operator after the many-segment one is rejected", "/foo/{**}/{*}", notLast),
                argumentSet("a second many-segment operator is rejected", "/foo/{**}/bar/{**}", notLast),
                argumentSet("an operator glued to a prefix is rejected", "/foo/a{*}", whole),
                argumentSet("an operator glued to a suffix is rejected", "/foo/{*}.txt", whole),
                argumentSet("a many-segment operator glued to text is rejected", "/foo/{**}.mpd", whole),
                argumentSet("two operators in one segment are rejected", "/foo/{*}{*}", whole),
                argumentSet("a named variable is rejected", "/foo/{id}", brace),
                argumentSet("a variable with a pattern is rejected", "/foo/{id=*}", brace),
                argumentSet("three stars in braces are rejected", "/foo/{***}", brace),
                argumentSet("an unclosed operator is rejected", "/foo/{*", brace),
                argumentSet("a lone opening brace is rejected", "/foo/{", brace),
                argumentSet("a lone closing brace is rejected", "/foo}/{*}", brace),
                argumentSet("a star in a literal segment of a template is rejected", "/a/*/{*}", "not a valid literal"),
                argumentSet(
                        "a space in a literal segment of a template is rejected", "/a b/{*}", "not a valid literal"),
                argumentSet("an empty literal segment of a template is rejected", "/a//{*}", "not a valid literal"));
    }

    @ParameterizedTest
    @MethodSource
    void matches(String pattern, String path, boolean expected) {
        assertThat(PathTemplate.compile(pattern).matches(path)).isEqualTo(expected);
    }

    static Stream<Arguments> matches() {
        return Stream.of(
                // {*}: exactly one non-empty segment.
                argumentSet("{*} matches one segment", "/foo/{*}", "/foo/x", true),
                argumentSet("{*} does not match two segments", "/foo/{*}", "/foo/x/y", false),
                argumentSet("{*} does not match an empty segment", "/foo/{*}", "/foo/", false),
                argumentSet("{*} does not match a missing segment", "/foo/{*}", "/foo", false),
                argumentSet("{*} does not match a trailing slash after the segment", "/foo/{*}", "/foo/x/", false),
                argumentSet("{*} sees an escaped slash as an ordinary character", "/foo/{*}", "/foo/a%2Fb", true),
                argumentSet("{*} between literals matches one segment", "/foo/{*}/bar", "/foo/x/bar", true),
                argumentSet("{*} between literals does not match two segments", "/foo/{*}/bar", "/foo/x/y/bar", false),
                argumentSet("two {*} match two segments", "/{*}/{*}", "/a/b", true),
                argumentSet("two {*} do not match one segment", "/{*}/{*}", "/a", false),
                argumentSet("two {*} do not match an empty first segment", "/{*}/{*}", "//b", false),
                argumentSet("two {*} do not match three segments", "/{*}/{*}", "/a/b/c", false),

                // {**}: anything, including nothing and slashes.
                argumentSet(
                        "{**} matches nothing after the trailing slash", "/allow/admin/{**}", "/allow/admin/", true),
                argumentSet("{**} matches several segments", "/allow/admin/{**}", "/allow/admin/a/b", true),
                argumentSet("{**} matches empty segments", "/allow/admin/{**}", "/allow/admin//", true),
                argumentSet(
                        "{**} does not make the slash before it optional", "/allow/admin/{**}", "/allow/admin", false),
                argumentSet("{**} does not match a longer literal", "/allow/admin/{**}", "/allow/adminx", false),
                argumentSet("{**} alone matches the empty path", "{**}", "", true),
                argumentSet("{**} alone matches any path", "{**}", "/x/y", true),
                argumentSet("/{**} matches the root", "/{**}", "/", true),
                argumentSet("/{**} does not match the empty path", "/{**}", "", false),

                // {**} followed by a literal tail.
                argumentSet("{**} before a literal matches an empty middle", "/store/{**}/cart", "/store//cart", true),
                argumentSet(
                        "{**} before a literal matches several segments", "/store/{**}/cart", "/store/a/b/cart", true),
                argumentSet("{**} before a literal needs both slashes", "/store/{**}/cart", "/store/cart", false),
                argumentSet(
                        "{**} before a literal needs the literal at the very end",
                        "/store/{**}/cart",
                        "/store/a/cart/",
                        false),
                argumentSet(
                        "{**} before a literal rejects a different ending",
                        "/store/{**}/cart",
                        "/store/a/carts",
                        false),
                argumentSet("the head and the tail may not overlap", "/a/{**}/a", "/a/a", false),
                argumentSet("the head and the tail may meet exactly", "/a/{**}/a", "/a//a", true),
                argumentSet("{**} before a multi-segment tail matches", "/a/{**}/b/c", "/a/x/b/c", true),
                argumentSet("{**} before a multi-segment tail needs room for it", "/a/{**}/b/c", "/a/b/c", false),
                argumentSet(
                        "a trailing slash after {**} is required (plain reading; §8 lists it as unverified)",
                        "/foo/{**}/",
                        "/foo/bar/baz.txt",
                        false),
                argumentSet(
                        "a trailing slash after {**} matches a path ending in a slash",
                        "/foo/{**}/",
                        "/foo/bar/",
                        true),

                // {*} and {**} together.
                argumentSet(
                        "{*} then {**} do not match an empty first segment", "/foo/{*}/bar/{**}", "/foo//bar/x", false),
                argumentSet("{*} then {**} match a full path", "/foo/{*}/bar/{**}", "/foo/a/bar/x/y", true),
                argumentSet("{*} then {**} match an empty rest", "/foo/{*}/bar/{**}", "/foo/a/bar/", true),
                argumentSet("{*} then {**} need the slash before {**}", "/foo/{*}/bar/{**}", "/foo/a/bar", false),
                argumentSet(
                        "{*} then {**} do not let {*} span two segments", "/foo/{*}/bar/{**}", "/foo/a/b/bar/x", false),

                // Literals.
                argumentSet("literals are case-sensitive", "/Foo/{*}", "/foo/x", false),
                argumentSet("a pattern without operators is an exact match", "/a/b", "/a/b", true),
                argumentSet("a pattern without operators does not match a longer path", "/a/b", "/a/b/", false));
    }

    @Test
    void matchesAVeryLongPathWithoutBacktracking() {
        PathTemplate template = PathTemplate.compile("/{*}/{*}/{**}/end");
        String longMiddle = "/x".repeat(200_000);
        assertThat(template.matches("/a/b" + longMiddle + "/end")).isTrue();
        assertThat(template.matches("/a/b" + longMiddle + "/ending")).isFalse();
    }

    @Test
    void comparesByPattern() {
        assertThat(PathTemplate.compile("/a/{*}"))
                .isEqualTo(PathTemplate.compile("/a/{*}"))
                .hasSameHashCodeAs(PathTemplate.compile("/a/{*}"))
                .isNotEqualTo(PathTemplate.compile("/a/{**}"))
                .hasToString("/a/{*}");
    }
}
