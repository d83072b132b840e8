package io.ambit.policy.review;

import static io.ambit.policy.review.ReviewFixture.HTTPBIN;
import static io.ambit.policy.review.ReviewFixture.NS;
import static io.ambit.policy.review.ReviewFixture.annotated;
import static io.ambit.policy.review.ReviewFixture.docs;
import static io.ambit.policy.review.ReviewFixture.jwt;
import static io.ambit.policy.review.ReviewFixture.l4;
import static io.ambit.policy.review.ReviewFixture.l7;
import static io.ambit.policy.review.ReviewFixture.mesh;
import static io.ambit.policy.review.ReviewFixture.object;
import static io.ambit.policy.review.ReviewFixture.policy;
import static io.ambit.policy.review.ReviewFixture.snapshot;
import static io.ambit.policy.review.ReviewFixture.waypointPolicy;
import static io.ambit.policy.review.ReviewFixture.waypointRequestAuth;
import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.engine.Decision.Verdict;
import io.ambit.policy.engine.Token;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Behaviours the spec states to the letter and a conformance suite is certain to probe; they pass today and
 * are pinned here so that fixes for the other review findings do not move them.
 */
class PinnedSemanticsReviewTest {

    private static String verdict(Decision d) {
        return d.verdict() + " " + d.reason().text();
    }

    /**
     * §2.4 joins repeated headers with "," before matching; security-cases.md B1 row 6 (CVE-2026-26308)
     * shows a DENY dodged that way. Ambit: a DENY matches if the joined value or any single value
     * matches (fail closed); an ALLOW keeps the joined reading of §2.4.
     */
    @Test
    void aDenyOnAHeaderCannotBeDodgedBySendingItTwice() {
        var s = snapshot(waypointPolicy(
                "deny-admin", "action: DENY\nrules: [{when: [{key: \"request.headers[x-user]\", values: [admin]}]}]"));
        var twice =
                s.decideL7(l7().headers(Map.of("x-user", List.of("a", "admin"))).build());
        var single = s.decideL7(l7().headers(Map.of("X-User", List.of("admin"))).build());
        var other = s.decideL7(l7().headers(Map.of("x-user", List.of("a", "b"))).build());
        assertThat(verdict(twice)).isEqualTo("DENY authz");
        assertThat(verdict(single)).isEqualTo("DENY authz");
        assertThat(verdict(other)).isEqualTo("ALLOW authz");
    }

    @Test
    void aDenyOnNotValuesCannotBeDodgedBySendingTheAllowedValueTwice() {
        var s = snapshot(waypointPolicy(
                "only-admin",
                "action: DENY\nrules: [{when: [{key: \"request.headers[x-user]\", notValues: [admin]}]}]"));
        assertThat(verdict(s.decideL7(
                        l7().headers(Map.of("x-user", List.of("admin"))).build())))
                .isEqualTo("ALLOW authz");
        assertThat(verdict(s.decideL7(
                        l7().headers(Map.of("x-user", List.of("admin", "eve"))).build())))
                .isEqualTo("DENY authz");
    }

    @Test
    void anAllowOnAHeaderKeepsTheJoinedReading() {
        var s = snapshot(waypointPolicy(
                "allow-admin",
                "action: ALLOW\nrules: [{when: [{key: \"request.headers[x-user]\", values: [admin]}]}]"));
        assertThat(verdict(s.decideL7(
                        l7().headers(Map.of("x-user", List.of("a", "admin"))).build())))
                .isEqualTo("DENY authz");
        assertThat(verdict(s.decideL7(
                        l7().headers(Map.of("x-user", List.of("admin"))).build())))
                .isEqualTo("ALLOW authz");
    }

    /** §2.10 ALLOW: a rule with any HTTP attribute is dropped whole at L4, its pure-L4 source too. */
    @Test
    void anAllowRuleWithMixedL4AndL7SourcesIsDroppedWholeAtL4() {
        var s = snapshot(policy(
                "allow",
                "rules: [{from: [{source: {principals: [\"cluster.local/ns/foo/sa/sleep\"]}},"
                        + " {source: {requestPrincipals: [\"*\"]}}]}]"));
        assertThat(verdict(s.decideL4(l4().build()))).isEqualTo("DENY authz");
    }

    /** §2.10 DENY: per clause; a match keeping an L4 field is widened, an emptied clause never fires. */
    @Test
    void denyStrippingIsPerClause() {
        var widened = snapshot(policy(
                "deny",
                "action: DENY\nrules: [{from: [{source: {principals: [\"cluster.local/ns/foo/sa/sleep\"],"
                        + " notRequestPrincipals: [\"*\"]}}]}]"));
        assertThat(verdict(widened.decideL4(l4().build()))).isEqualTo("DENY authz");
        var noop = snapshot(policy(
                "deny",
                "action: DENY\nrules: [{from: [{source: {principals: [\"cluster.local/ns/foo/sa/sleep\"]}}],"
                        + " when: [{key: \"request.headers[x]\", values: [a]}]}]"));
        assertThat(verdict(noop.decideL4(l4().build()))).isEqualTo("ALLOW authz");
        var otherRule = snapshot(policy("deny", "action: DENY\nrules: [{to: [{operation: {methods: [POST]}}]}, {}]"));
        assertThat(verdict(otherRule.decideL4(l4().build()))).isEqualTo("DENY authz");
    }

    /** §2.6: hosts are matched as sent, including the port; case-insensitively. */
    @Test
    void hostsIncludeThePort() {
        var s = snapshot(waypointPolicy("allow", "rules: [{to: [{operation: {hosts: [\"Example.com\"]}}]}]"));
        assertThat(verdict(s.decideL7(l7().http("GET", "example.COM", "/").build())))
                .isEqualTo("ALLOW authz");
        assertThat(verdict(s.decideL7(l7().http("GET", "example.com:8080", "/").build())))
                .isEqualTo("DENY authz");
    }

    /** §2.2 / §2.13: CUSTOM runs before JWT validation; an unknown issuer is a 401, not "no token". */
    @Test
    void customRunsBeforeJwtAndUnknownIssuersAreRejected() {
        var s = snapshot(docs(
                waypointPolicy(
                        "ext",
                        "action: CUSTOM\nprovider: {name: ext}\nrules: [{to: [{operation: {paths: [\"/ext\"]}}]}]"),
                waypointRequestAuth("jwt", "jwtRules: [{issuer: good}]")));
        var custom =
                s.decideL7(l7("GET", "/ext").token(new Token.Invalid("bad")).build());
        assertThat(custom.verdict()).isEqualTo(Verdict.CUSTOM);
        assertThat(custom.provider()).isEqualTo("ext");
        var unknown = s.decideL7(l7("GET", "/x").token(jwt("other", "alice")).build());
        assertThat(verdict(unknown)).isEqualTo("DENY jwt");
        assertThat(unknown.httpStatus()).isEqualTo(401);
    }

    /** §2.12: a dry-run ALLOW does not switch on deny-by-default. */
    @Test
    void aDryRunAllowDoesNotTriggerDenyByDefault() {
        var s = snapshot(annotated(
                NS, "dr", Map.of("istio.io/dry-run", "True"), "rules: [{from: [{source: {namespaces: [bar]}}]}]"));
        assertThat(verdict(s.decideL4(l4().build()))).isEqualTo("ALLOW authz");
    }

    /** §3: a namespace STRICT inherited by an UNSET workload policy whose port entry says PERMISSIVE. */
    @Test
    void portLevelMtlsOverridesTheInheritedMode() {
        var s = snapshot(docs(
                object("PeerAuthentication", NS, "ns-strict", Map.of(), "mtls: {mode: STRICT}"),
                object(
                        "PeerAuthentication",
                        NS,
                        "wl",
                        Map.of(),
                        "selector: {matchLabels: {app: httpbin}}\nportLevelMtls: {\"8080\": {mode: PERMISSIVE}}")));
        var plaintext8080 = s.decideL4(l4().peer(null).build());
        var plaintext9090 = s.decideL4(l4().peer(null).port(9090).build());
        assertThat(verdict(plaintext8080)).isEqualTo("ALLOW authz");
        assertThat(plaintext9090.reason()).isEqualTo(Reason.PEER_AUTHENTICATION);
    }

    /** §2.9: cluster.local is rewritten to the bundle at L7 only; L4 compares literally. */
    @Test
    void clusterLocalIsAPointerToTheTrustDomainAtL7Only() {
        var m = mesh("trustDomain: td1");
        String allow = "rules: [{from: [{source: {principals: [\"cluster.local/ns/foo/sa/sleep\"]}}]}]";
        var l7 = snapshot(waypointPolicy("allow", allow), m);
        var l4 = snapshot(policy("allow", allow), m);
        assertThat(verdict(l7.decideL7(l7().build()))).isEqualTo("DENY authz");
        assertThat(verdict(l7.decideL7(l7().peer("td1/ns/foo/sa/sleep").build())))
                .isEqualTo("ALLOW authz");
        assertThat(verdict(l4.decideL4(l4().build()))).isEqualTo("ALLOW authz");
    }

    /** §2.3: negative matches hold for plaintext and token-less requests. */
    @Test
    void negativeMatchesHoldForMissingAttributes() {
        var s = snapshot(waypointPolicy(
                "deny",
                "action: DENY\nrules: [{from: [{source: {notRequestPrincipals: [\"*\"]}}]},"
                        + " {from: [{source: {notNamespaces: [foo]}}]}]"));
        Decision noToken = s.decideL7(l7().build());
        assertThat(verdict(noToken)).isEqualTo("DENY authz");
        assertThat(noToken.rule()).isZero();
        var plain = s.decideL7(AccessRequest.builder()
                .destination(HTTPBIN)
                .http("GET", "h", "/")
                .build());
        assertThat(verdict(plain)).isEqualTo("DENY authz");
    }
}
