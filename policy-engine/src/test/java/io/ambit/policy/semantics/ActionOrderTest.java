package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.allowedNoAllowPolicy;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.custom;
import static io.ambit.policy.semantics.Fixture.denied;
import static io.ambit.policy.semantics.Fixture.deniedBy;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.l4;
import static io.ambit.policy.semantics.Fixture.l7;
import static io.ambit.policy.semantics.Fixture.peerAuth;
import static io.ambit.policy.semantics.Fixture.policy;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.waypointPolicy;
import static io.ambit.policy.semantics.Fixture.waypointRequestAuth;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.AccessRequest.ExtAuthzAnswer;
import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.engine.Token;
import io.ambit.policy.semantics.Fixture.Expect;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** authz-semantics §2.2 and §2.13: CUSTOM, then (at L7) JWT, then DENY, then ALLOW; AUDIT never decides. */
class ActionOrderTest {
    // L7 policies, all attached to the httpbin Service
    private static final String CUSTOM_ADMIN = waypointPolicy(
            "ext",
            "action: CUSTOM\nprovider: {name: ext-authz}\nrules: [{to: [{operation: {paths: [\"/admin*\"]}}]}]\n");
    private static final String DENY_ALL = waypointPolicy("deny", "action: DENY\nrules: [{}]\n");
    private static final String DENY_DELETE =
            waypointPolicy("deny", "action: DENY\nrules: [{to: [{operation: {methods: [DELETE]}}]}]\n");
    private static final String ALLOW_ALL = waypointPolicy("allow", "rules: [{}]\n");
    private static final String ALLOW_PUBLIC =
            waypointPolicy("allow", "rules: [{to: [{operation: {paths: [\"/public*\"]}}]}]\n");
    private static final String ALLOW_HEALTH =
            waypointPolicy("allow-health", "rules: [{to: [{operation: {paths: [/health]}}]}]\n");
    private static final String AUDIT_ALL = waypointPolicy("audit", "action: AUDIT\nrules: [{}]\n");
    private static final String JWT = waypointRequestAuth("jwt", "jwtRules: [{issuer: https://issuer.example.com}]\n");
    private static final Token BAD_TOKEN = new Token.Invalid("signature does not verify");

    @ParameterizedTest
    @MethodSource
    void waypointOrder(String yaml, AccessRequest request, Expect expected) {
        check(snapshot(yaml).decideL7(request), expected);
    }

    static Stream<Arguments> waypointOrder() {
        return Stream.of(
                argumentSet(
                        "a request matching a CUSTOM rule goes to the provider before any DENY policy",
                        docs(CUSTOM_ADMIN, DENY_ALL),
                        l7("GET", "/admin").build(),
                        custom("ext-authz", "foo/ext", 0)),
                argumentSet(
                        "the provider's deny is final, even when an ALLOW policy would allow",
                        docs(CUSTOM_ADMIN, ALLOW_ALL),
                        l7("GET", "/admin").extAuthz(ExtAuthzAnswer.DENY).build(),
                        denied(Reason.EXT_AUTHZ, "foo/ext")),
                argumentSet(
                        "after the provider allows, a matching DENY policy still denies",
                        docs(CUSTOM_ADMIN, DENY_ALL),
                        l7("GET", "/admin").extAuthz(ExtAuthzAnswer.ALLOW).build(),
                        deniedBy("foo/deny", 0)),
                argumentSet(
                        "after the provider allows, ALLOW policies must still match",
                        docs(CUSTOM_ADMIN, ALLOW_PUBLIC),
                        l7("GET", "/admin").extAuthz(ExtAuthzAnswer.ALLOW).build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "after the provider allows, no ALLOW policy means allowed",
                        CUSTOM_ADMIN,
                        l7("GET", "/admin").extAuthz(ExtAuthzAnswer.ALLOW).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a request matching no CUSTOM rule is not sent to the provider",
                        CUSTOM_ADMIN,
                        l7("GET", "/public").build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a request matching no CUSTOM rule is not subject to the provider's answer",
                        CUSTOM_ADMIN,
                        l7("GET", "/public").extAuthz(ExtAuthzAnswer.DENY).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a matching DENY policy wins over a matching ALLOW policy",
                        docs(DENY_ALL, ALLOW_ALL),
                        l7().build(),
                        deniedBy("foo/deny", 0)),
                argumentSet(
                        "with no ALLOW policy, a request that no DENY policy matches is allowed",
                        DENY_DELETE,
                        l7("GET", "/").build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "with several ALLOW policies, any one matching allows",
                        docs(ALLOW_PUBLIC, ALLOW_HEALTH),
                        l7("GET", "/health").build(),
                        allowedBy("foo/allow-health", 0)),
                argumentSet(
                        "with ALLOW policies present and none matching, the request is denied",
                        docs(ALLOW_PUBLIC, ALLOW_HEALTH),
                        l7("GET", "/private").build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "a non-matching DENY policy does not count as an ALLOW policy",
                        docs(DENY_DELETE, ALLOW_PUBLIC),
                        l7("GET", "/public").build(),
                        allowedBy("foo/allow", 0)),
                argumentSet(
                        "an AUDIT policy does not count as an ALLOW policy",
                        AUDIT_ALL,
                        l7().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a matching AUDIT policy does not allow what no ALLOW policy matches",
                        docs(AUDIT_ALL, ALLOW_PUBLIC),
                        l7("GET", "/private").build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "a request reaches the CUSTOM provider before its JWT is validated",
                        docs(JWT, CUSTOM_ADMIN),
                        l7("GET", "/admin").token(BAD_TOKEN).build(),
                        custom("ext-authz", "foo/ext", 0)),
                argumentSet(
                        "a provider's deny comes before a JWT rejection",
                        docs(JWT, CUSTOM_ADMIN),
                        l7("GET", "/admin")
                                .token(BAD_TOKEN)
                                .extAuthz(ExtAuthzAnswer.DENY)
                                .build(),
                        denied(Reason.EXT_AUTHZ, "foo/ext")),
                argumentSet(
                        "after the provider allows, an invalid JWT is rejected",
                        docs(JWT, CUSTOM_ADMIN),
                        l7("GET", "/admin")
                                .token(BAD_TOKEN)
                                .extAuthz(ExtAuthzAnswer.ALLOW)
                                .build(),
                        denied(Reason.JWT)),
                argumentSet(
                        "a JWT rejection happens before ALLOW policies are evaluated",
                        docs(JWT, ALLOW_ALL),
                        l7().token(BAD_TOKEN).build(),
                        denied(Reason.JWT)),
                argumentSet(
                        "a JWT rejection happens before DENY policies are evaluated",
                        docs(JWT, DENY_ALL),
                        l7().token(BAD_TOKEN).build(),
                        denied(Reason.JWT)));
    }

    @Test
    void aMatchingAuditPolicyOnlyMarksTheRequestForAuditing() {
        var d = snapshot(docs(AUDIT_ALL, ALLOW_PUBLIC))
                .decideL7(l7("GET", "/public").build());
        check(d, allowedBy("foo/allow", 0));
        assertThat(d.audit()).containsExactly("foo/audit");
    }

    // L4 policies, attached by namespace or selector
    private static final String L4_DENY_ALL = policy("deny", "action: DENY\nrules: [{}]\n");
    private static final String L4_ALLOW_ALL = policy("allow", "rules: [{}]\n");
    private static final String L4_ALLOW_BAR = policy("allow", "rules: [{from: [{source: {namespaces: [bar]}}]}]\n");
    private static final String L4_ALLOW_FOO =
            policy("allow-foo", "rules: [{from: [{source: {namespaces: [foo]}}]}]\n");

    @ParameterizedTest
    @MethodSource
    void ztunnelOrder(String yaml, AccessRequest request, Expect expected) {
        check(snapshot(yaml).decideL4(request), expected);
    }

    static Stream<Arguments> ztunnelOrder() {
        return Stream.of(
                argumentSet(
                        "at ztunnel a matching DENY policy wins over a matching ALLOW policy",
                        docs(L4_DENY_ALL, L4_ALLOW_ALL),
                        l4().build(),
                        deniedBy("foo/deny", 0)),
                argumentSet(
                        "at ztunnel no ALLOW policy means allowed",
                        policy("deny", "action: DENY\nrules: [{from: [{source: {namespaces: [bar]}}]}]\n"),
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "at ztunnel any matching ALLOW policy allows",
                        docs(L4_ALLOW_BAR, L4_ALLOW_FOO),
                        l4().build(),
                        allowedBy("foo/allow-foo", 0)),
                argumentSet(
                        "at ztunnel ALLOW policies that do not match deny",
                        L4_ALLOW_BAR,
                        l4().build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "a CUSTOM policy is not sent to ztunnel and has no effect there",
                        policy(
                                "ext",
                                "selector: {matchLabels: {app: httpbin}}\naction: CUSTOM\nprovider: {name: ext-authz}\n"
                                        + "rules: [{}]\n"),
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a CUSTOM policy at ztunnel does not stop ALLOW policies from deciding",
                        docs(policy("ext", "action: CUSTOM\nprovider: {name: ext-authz}\nrules: [{}]\n"), L4_ALLOW_FOO),
                        l4().build(),
                        allowedBy("foo/allow-foo", 0)),
                argumentSet(
                        "an AUDIT policy is not sent to ztunnel and does not count as an ALLOW policy",
                        policy("audit", "action: AUDIT\nrules: [{}]\n"),
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "an AUDIT policy at ztunnel does not allow what no ALLOW policy matches",
                        docs(policy("audit", "action: AUDIT\nrules: [{}]\n"), L4_ALLOW_BAR),
                        l4().build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "PeerAuthentication STRICT acts as an extra DENY that beats an ALLOW by ipBlocks",
                        docs(
                                peerAuth("foo", "strict", "mtls: {mode: STRICT}\n"),
                                policy("allow-ip", "rules: [{from: [{source: {ipBlocks: [10.0.0.0/8]}}]}]\n")),
                        l4().peer(null).build(),
                        denied(Reason.PEER_AUTHENTICATION, "foo/strict")));
    }
}
