package io.ambit.policy.path;

import static io.ambit.policy.path.PathNormalization.BASE;
import static io.ambit.policy.path.PathNormalization.DECODE_AND_MERGE_SLASHES;
import static io.ambit.policy.path.PathNormalization.MERGE_SLASHES;
import static io.ambit.policy.path.PathNormalization.NONE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PathNormalizerTest {

    @ParameterizedTest
    @MethodSource
    void normalizes(String raw, PathNormalization mode, String expected) {
        assertThat(PathNormalizer.normalize(raw, mode)).isEqualTo(expected);
    }

    static Stream<Arguments> normalizes() {
        return Stream.of(
                // Query and fragment: removed in every mode, before anything else looks at the path.
                argumentSet("the query is removed", "/a?x=1", BASE, "/a"),
                argumentSet("the query is removed even with NONE", "/a/../b?x=1", NONE, "/a/../b"),
                argumentSet("an empty query is removed", "/a?", BASE, "/a"),
                argumentSet("a second question mark belongs to the query", "/a??b", BASE, "/a"),
                argumentSet("the fragment is removed", "/a#frag", BASE, "/a"),
                argumentSet("a fragment before a question mark ends the path", "/a#f?q=1", BASE, "/a"),
                argumentSet("dot segments in the query do not climb the path", "/a/b?x=/../..", BASE, "/a/b"),
                argumentSet(
                        "an escaped slash in the query is not decoded into the path",
                        "/a?b=%2F..%2F",
                        DECODE_AND_MERGE_SLASHES,
                        "/a"),
                argumentSet("slashes in the query are not merged", "/a//b?x=//y", MERGE_SLASHES, "/a/b"),
                argumentSet("an escaped question mark stays in the path", "/a%3Fb", BASE, "/a%3Fb"),
                argumentSet("an escaped hash stays in the path", "/a%23b", BASE, "/a%23b"),

                // NONE: the path is matched exactly as sent.
                argumentSet("NONE keeps dot segments", "/a/../b", NONE, "/a/../b"),
                argumentSet("NONE keeps backslashes", "/a\\..\\b", NONE, "/a\\..\\b"),
                argumentSet("NONE keeps unreserved escapes encoded", "/%61%2E%2e", NONE, "/%61%2E%2e"),
                argumentSet("NONE keeps escaped slashes encoded", "/a%2Fb", NONE, "/a%2Fb"),
                argumentSet("NONE keeps double slashes", "//a//b", NONE, "//a//b"),

                // BASE: RFC 3986 dot segments.
                argumentSet("a normal path is unchanged", "/x/y/z", BASE, "/x/y/z"),
                argumentSet("the root path is unchanged", "/", BASE, "/"),
                argumentSet("case is preserved", "/A/B/c", BASE, "/A/B/c"),
                argumentSet("a single-dot segment is removed", "/a/./b", BASE, "/a/b"),
                argumentSet("a leading single-dot segment is removed", "/./a/b", BASE, "/a/b"),
                argumentSet("a double-dot segment removes the segment before it", "/a/b/../c", BASE, "/a/c"),
                argumentSet("more double dots than segments stop at the root", "/a/b/../../../../c", BASE, "/c"),
                argumentSet("a double dot right after the root is dropped", "/../a/b", BASE, "/a/b"),
                argumentSet("a lone double dot at the root is the root", "/..", BASE, "/"),
                argumentSet("a lone single dot at the root is the root", "/.", BASE, "/"),
                argumentSet("a trailing double dot leaves a trailing slash", "/a/b/..", BASE, "/a/"),
                argumentSet("a trailing double dot under one segment leaves the root", "/a/..", BASE, "/"),
                argumentSet("a trailing single dot leaves a trailing slash", "/a/b/.", BASE, "/a/b/"),
                argumentSet("a single dot followed by a slash leaves a trailing slash", "/a/./", BASE, "/a/"),
                argumentSet("three dots are an ordinary segment", "/a/.../b", BASE, "/a/.../b"),
                argumentSet("dots inside a segment are ordinary characters", "/a/..b/c../.d", BASE, "/a/..b/c../.d"),
                argumentSet(
                        "a double dot after an empty segment removes only the empty segment", "/a//../b", BASE, "/a/b"),

                // BASE: escapes of unreserved characters are decoded once, and may form dot segments.
                argumentSet("lowercase %2e%2e is a double-dot segment", "/a/%2e%2e/b", BASE, "/b"),
                argumentSet("uppercase %2E%2E is a double-dot segment", "/a/b/%2E%2E/c", BASE, "/a/c"),
                argumentSet("a half-encoded %2E. is a double-dot segment", "/%2E./x", BASE, "/x"),
                argumentSet("a half-encoded .%2e is a double-dot segment", "/a/b/.%2e/c", BASE, "/a/c"),
                argumentSet("a lone %2E is a single-dot segment", "/a/b/%2E/c", BASE, "/a/b/c"),
                argumentSet("an escaped dot inside a segment is decoded", "/a%2Eb", BASE, "/a.b"),
                argumentSet(
                        "escaped letters, digits and - _ ~ are decoded",
                        "/%41%5A%61%7A%30%39%2D%5F%7E",
                        BASE,
                        "/AZaz09-_~"),
                argumentSet("hex digits of an escape are case-insensitive", "/%4a%4A%7e", BASE, "/JJ~"),
                argumentSet(
                        "an escaped reserved character keeps its escape and hex case",
                        "/%c0%af%5c%25%3a",
                        BASE,
                        "/%c0%af%5c%25%3a"),
                argumentSet("an escaped space stays escaped", "/a%20b", BASE, "/a%20b"),
                argumentSet(
                        "an escaped percent is not decoded, so %252E stays",
                        "/a/%252E%252E/b", BASE, "/a/%252E%252E/b"),
                argumentSet("%2500 is an escaped percent followed by 00, not a NUL", "/a%2500", BASE, "/a%2500"),
                argumentSet("a stray percent before an escape stays", "/%%41", BASE, "/%A"),

                // BASE: malformed escapes are kept as sent.
                argumentSet("an escape with non-hex digits is kept", "/%zz/a", BASE, "/%zz/a"),
                argumentSet("an escape with one non-hex digit is kept", "/%4g", BASE, "/%4g"),
                argumentSet("an escape cut short at the end is kept", "/a%4", BASE, "/a%4"),
                argumentSet("a percent at the end is kept", "/a%", BASE, "/a%"),

                // BASE: backslashes are slashes; escaped slashes are not.
                argumentSet("a backslash becomes a slash", "/a\\b", BASE, "/a/b"),
                argumentSet("backslash double-dot backslash climbs like slashes", "/a/b\\..\\c", BASE, "/a/c"),
                argumentSet("a backslash traversal after the root reaches the root", "/\\..\\admin", BASE, "/admin"),
                argumentSet("an escaped slash stays encoded", "/a%2Fb", BASE, "/a%2Fb"),
                argumentSet("an escaped slash keeps its lowercase hex", "/a%2fb", BASE, "/a%2fb"),
                argumentSet("an escaped backslash stays encoded", "/a%5Cb", BASE, "/a%5Cb"),
                argumentSet(
                        "double dot before an escaped slash is one ordinary segment", "/a/..%2fb", BASE, "/a/..%2fb"),
                argumentSet(
                        "escaped dots after an escaped slash are decoded but are no segment",
                        "/a/b%2F%2E%2E",
                        BASE,
                        "/a/b%2F.."),
                argumentSet("double slashes are kept", "/a//b", BASE, "/a//b"),
                argumentSet("many slashes are kept", "///a////b//", BASE, "///a////b//"),

                // MERGE_SLASHES: BASE, then runs of slashes become one.
                argumentSet("merging joins a double slash", "/a//b", MERGE_SLASHES, "/a/b"),
                argumentSet("merging joins a leading double slash", "//a/b", MERGE_SLASHES, "/a/b"),
                argumentSet("merging joins a trailing double slash", "/a/b//", MERGE_SLASHES, "/a/b/"),
                argumentSet("merging joins many slashes", "///a////b", MERGE_SLASHES, "/a/b"),
                argumentSet("merging turns only slashes into the root", "////", MERGE_SLASHES, "/"),
                argumentSet("merging joins backslashes with slashes", "/a\\\\/b", MERGE_SLASHES, "/a/b"),
                argumentSet("merging happens after dot segments, so /a//.. keeps /a/", "/a//..", MERGE_SLASHES, "/a/"),
                argumentSet("merging still applies dot segments", "/a/./b/../c", MERGE_SLASHES, "/a/c"),
                argumentSet("merging leaves escaped slashes encoded", "/a%2F%2Fb", MERGE_SLASHES, "/a%2F%2Fb"),
                argumentSet(
                        "merging leaves double dot before an escaped slash alone",
                        "/a/..%2fb",
                        MERGE_SLASHES,
                        "/a/..%2fb"),

                // DECODE_AND_MERGE_SLASHES: %2F and %5C become slashes before everything else.
                argumentSet("decoding turns %2F into a slash", "/a%2Fb", DECODE_AND_MERGE_SLASHES, "/a/b"),
                argumentSet("decoding turns lowercase %2f into a slash", "/a%2fb", DECODE_AND_MERGE_SLASHES, "/a/b"),
                argumentSet("decoding turns %5C into a slash", "/a%5Cb", DECODE_AND_MERGE_SLASHES, "/a/b"),
                argumentSet("decoding turns lowercase %5c into a slash", "/a%5cb", DECODE_AND_MERGE_SLASHES, "/a/b"),
                argumentSet("decoding exposes a double dot hidden by %2f", "/a/..%2fb", DECODE_AND_MERGE_SLASHES, "/b"),
                argumentSet(
                        "decoding exposes a fully escaped traversal", "/a/b%2F%2E%2E", DECODE_AND_MERGE_SLASHES, "/a/"),
                argumentSet(
                        "decoding exposes a traversal hidden by %5C", "/a%5C..%5Cb", DECODE_AND_MERGE_SLASHES, "/b"),
                argumentSet(
                        "decoding exposes a traversal at the root",
                        "/%2F..%2Fadmin",
                        DECODE_AND_MERGE_SLASHES,
                        "/admin"),
                argumentSet("decoded slashes are merged", "/a%2F%2F/b", DECODE_AND_MERGE_SLASHES, "/a/b"),
                argumentSet("decoding happens once, so %252F stays", "/a%252Fb", DECODE_AND_MERGE_SLASHES, "/a%252Fb"),
                argumentSet(
                        "decoding leaves other reserved escapes alone",
                        "/a%3Bb%25",
                        DECODE_AND_MERGE_SLASHES,
                        "/a%3Bb%25"),

                // Paths that do not start with '/' (even after backslashes and, when asked, %2F/%5C become
                // '/'): only the query and fragment are removed; the decider rejects them with 400.
                argumentSet("an empty path stays empty", "", BASE, ""),
                argumentSet("an empty path stays empty with merging", "", DECODE_AND_MERGE_SLASHES, ""),
                argumentSet("a path that is only a query becomes empty", "?a=b", BASE, ""),
                argumentSet("the asterisk form is left alone", "*", BASE, "*"),
                argumentSet("a relative path keeps its dot segments", "a/../b", BASE, "a/../b"),
                argumentSet(
                        "a path starting with a backslash is normalized like one starting with a slash",
                        "\\..\\admin",
                        MERGE_SLASHES,
                        "/admin"),
                argumentSet(
                        "a path starting with an escaped slash is normalized when slashes are decoded",
                        "%2F..%2Fadmin",
                        DECODE_AND_MERGE_SLASHES,
                        "/admin"),
                argumentSet(
                        "a path starting with an escaped slash is left alone when slashes stay encoded",
                        "%2F..%2Fadmin",
                        BASE,
                        "%2F..%2Fadmin"),
                argumentSet(
                        "an absolute-form target only loses its query", "http://h/a/../b?x", BASE, "http://h/a/../b"));
    }

    @ParameterizedTest
    @MethodSource
    void rejectsNul(String raw, PathNormalization mode) {
        assertThatThrownBy(() -> PathNormalizer.normalize(raw, mode))
                .isInstanceOf(InvalidPathException.class)
                .hasMessageContaining("NUL")
                .hasMessageContaining("400");
    }

    static Stream<Arguments> rejectsNul() {
        String[][] paths = {
            {"%00 at the end of the path", "/a%00"},
            {"%00 as a whole segment", "/a/%00/b"},
            {"%00 hidden inside a double dot", "/xyz/.%00../abc"},
            {"%00 after a stray percent", "/xyz/AAAAA%%0000/abc"},
            {"%00 in a path that does not start with a slash", "a%00"},
            {"%00 before the query", "/a%00?x=1"},
            {"a raw NUL character", "/a\u0000b"},
        };
        List<Arguments> cases = new ArrayList<>();
        for (String[] path : paths) {
            for (PathNormalization mode : PathNormalization.values()) {
                cases.add(argumentSet(path[0] + " is rejected under " + mode, path[1], mode));
            }
        }
        return cases.stream();
    }

    /**
     * A stray {@code %} and decoded characters must not make a new escape: the backend would decode it to a
     * character no policy saw ({@code /a/%2%45/b} read {@code /a/%2E/b}, which a decoding backend serves as
     * {@code /a/b}), and normalizing the result again would change it. Found by PathNormalizerFuzzTest.
     */
    @ParameterizedTest
    @MethodSource
    void rejectsEscapesAssembledByDecoding(String raw, PathNormalization mode) {
        assertThatThrownBy(() -> PathNormalizer.normalize(raw, mode))
                .isInstanceOf(InvalidPathException.class)
                .hasMessageContaining("assembled from a '%' and decoded characters")
                .hasMessageContaining("400");
    }

    static Stream<Arguments> rejectsEscapesAssembledByDecoding() {
        String[][] paths = {
            {"a decoded E completing %2", "/a/%2%45/b"},
            {"two decoded digits after a stray percent", "/a/%%32%45%%32%45/admin"},
            {"a decoded 0 after %3", "/%3%30"},
            {"a decoded digit before a raw one", "/%%341"},
            {"%00 assembled after a stray percent", "/a%%300"},
        };
        List<Arguments> cases = new ArrayList<>();
        for (String[] path : paths) {
            for (PathNormalization mode : List.of(BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES)) {
                cases.add(argumentSet(path[0] + " is rejected under " + mode, path[1], mode));
            }
        }
        return cases.stream();
    }

    @Test
    void namesTheEscapedNulInItsMessage() {
        assertThatThrownBy(() -> PathNormalizer.normalize("/a%00", BASE))
                .hasMessage("path contains %00 (a NUL byte); rejected with 400");
    }

    @Test
    void ignoresNulEscapesInTheQueryBecauseTheyAreNotPartOfThePath() {
        // Envoy canonicalizes only the path, so a %00 in the query does not fail normalization.
        assertThat(PathNormalizer.normalize("/a?x=%00", BASE)).isEqualTo("/a");
    }

    @ParameterizedTest
    @MethodSource
    void stripsQuery(String raw, String expected) {
        assertThat(PathNormalizer.stripQuery(raw)).isEqualTo(expected);
    }

    static Stream<Arguments> stripsQuery() {
        return Stream.of(
                argumentSet("a path without query is returned as is", "/abc", "/abc"),
                argumentSet("an empty string stays empty", "", ""),
                argumentSet("a query is cut at the question mark", "/abc?p=v&q=w", "/abc"),
                argumentSet("a fragment is cut at the hash", "/abc#frag", "/abc"),
                argumentSet("a query then a fragment are both cut", "/abc?p=v#frag", "/abc"),
                argumentSet("a hash then a question mark are both cut", "/abc#?p=v", "/abc"),
                argumentSet("a leading question mark leaves nothing", "?x", ""));
    }

    @ParameterizedTest
    @MethodSource
    void parsesModes(String value, PathNormalization expected) {
        assertThat(PathNormalization.parse(value)).isEqualTo(expected);
    }

    static Stream<Arguments> parsesModes() {
        return Stream.of(
                argumentSet("NONE parses", "NONE", NONE),
                argumentSet("BASE parses", "BASE", BASE),
                argumentSet("MERGE_SLASHES parses", "MERGE_SLASHES", MERGE_SLASHES),
                argumentSet("DECODE_AND_MERGE_SLASHES parses", "DECODE_AND_MERGE_SLASHES", DECODE_AND_MERGE_SLASHES),
                argumentSet("Istio's DEFAULT is BASE", "DEFAULT", BASE));
    }

    @ParameterizedTest
    @MethodSource
    void rejectsUnknownModes(String value, String shownAs) {
        assertThatThrownBy(() -> PathNormalization.parse(value))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("pathNormalization: " + shownAs
                        + " (expected: NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES or DEFAULT)");
    }

    static Stream<Arguments> rejectsUnknownModes() {
        return Stream.of(
                argumentSet("a lowercase name is rejected", "base", "\"base\""),
                argumentSet("an unknown name is rejected", "MERGE", "\"MERGE\""),
                argumentSet("a name with spaces is rejected", " BASE", "\" BASE\""),
                argumentSet("an empty value is rejected", "", "\"\""),
                argumentSet("a missing value is rejected", null, "null"));
    }

    @Test
    void climbsOutOfADeepPathInOnePass() {
        int depth = 100_000;
        String path = "/a".repeat(depth) + "/..".repeat(depth) + "/end";
        assertThat(PathNormalizer.normalize(path, BASE)).isEqualTo("/end");
        assertThat(PathNormalizer.normalize("/".repeat(depth) + "x", MERGE_SLASHES))
                .isEqualTo("/x");
    }

    @Test
    void removesDotSegmentsExactlyAsTheRfcAlgorithm() {
        Random random = new Random(42); // fixed seed: a failure is reproducible
        char[] alphabet = {'/', '/', '.', '.', 'a', 'b'};
        for (int run = 0; run < 20_000; run++) {
            StringBuilder path = new StringBuilder("/");
            int length = random.nextInt(12);
            for (int i = 0; i < length; i++) {
                path.append(alphabet[random.nextInt(alphabet.length)]);
            }
            String input = path.toString();
            assertThat(PathNormalizer.removeDotSegments(input))
                    .as("remove_dot_segments(%s)", input)
                    .isEqualTo(rfc3986RemoveDotSegments(input));
        }
    }

    @Test
    void leavesNoDotSegmentBackslashOrDoubleSlashInRandomHostilePaths() {
        Random random = new Random(7);
        String[] pieces = {"/", "\\", ".", "%2e", "%2E", "%2f", "%5C", "%", "%4", "a", "%61", "?", "#", "//"};
        for (int run = 0; run < 20_000; run++) {
            StringBuilder path = new StringBuilder("/");
            int length = random.nextInt(10);
            for (int i = 0; i < length; i++) {
                path.append(pieces[random.nextInt(pieces.length)]);
            }
            String input = path.toString();
            for (PathNormalization mode : List.of(BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES)) {
                String out;
                try {
                    out = PathNormalizer.normalize(input, mode);
                } catch (InvalidPathException e) {
                    // "%4" + "%61" would read "%4a": refused (see rejectsEscapesAssembledByDecoding)
                    assertThat(e).hasMessageContaining("assembled");
                    continue;
                }
                assertThat(out).as("%s under %s", input, mode).startsWith("/").doesNotContain("\\", "?", "#");
                assertThat(out.split("/", -1))
                        .as("segments of %s under %s", input, mode)
                        .doesNotContain(".", "..");
                if (mode != BASE) {
                    assertThat(out).as("%s under %s", input, mode).doesNotContain("//");
                }
            }
        }
    }

    /** RFC 3986 §5.2.4 as written, with string buffers: slow but obviously the standard. */
    private static String rfc3986RemoveDotSegments(String path) {
        String in = path;
        StringBuilder out = new StringBuilder();
        while (!in.isEmpty()) {
            if (in.startsWith("../")) {
                in = in.substring(3);
            } else if (in.startsWith("./")) {
                in = in.substring(2);
            } else if (in.startsWith("/./")) {
                in = in.substring(2);
            } else if (in.equals("/.")) {
                in = "/";
            } else if (in.startsWith("/../") || in.equals("/..")) {
                in = "/" + in.substring(in.equals("/..") ? 3 : 4);
                int cut = out.lastIndexOf("/");
                out.setLength(Math.max(cut, 0));
            } else if (in.equals(".") || in.equals("..")) {
                in = "";
            } else {
                int next = in.indexOf('/', 1);
                int end = next < 0 ? in.length() : next;
                out.append(in, 0, end);
                in = in.substring(end);
            }
        }
        return out.toString();
    }
}
