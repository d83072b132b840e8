package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.denied;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.l7;
import static io.ambit.policy.semantics.Fixture.mesh;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.waypointPolicy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.mesh.MeshConfig;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** authz-semantics §2.8, through the waypoint's decision: normalization, query removal, templates. */
class PathsTest {
    private static final MeshConfig BASE = MeshConfig.DEFAULT;
    private static final MeshConfig NONE = mesh("pathNormalization: {normalization: NONE}\n");
    private static final MeshConfig MERGE = mesh("pathNormalization: {normalization: MERGE_SLASHES}\n");
    private static final MeshConfig DECODE = mesh("pathNormalization: {normalization: DECODE_AND_MERGE_SLASHES}\n");

    @ParameterizedTest
    @MethodSource
    void paths(MeshConfig mesh, String pattern, String rawPath, boolean matches) {
        var yaml = waypointPolicy("p", "rules: [{to: [{operation: {paths: [\"" + pattern + "\"]}}]}]\n");
        check(
                snapshot(yaml, mesh).decideL7(l7("GET", rawPath).build()),
                matches ? allowedBy("foo/p", 0) : deniedNoAllowMatched());
    }

    private static Arguments path(String name, MeshConfig mesh, String pattern, String rawPath, boolean matches) {
        return argumentSet(name, mesh, pattern, rawPath, matches);
    }

    static Stream<Arguments> paths() {
        return Stream.of(
                path("the query string is removed before matching", BASE, "/info", "/info?x=1&y=2", true),
                path("the query string is removed even without normalization", NONE, "/info", "/info?x=1", true),
                path("matching is exact: a trailing slash differs", BASE, "/info", "/info/", false),
                path("matching is exact: a missing trailing slash differs", BASE, "/info/", "/info", false),
                path("matching is case-sensitive", BASE, "/info", "/INFO", false),
                path("BASE turns backslashes into slashes", BASE, "/admin/x", "/admin\\x", true),
                path("BASE removes dot segments made of backslashes", BASE, "/admin", "/public\\..\\admin", true),
                path("BASE removes /../ segments", BASE, "/admin", "/public/../admin", true),
                path("BASE removes /./ segments", BASE, "/admin", "/./admin", true),
                path("BASE decodes unreserved letters", BASE, "/admin", "/%61dmin", true),
                path("BASE decodes upper-case letters", BASE, "/Admin", "/%41dmin", true),
                path("BASE decodes digits", BASE, "/v1", "/v%31", true),
                path("BASE decodes - _ ~", BASE, "/a-b_c~d", "/a%2Db%5Fc%7Ed", true),
                path("BASE decodes hex case-insensitively", BASE, "/a-b", "/a%2db", true),
                path(
                        "BASE removes dot segments produced by decoding %2E",
                        BASE, "/admin", "/public/%2E%2E/admin", true),
                path(
                        "BASE removes dot segments produced by decoding %2e",
                        BASE, "/admin", "/public/%2e%2e/admin", true),
                path("BASE decodes only once: %252E is not a dot", BASE, "/a.b", "/a%252Eb", false),
                path("BASE keeps reserved escapes encoded", BASE, "/a:b", "/a%3Ab", false),
                path("BASE keeps %2F encoded", BASE, "/admin/x", "/admin%2Fx", false),
                path("BASE keeps %2F encoded, so the encoded form matches", BASE, "/admin%2Fx", "/admin%2Fx", true),
                path("BASE keeps %5C encoded", BASE, "/admin/x", "/admin%5Cx", false),
                path("BASE keeps double slashes", BASE, "/admin", "//admin", false),
                path("NONE does not remove dot segments", NONE, "/admin", "/public/../admin", false),
                path("NONE does not decode", NONE, "/admin", "/%61dmin", false),
                path("NONE matches the path as sent", NONE, "/public/../admin", "/public/../admin", true),
                path("MERGE_SLASHES merges double slashes", MERGE, "/admin", "//admin", true),
                path("MERGE_SLASHES also does BASE", MERGE, "/admin", "/public/%2E%2E/admin", true),
                path("MERGE_SLASHES keeps %2F encoded", MERGE, "/admin/x", "/admin%2Fx", false),
                path("MERGE_SLASHES merges after BASE removed dot segments", MERGE, "/a/b", "/a//../b", true),
                path("MERGE_SLASHES does not merge before removing dot segments", MERGE, "/b", "/a//../b", false),
                path("DECODE_AND_MERGE_SLASHES decodes %2F", DECODE, "/admin/x", "/admin%2Fx", true),
                path("DECODE_AND_MERGE_SLASHES decodes %5C", DECODE, "/admin/x", "/admin%5cx", true),
                path(
                        "DECODE_AND_MERGE_SLASHES decodes slashes before removing dot segments",
                        DECODE,
                        "/admin",
                        "/public%2F..%2Fadmin",
                        true),
                path("DECODE_AND_MERGE_SLASHES merges slashes", DECODE, "/admin", "/%2F/admin", true),
                path("a trailing * is a prefix match", BASE, "/api/*", "/api/v1/users", true),
                path("a leading * is a suffix match", BASE, "*.png", "/img/logo.png", true),
                path("an infix * is literal", BASE, "/api/*/info", "/api/v1/info", false),
                path("{**} at the end matches an empty rest", BASE, "/allow/admin/{**}", "/allow/admin/", true),
                path("{**} at the end matches several segments", BASE, "/allow/admin/{**}", "/allow/admin/a/b", true),
                path("{**} does not remove the slash before it", BASE, "/allow/admin/{**}", "/allow/admin", false),
                path("{**} in the middle matches an empty segment", BASE, "/store/{**}/cart", "/store//cart", true),
                path("{**} in the middle matches several segments", BASE, "/store/{**}/cart", "/store/a/b/cart", true),
                path("{**} in the middle keeps both slashes", BASE, "/store/{**}/cart", "/store/cart", false),
                path("{*} matches exactly one segment", BASE, "/foo/{*}", "/foo/x", true),
                path("{*} does not match two segments", BASE, "/foo/{*}", "/foo/x/y", false),
                path("{*} does not match an empty segment", BASE, "/foo/{*}", "/foo/", false),
                path("{*} followed by {**} needs a non-empty segment", BASE, "/foo/{*}/bar/{**}", "/foo//bar/x", false),
                path("{*} followed by {**} matches", BASE, "/foo/{*}/bar/{**}", "/foo/x/bar/y/z", true),
                path("template literals are case-sensitive", BASE, "/foo/{*}", "/FOO/x", false),
                path("templates match the normalized path", BASE, "/foo/{*}", "/bar/../foo/x", true));
    }

    @ParameterizedTest
    @MethodSource
    void anEncodedNulIsRejectedWith400(MeshConfig mesh, String rawPath) {
        var d = snapshot(waypointPolicy("p", "rules: [{}]\n"), mesh)
                .decideL7(l7("GET", rawPath).build());
        check(d, denied(Reason.BAD_REQUEST));
        assertThat(d.httpStatus()).isEqualTo(400);
    }

    static Stream<Arguments> anEncodedNulIsRejectedWith400() {
        return Stream.of(
                argumentSet("%00 is rejected with BASE", BASE, "/admin%00.html"),
                argumentSet("%00 is rejected with MERGE_SLASHES", MERGE, "/a/%00"),
                argumentSet("%00 is rejected with DECODE_AND_MERGE_SLASHES", DECODE, "/%00/a"));
    }
}
