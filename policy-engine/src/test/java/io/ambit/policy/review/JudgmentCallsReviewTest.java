package io.ambit.policy.review;

import static io.ambit.policy.review.ReviewFixture.EXTENDED;
import static io.ambit.policy.review.ReviewFixture.NS;
import static io.ambit.policy.review.ReviewFixture.TO_SERVICE;
import static io.ambit.policy.review.ReviewFixture.annotated;
import static io.ambit.policy.review.ReviewFixture.errorsToString;
import static io.ambit.policy.review.ReviewFixture.l4;
import static io.ambit.policy.review.ReviewFixture.load;
import static io.ambit.policy.review.ReviewFixture.object;
import static io.ambit.policy.review.ReviewFixture.policy;
import static io.ambit.policy.review.ReviewFixture.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.ambit.policy.engine.Decision.Verdict;
import io.ambit.policy.load.MeshConfigLoader;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Findings where the spec leaves room; each test states the reading it takes. They are separate from the
 * confirmed bugs so that they can be triaged (fixed, or deleted with a decision recorded).
 */
class JudgmentCallsReviewTest {

    /**
     * Istio validation ({@code validateWorkloadSelector}) rejects a selector with an empty label key or a
     * {@code *} in a key or value; Ambit loads it (it then silently selects nothing, or only a workload with
     * the literal label value "*"). Not in §2.1's list, so conformance cannot rely on it; rejecting matches
     * what kubectl/istiod would tell the user.
     */
    @ParameterizedTest(name = "[{index}] selector {0} is rejected")
    @ValueSource(strings = {"{matchLabels: {app: \"*\"}}", "{matchLabels: {\"app*\": x}}", "{matchLabels: {\"\": x}}"})
    void wildcardOrEmptySelectorLabelsAreRejectedAsIstioDoes(String selector) {
        var r = load(policy("p", "selector: " + selector + "\nrules: [{}]"));
        assertThat(r.policies().size())
                .as("loaded; errors: %s", errorsToString(r.errors()))
                .isZero();
    }

    /**
     * Istio's {@code CheckValidPathTemplate} also requires every literal segment of a templated path to be
     * RFC 3986 pchar ({@code ^[a-zA-Z0-9-._~%!$&'()+,;:@=]+$}, so no space, no {@code *}, no empty segment).
     * §2.1 says "other characters in a templated segment" — Ambit only rejects braces.
     */
    @ParameterizedTest(name = "[{index}] path template {0} is rejected")
    @ValueSource(strings = {"/a b/{*}", "/api/{*}/v1*", "/a//{*}"})
    void templatedPathsWithNonPcharLiteralsAreRejected(String path) {
        var r = load(policy("p", TO_SERVICE + "rules: [{to: [{operation: {paths: [\"" + path + "\"]}}]}]"));
        assertThat(r.policies().size())
                .as("loaded; errors: %s", errorsToString(r.errors()))
                .isZero();
    }

    /**
     * "valid Istio we reject": istiod parses ports with {@code strconv.ParseUint(p, 10, 32)}, so
     * {@code "000080"} is port 80; Ambit rejects any value longer than five characters. §2.1 only says
     * "decimal integers 0..65535". Low impact.
     */
    @Test
    void portsWithLeadingZerosAreDecimalIntegers() {
        var r = load(policy("p", "rules: [{to: [{operation: {ports: [\"000080\"]}}]}]"));
        assertThat(r.errors()).as(errorsToString(r.errors())).isEmpty();
    }

    /**
     * Extended {@code custom.time_of_day}/{@code custom.day_of_week} are not HTTP attributes, but
     * ConditionKey.isL4() treats them as HTTP-only, so a selector (ztunnel) ALLOW policy "only during
     * business hours" is dropped whole and denies everything, and the DENY form is a no-op at L4. Either make
     * them L4-capable or reject them on policies without targetRefs; silently inverting is the worst option.
     */
    @Test
    void timeConditionsAreEnforcedAtL4() {
        var s = snapshot(annotated(
                NS,
                "business-hours",
                Map.of(EXTENDED, "true"),
                "rules: [{when: [{key: custom.time_of_day, values: [\"08:00-18:00\"]}]}]"));
        var d = s.decideL4(l4().time(Instant.parse("2026-11-23T10:00:00Z")).build());
        assertThat(d.verdict()).as(d.explanation()).isEqualTo(Verdict.ALLOW);
    }

    /**
     * MeshConfigLoader's javadoc: "Istio's meshConfig: wrapper is accepted too, so a user can point at the
     * values they already have". A real meshConfig always carries other keys (accessLogFile, defaultConfig,
     * ...); each is an "unknown field" error and the CLI exits 2. Ignoring (with a warning) Istio's other
     * MeshConfig keys inside the wrapper would honour the README.
     */
    @Test
    void anIstioMeshConfigWithOtherKeysLoads() {
        assertThatCode(() -> MeshConfigLoader.parse("""
                        meshConfig:
                          accessLogFile: /dev/stdout
                          defaultConfig: {holdApplicationUntilProxyStarts: true}
                          trustDomain: td1
                        """, "mesh.yaml")).doesNotThrowAnyException();
    }

    /** Pinned companion of the above: the PeerAuthentication selector check is the same function in Istio. */
    @Test
    void peerAuthenticationSelectorWildcardsAreRejectedAsIstioDoes() {
        var r = load(object(
                "PeerAuthentication",
                NS,
                "pa",
                Map.of(),
                "selector: {matchLabels: {app: \"*\"}}\nmtls: {mode: STRICT}"));
        assertThat(r.policies().size())
                .as("loaded; errors: %s", errorsToString(r.errors()))
                .isZero();
    }
}
