package io.ambit.policy.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.policy.path.InvalidPathException;
import io.ambit.policy.path.PathNormalization;
import io.ambit.policy.path.PathNormalizer;
import java.util.Locale;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The path the policies match (authz-semantics §2.8; security-cases rows 1-4): for every request path
 * and mode, normalization answers a path or {@link InvalidPathException} (400), nothing else; normalizing
 * twice changes nothing (the waypoint forwards the normalized path and the engine normalizes what it is
 * given, so a path that changed again would be matched differently from what the upstream receives); and
 * an origin-form result has no dot segment, no backslash, no escaped NUL, no {@code //} once slashes are
 * merged, and no escaped slash once they are decoded.
 */
class PathNormalizerFuzzTest {

    @Property(seed = FuzzInputs.SEED)
    void normalizingIsIdempotentAndLeavesNoTraversal(@ForAll("paths") String raw, @ForAll PathNormalization mode) {
        String once;
        try {
            once = PathNormalizer.normalize(raw, mode);
        } catch (InvalidPathException e) {
            FuzzInputs.outcome(false);
            assertThat(e.getMessage()).contains("rejected with 400");
            return;
        }
        FuzzInputs.outcome(true);

        assertThat(PathNormalizer.normalize(once, mode)).isEqualTo(once);
        assertThat(once).doesNotContain("?").doesNotContain("#");
        assertThat(once.chars()).noneMatch(c -> c < 0x20 || c == 0x7f);
        if (mode != PathNormalization.NONE && once.startsWith("/")) {
            String segments = once + "/";
            assertThat(segments).doesNotContain("/./").doesNotContain("/../").doesNotContain("\\");
            assertThat(once.toLowerCase(Locale.ROOT))
                    .doesNotContain("%00")
                    .doesNotContain("%2e")
                    .doesNotContain("%41");
        }
        if ((mode == PathNormalization.MERGE_SLASHES || mode == PathNormalization.DECODE_AND_MERGE_SLASHES)
                && once.startsWith("/")) {
            assertThat(once).doesNotContain("//");
        }
        if (mode == PathNormalization.DECODE_AND_MERGE_SLASHES && once.startsWith("/")) {
            assertThat(once.toLowerCase(Locale.ROOT)).doesNotContain("%2f").doesNotContain("%5c");
        }
    }

    @Property(seed = FuzzInputs.SEED)
    void eachModeIncludesTheOneBefore(@ForAll("paths") String raw) {
        String base;
        try {
            base = PathNormalizer.normalize(raw, PathNormalization.BASE);
        } catch (InvalidPathException e) {
            return;
        }
        if (base.startsWith("/")) {
            // MERGE_SLASHES is BASE then merging: merging a BASE result must give the MERGE_SLASHES result.
            assertThat(PathNormalizer.normalize(base, PathNormalization.MERGE_SLASHES))
                    .isEqualTo(PathNormalizer.normalize(raw, PathNormalization.MERGE_SLASHES));
        }
    }

    /** Regression: a stray '%' before escaped hex digits made a new escape ("%%32%45" became "%2E"). */
    @Example
    void anEscapeThatDecodingWouldAssembleIsRefused() {
        for (String raw : new String[] {"/a/%%32%45%%32%45/admin", "/admin%%32%46secret", "/x%%34%31"}) {
            for (PathNormalization mode : new PathNormalization[] {
                PathNormalization.BASE, PathNormalization.MERGE_SLASHES, PathNormalization.DECODE_AND_MERGE_SLASHES
            }) {
                assertThatThrownBy(() -> PathNormalizer.normalize(raw, mode))
                        .as(raw + " under " + mode)
                        .isInstanceOf(InvalidPathException.class)
                        .hasMessageContaining("rejected with 400");
            }
        }
    }

    /** Regression: "%%300" decoded to "%00", an escaped NUL that the raw-text check had not seen. */
    @Example
    void anEscapedNulAssembledByDecodingIsRefused() {
        assertThatThrownBy(() -> PathNormalizer.normalize("/a%%300", PathNormalization.BASE))
                .isInstanceOf(InvalidPathException.class)
                .hasMessageContaining("%00");
    }

    /** Regression: control characters other than NUL reached policy matching (and the upstream) as sent. */
    @Example
    void controlCharactersAreRefusedInEveryMode() {
        for (PathNormalization mode : PathNormalization.values()) {
            for (String raw : new String[] {"/admin\u001b", "/a\tb", "/a\u007f", "/a\r\nX: y"}) {
                assertThatThrownBy(() -> PathNormalizer.normalize(raw, mode))
                        .as(raw + " under " + mode)
                        .isInstanceOf(InvalidPathException.class)
                        .hasMessageContaining("control character");
            }
        }
        assertThat(PathNormalizer.normalize("/a?x=\u0001", PathNormalization.BASE))
                .isEqualTo("/a");
    }

    @Example
    void aLiteralPercentThatAssemblesNothingStillPasses() {
        assertThat(PathNormalizer.normalize("/100%%20off/%zz/%4", PathNormalization.BASE))
                .isEqualTo("/100%%20off/%zz/%4");
    }

    @Provide
    Arbitrary<String> paths() {
        Arbitrary<String> piece = Arbitraries.oneOf(
                Arbitraries.of(
                        "", ".", "..", "%2E", "%2e%2E", ".%2e", "%2F", "%2f", "%5C", "%5c", "\\", "a", "A", "%", "%%",
                        "%3", "%32", "%45", "%46", "%00", "%25", "%252E", "%41", "~", "?", "#", "?a=/../", "//",
                        "%%30"),
                // escapes of hex digits and bare hex digits: next to a stray '%' they can assemble an escape
                Arbitraries.of("%", "%30", "%32", "%35", "%43", "%45", "%46", "%66", "0", "2", "5", "c", "E", "f"),
                FuzzInputs.text("/.%\\0123456789abcdefABCDEF?#", 6));
        Arbitrary<String> joined = piece.list().ofMaxSize(12).flatMap(parts -> Arbitraries.of("/", "")
                .map(sep -> String.join(sep, parts)));
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, joined.map(p -> "/" + p)),
                net.jqwik.api.Tuple.of(1, joined),
                net.jqwik.api.Tuple.of(1, FuzzInputs.text("/.%\\", 80)));
    }
}
