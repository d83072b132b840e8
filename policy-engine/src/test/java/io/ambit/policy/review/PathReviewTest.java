package io.ambit.policy.review;

import static io.ambit.policy.review.ReviewFixture.l7;
import static io.ambit.policy.review.ReviewFixture.mesh;
import static io.ambit.policy.review.ReviewFixture.snapshot;
import static io.ambit.policy.review.ReviewFixture.waypointPolicy;
import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.Decision.Verdict;
import io.ambit.policy.mesh.MeshConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** authz-semantics §2.8 and security-cases.md B1 row 1 (path-based DENY bypasses). */
class PathReviewTest {
    private static final String DENY_ADMIN =
            waypointPolicy("deny-admin", "action: DENY\nrules: [{to: [{operation: {paths: [\"/admin\"]}}]}]");

    /**
     * §2.8 BASE: "backslash {@code \} → {@code /}". PathNormalizer skips every step when the raw path does
     * not start with {@code /}, so {@code \admin} is matched as sent and the DENY on {@code /admin} is
     * bypassed (security-cases B1 row 1 lists exactly {@code \admin}: "Expect 403 or normalize-then-deny").
     * Envoy itself never lets such a request reach a backend (non-relative {@code :path} is answered 404
     * before any filter), so ALLOW is wrong either way; DENY with reason authz or bad-request are both fine.
     */
    @ParameterizedTest(name = "[{index}] DENY /admin vs {0}")
    @ValueSource(strings = {"\\admin", "\\..\\admin", "\\admin?x=1"})
    void aBackslashPathCannotBypassADenyOnTheNormalizedPath(String rawPath) {
        var d = snapshot(DENY_ADMIN).decideL7(l7("GET", rawPath).build());
        assertThat(d.verdict()).as("%s: %s", rawPath, d.explanation()).isEqualTo(Verdict.DENY);
    }

    /** Pinned: the rest of the B1 row 1 corpus behaves as §2.8 says (these pass today). */
    @ParameterizedTest(name = "[{index}] {0}: DENY /admin vs {1} -> denied={2}")
    @CsvSource(
            delimiter = '|',
            value = {
                "BASE|/a/../admin|true",
                "BASE|/%2e%2e/admin|true",
                "BASE|/ad%6Din|true",
                "BASE|/admin?x=1|true",
                "BASE|/admin#frag|true",
                "BASE|/..\\admin|true",
                // BASE keeps // and %2F/%5C encoded (Istio semantics; MERGE/DECODE modes close these)
                "BASE|//admin|false",
                "BASE|/%2Fadmin|false",
                "MERGE_SLASHES|//admin|true",
                "DECODE_AND_MERGE_SLASHES|/%2Fadmin|true",
                "DECODE_AND_MERGE_SLASHES|/%5Cadmin|true",
                "DECODE_AND_MERGE_SLASHES|/x/..%2Fadmin|true",
            })
    void pinnedNormalizationCorpus(String mode, String rawPath, boolean denied) {
        MeshConfig m = mesh("pathNormalization: " + mode);
        var d = snapshot(DENY_ADMIN, m).decideL7(l7("GET", rawPath).build());
        assertThat(d.verdict())
                .as("%s %s: %s", mode, rawPath, d.explanation())
                .isEqualTo(denied ? Verdict.DENY : Verdict.ALLOW);
    }
}
