package io.ambit.policy.review;

import static io.ambit.policy.review.ReviewFixture.docs;
import static io.ambit.policy.review.ReviewFixture.jwt;
import static io.ambit.policy.review.ReviewFixture.l7;
import static io.ambit.policy.review.ReviewFixture.snapshot;
import static io.ambit.policy.review.ReviewFixture.waypointPolicy;
import static io.ambit.policy.review.ReviewFixture.waypointRequestAuth;
import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.Decision.Verdict;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * authz-semantics §2.6a, checked against istiod's {@code requestPrincipalGenerator.extendedPrincipal}
 * (pilot/pkg/security/authz/model/generator.go). Istio decides the match type from the <em>whole</em>
 * pattern (leading {@code *} first, then trailing {@code *}, else exact) and only then splits at the last
 * {@code /}; the half that does not carry that outer {@code *} is compared <b>exactly</b>, so a {@code *}
 * inside it is a literal character. Ambit instead applies the generic rule to each half on its own, which
 * turns those literal stars into prefix/suffix globs: wider ALLOW rules and wider DENY rules than Istio.
 *
 * <p>The spec table lists only patterns whose halves carry no inner {@code *}; the rows below follow the
 * spec's own principle (§2.4: "a {@code *} in the middle is a literal character", "a leading {@code *} is
 * checked first") and istiod's code.
 */
class RequestPrincipalSplitReviewTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                // pattern, token iss, token sub, matches (Istio)
                // "iss/*abc": neither leading nor trailing '*' on the whole pattern -> iss exact, sub EXACT "*abc"
                Arguments.of("https://issuer.example/*abc", "https://issuer.example", "xabc", false),
                Arguments.of("https://issuer.example/*abc", "https://issuer.example", "*abc", true),
                // "*/abc*": leading '*' wins -> iss any, sub EXACT "abc*"
                Arguments.of("*/abc*", "https://issuer.example", "abcd", false),
                Arguments.of("*/abc*", "https://issuer.example", "abc*", true),
                // "iss*/sub": no leading/trailing '*' on the whole pattern -> iss EXACT "https://issuer*"
                Arguments.of("https://issuer*/alice", "https://issuer.example", "alice", false),
                // "*x/sub*": leading '*' wins -> iss suffix "x", sub EXACT "sub*"
                Arguments.of("*.example/ali*", "https://issuer.example", "alice", false),
                // pinned (spec table rows; both implementations agree)
                Arguments.of("https://issuer.example/ali*", "https://issuer.example", "alice", true),
                Arguments.of("*.example/alice", "https://issuer.example", "alice", true),
                Arguments.of("https://accounts*", "https://accounts.example", "alice", false));
    }

    @ParameterizedTest(name = "[{index}] requestPrincipals {0} vs iss={1} sub={2} -> matches={3}")
    @MethodSource("cases")
    void requestPrincipalHalvesWithoutTheOuterStarAreExact(String pattern, String iss, String sub, boolean matches) {
        var s = snapshot(docs(
                waypointPolicy("allow-jwt", "rules: [{from: [{source: {requestPrincipals: [\"" + pattern + "\"]}}]}]"),
                waypointRequestAuth("jwt", "jwtRules: [{issuer: \"" + iss + "\"}]")));
        var d = s.decideL7(l7().token(jwt(iss, sub)).build());
        assertThat(d.verdict())
                .as("requestPrincipals %s vs %s/%s: %s", pattern, iss, sub, d.explanation())
                .isEqualTo(matches ? Verdict.ALLOW : Verdict.DENY);
    }

    @ParameterizedTest(name = "[{index}] request.auth.principal {0} vs iss={1} sub={2} -> matches={3}")
    @MethodSource("cases")
    void theRequestAuthPrincipalConditionSplitsTheSameWay(String pattern, String iss, String sub, boolean matches) {
        var s = snapshot(docs(
                waypointPolicy(
                        "allow-jwt", "rules: [{when: [{key: request.auth.principal, values: [\"" + pattern + "\"]}]}]"),
                waypointRequestAuth("jwt", "jwtRules: [{issuer: \"" + iss + "\"}]")));
        var d = s.decideL7(l7().token(jwt(iss, sub)).build());
        assertThat(d.verdict())
                .as("request.auth.principal %s vs %s/%s: %s", pattern, iss, sub, d.explanation())
                .isEqualTo(matches ? Verdict.ALLOW : Verdict.DENY);
    }
}
