package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.allowedNoAllowPolicy;
import static io.ambit.policy.semantics.Fixture.annotated;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.custom;
import static io.ambit.policy.semantics.Fixture.denied;
import static io.ambit.policy.semantics.Fixture.deniedBy;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.header;
import static io.ambit.policy.semantics.Fixture.jwt;
import static io.ambit.policy.semantics.Fixture.l4;
import static io.ambit.policy.semantics.Fixture.l7;
import static io.ambit.policy.semantics.Fixture.mesh;
import static io.ambit.policy.semantics.Fixture.policy;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.waypointPolicy;
import static io.ambit.policy.semantics.Fixture.waypointRequestAuth;
import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.engine.Token;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** authz-semantics §6: one test per numbered surprise. */
class SurprisesTest {
    private static final String SLEEP = "cluster.local/ns/foo/sa/sleep";
    private static final String ISS = "https://issuer.example.com";
    private static final String JWT = waypointRequestAuth("jwt", "jwtRules: [{issuer: " + ISS + "}]\n");

    @Test
    @DisplayName("1. waypoints ignore selector and namespace-wide policies; ztunnel ignores targetRefs policies")
    void waypointsAndZtunnelSeeDisjointPolicies() {
        var s = snapshot(docs(
                policy("sel", "selector: {matchLabels: {app: httpbin}}\naction: DENY\nrules: [{}]\n"),
                policy("ns-wide", "action: DENY\nrules: [{}]\n"),
                policy("istio-system", "mesh-wide", "action: DENY\nrules: [{}]\n")));
        check(s.decideL7(l7().build()), allowedNoAllowPolicy());

        var t = snapshot(waypointPolicy("svc", "action: DENY\nrules: [{}]\n"));
        check(t.decideL4(l4().build()), allowedNoAllowPolicy());
        check(t.decideL7(l7().build()), deniedBy("foo/svc", 0));
    }

    @Test
    @DisplayName("2. ztunnel ignores CUSTOM and AUDIT policies: a selector CUSTOM policy silently does nothing at L4")
    void ztunnelIgnoresCustomAndAudit() {
        var s = snapshot(docs(
                policy(
                        "ext",
                        "selector: {matchLabels: {app: httpbin}}\naction: CUSTOM\nprovider: {name: ext-authz}\n"
                                + "rules: [{}]\n"),
                policy("audit", "selector: {matchLabels: {app: httpbin}}\naction: AUDIT\nrules: [{}]\n")));
        check(s.decideL4(l4().build()), allowedNoAllowPolicy());
        check(s.decideL4(l4().peer(null).build()), allowedNoAllowPolicy());
    }

    @Test
    @DisplayName("3. an ALLOW rule with any HTTP attribute is dropped whole at ztunnel, even its pure-L4 sources")
    void allowRuleWithHttpAttributeIsDroppedWhole() {
        var s = snapshot(policy(
                "p",
                "rules: [{from: [{source: {principals: [\"" + SLEEP + "\"]}}, {source: {namespaces: [foo]}}],"
                        + " to: [{operation: {paths: [\"/api/*\"]}}]}]\n"));
        check(s.decideL4(l4().build()), deniedNoAllowMatched());
    }

    @Test
    @DisplayName("4. a DENY whose clause is purely HTTP is a no-op at ztunnel; \"require JWT\" protects nothing there")
    void purelyHttpDenyIsANoOpAtZtunnel() {
        var requireJwt = "action: DENY\nrules: [{from: [{source: {notRequestPrincipals: [\"*\"]}}]}]\n";
        // at ztunnel (selector policy): nothing is denied, not even plaintext without any token
        var atZtunnel = snapshot(docs(JWT, policy("require-jwt", requireJwt)));
        check(atZtunnel.decideL4(l4().peer(null).build()), allowedNoAllowPolicy());
        check(atZtunnel.decideL4(l4().build()), allowedNoAllowPolicy());
        // the same policy at a waypoint does what it says
        var atWaypoint = snapshot(docs(JWT, waypointPolicy("require-jwt", requireJwt)));
        check(atWaypoint.decideL7(l7().build()), deniedBy("foo/require-jwt", 0));
        check(atWaypoint.decideL7(l7().token(jwt(ISS, "alice")).build()), allowedNoAllowPolicy());
    }

    @Test
    @DisplayName("5. connection.sni is HTTP-only at ztunnel although the docs list it for TCP")
    void sniIsHttpOnlyAtZtunnel() {
        var allow = snapshot(policy("p", "rules: [{when: [{key: connection.sni, values: [\"*\"]}]}]\n"));
        check(allow.decideL4(l4().sni("httpbin.foo.svc.cluster.local").build()), deniedNoAllowMatched());
        var deny = snapshot(policy(
                "d",
                "action: DENY\nrules: [{from: [{source: {namespaces: [foo]}}],"
                        + " when: [{key: connection.sni, values: [\"*\"]}]}]\n"));
        check(deny.decideL4(l4().sni("httpbin.foo.svc.cluster.local").build()), allowedNoAllowPolicy());
    }

    @Test
    @DisplayName("6. negative matches are satisfied by plaintext, a missing token, header or claim")
    void negativeMatchesAreSatisfiedByMissingAttributes() {
        var s = snapshot(docs(JWT, waypointPolicy("p", """
                        rules:
                        - from: [{source: {notPrincipals: ["cluster.local/ns/bar/sa/curl"], notNamespaces: [bar],
                                  notRequestPrincipals: ["https://issuer.example.com/mallory"]}}]
                          when:
                          - {key: "request.headers[x-debug]", notValues: ["1"]}
                          - {key: "request.auth.claims[role]", notValues: [banned]}
                        """)));
        check(s.decideL7(l7().peer(null).build()), allowedBy("foo/p", 0));
        check(s.decideL7(l7().peer(null).token(jwt(ISS, "alice")).build()), allowedBy("foo/p", 0));
        // and at ztunnel, the pure-L4 negatives alike
        var t = snapshot(
                policy(
                        "p",
                        "rules: [{from: [{source: {notPrincipals: [\"*\"], notNamespaces: [foo], notIpBlocks: [10.9.0.0/16]}}]}]\n"));
        check(t.decideL4(l4().peer(null).build()), allowedBy("foo/p", 0));
    }

    @Test
    @DisplayName("7. \"*abc*\" is a suffix match on abc*; an infix * is literal")
    void doubleStarIsASuffixMatchAndInfixStarIsLiteral() {
        var s = snapshot(waypointPolicy(
                "p",
                "rules:\n- when: [{key: \"request.headers[user-agent]\", values: [\"*sqlmap*\"]}]\n"
                        + "- to: [{operation: {paths: [\"/api/*/info\"]}}]\n"));
        check(s.decideL7(l7().headers(header("user-agent", "sqlmap/1.7")).build()), deniedNoAllowMatched());
        check(s.decideL7(l7().headers(header("user-agent", "run-sqlmap*")).build()), allowedBy("foo/p", 0));
        check(s.decideL7(l7("GET", "/api/v1/info").build()), deniedNoAllowMatched());
        check(s.decideL7(l7("GET", "/api/*/info").build()), allowedBy("foo/p", 1));
    }

    @Test
    @DisplayName("8. requestPrincipals split at the last slash; \"https://accounts*\" never matches a real token")
    void requestPrincipalPatternsSplitAtTheLastSlash() {
        var google = "https://accounts.google.com";
        var s = snapshot(docs(
                waypointRequestAuth("jwt", "jwtRules: [{issuer: \"" + google + "\"}]\n"),
                waypointPolicy("p", "rules: [{from: [{source: {requestPrincipals: [\"https://accounts*\"]}}]}]\n")));
        check(s.decideL7(l7().token(jwt(google, "1234567890")).build()), deniedNoAllowMatched());
        check(s.decideL7(l7().token(jwt(google, "accounts-1")).build()), deniedNoAllowMatched());
        var t = snapshot(docs(
                waypointRequestAuth("jwt", "jwtRules: [{issuer: \"" + google + "\"}]\n"),
                waypointPolicy("p", "rules: [{from: [{source: {requestPrincipals: [\"" + google + "/*\"]}}]}]\n")));
        check(t.decideL7(l7().token(jwt(google, "1234567890")).build()), allowedBy("foo/p", 0));
    }

    @Test
    @DisplayName("9. a token from an unknown issuer is rejected with 401, not treated as no token")
    void unknownIssuerIsRejected() {
        var s = snapshot(JWT);
        var d = s.decideL7(
                l7().token(jwt("https://unknown.example.com", "alice")).build());
        check(d, denied(Reason.JWT));
        assertThat(d.httpStatus()).isEqualTo(401);
        check(s.decideL7(l7().token(Token.NONE).build()), allowedNoAllowPolicy());
    }

    @Test
    @DisplayName(
            "10. cluster.local points to the trust domain and aliases at L7 (5-part principals only); ztunnel does no aliasing")
    void clusterLocalIsAPointerOnlyAtL7() {
        var mesh = mesh("trustDomain: td1\ntrustDomainAliases: [td2]\n");
        var l7Policy = snapshot(
                waypointPolicy("p", "rules: [{from: [{source: {principals: [\"cluster.local/ns/foo/sa/sleep\"]}}]}]\n"),
                mesh);
        check(l7Policy.decideL7(l7().peer("td2/ns/foo/sa/sleep").build()), allowedBy("foo/p", 0));
        check(l7Policy.decideL7(l7().peer("cluster.local/ns/foo/sa/sleep").build()), deniedNoAllowMatched());
        var fourParts = snapshot(
                waypointPolicy("p", "rules: [{from: [{source: {principals: [\"cluster.local/ns/foo/*\"]}}]}]\n"), mesh);
        check(fourParts.decideL7(l7().peer("td1/ns/foo/sa/sleep").build()), deniedNoAllowMatched());
        var l4Policy = snapshot(
                policy("p", "rules: [{from: [{source: {principals: [\"cluster.local/ns/foo/sa/sleep\"]}}]}]\n"), mesh);
        check(l4Policy.decideL4(l4().peer("td1/ns/foo/sa/sleep").build()), deniedNoAllowMatched());
        check(l4Policy.decideL4(l4().peer("cluster.local/ns/foo/sa/sleep").build()), allowedBy("foo/p", 0));
    }

    @Test
    @DisplayName("11. CUSTOM runs before JWT validation at the waypoint")
    void customRunsBeforeJwt() {
        var s = snapshot(
                docs(JWT, waypointPolicy("ext", "action: CUSTOM\nprovider: {name: ext-authz}\nrules: [{}]\n")));
        check(s.decideL7(l7().token(new Token.Invalid("expired")).build()), custom("ext-authz", "foo/ext", 0));
    }

    @Test
    @DisplayName("12. a dry-run ALLOW policy does not trigger deny-by-default")
    void dryRunAllowDoesNotTriggerDenyByDefault() {
        var spec = "rules: [{from: [{source: {namespaces: [nowhere]}}]}]\n";
        var s = snapshot(docs(
                annotated("foo", "dry-l4", Map.of("istio.io/dry-run", "true"), spec),
                annotated("foo", "dry-l7", Map.of("istio.io/dry-run", "true"), Fixture.TO_SERVICE + spec)));
        check(s.decideL4(l4().build()), allowedNoAllowPolicy());
        check(s.decideL7(l7().build()), allowedNoAllowPolicy());
    }

    @Test
    @DisplayName("13. an exact hosts match fails when the Host header carries a port")
    void exactHostFailsWithPort() {
        var s = snapshot(waypointPolicy("p", "rules: [{to: [{operation: {hosts: [httpbin.example.com]}}]}]\n"));
        check(s.decideL7(l7().http("GET", "httpbin.example.com:8000", "/").build()), deniedNoAllowMatched());
        check(s.decideL7(l7().http("GET", "httpbin.example.com", "/").build()), allowedBy("foo/p", 0));
    }
}
