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
import static io.ambit.policy.semantics.Fixture.mesh;
import static io.ambit.policy.semantics.Fixture.policy;
import static io.ambit.policy.semantics.Fixture.service;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.waypointPolicy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.AccessRequest.ExtAuthzAnswer;
import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.policy.semantics.Fixture.Expect;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** authz-semantics §2.11: CUSTOM decides only whether the provider is asked; the provider's deny is final. */
class CustomTest {
    private static final MeshConfig PROVIDERS = mesh("extensionProviders:\n"
            + "- name: ext-authz\n  envoyExtAuthzHttp: {service: ext-authz.foo.svc.cluster.local, port: 8000}\n"
            + "- name: opa\n  envoyExtAuthzGrpc: {service: opa.foo.svc.cluster.local, port: 9191}\n");
    private static final MeshConfig DEFAULT = MeshConfig.DEFAULT;

    private static String customAdmin(String provider) {
        return waypointPolicy(
                "ext",
                "action: CUSTOM\nprovider: {name: " + provider + "}\n"
                        + "rules: [{to: [{operation: {paths: [\"/admin/*\"]}}]}]\n");
    }

    @ParameterizedTest
    @MethodSource
    void providers(MeshConfig mesh, String yaml, AccessRequest request, Expect expected) {
        check(snapshot(yaml, mesh).decideL7(request), expected);
    }

    static Stream<Arguments> providers() {
        return Stream.of(
                argumentSet(
                        "a request matching the CUSTOM rules is sent to the declared provider",
                        PROVIDERS,
                        customAdmin("ext-authz"),
                        l7("GET", "/admin/users").build(),
                        custom("ext-authz", "foo/ext", 0)),
                argumentSet(
                        "a request not matching the CUSTOM rules is not sent to the provider",
                        PROVIDERS,
                        customAdmin("ext-authz"),
                        l7("GET", "/public").build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a provider not among extensionProviders: requests the CUSTOM rules match are denied",
                        PROVIDERS,
                        customAdmin("missing"),
                        l7("GET", "/admin/users").build(),
                        denied(Reason.EXT_AUTHZ, "foo/ext")),
                argumentSet(
                        "a provider not among extensionProviders: requests the CUSTOM rules do not match pass",
                        PROVIDERS,
                        customAdmin("missing"),
                        l7("GET", "/public").build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "two providers on one Service: requests the CUSTOM rules match are denied",
                        PROVIDERS,
                        docs(
                                customAdmin("ext-authz"),
                                waypointPolicy(
                                        "ext2",
                                        "action: CUSTOM\nprovider: {name: opa}\n"
                                                + "rules: [{to: [{operation: {paths: [\"/other\"]}}]}]\n")),
                        l7("GET", "/admin/users").build(),
                        denied(Reason.EXT_AUTHZ, "foo/ext")),
                argumentSet(
                        "two providers on one Service: requests no CUSTOM rule matches pass",
                        PROVIDERS,
                        docs(
                                customAdmin("ext-authz"),
                                waypointPolicy(
                                        "ext2",
                                        "action: CUSTOM\nprovider: {name: opa}\n"
                                                + "rules: [{to: [{operation: {paths: [\"/other\"]}}]}]\n")),
                        l7("GET", "/public").build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "the provider's deny is final",
                        PROVIDERS,
                        customAdmin("ext-authz"),
                        l7("GET", "/admin/users").extAuthz(ExtAuthzAnswer.DENY).build(),
                        denied(Reason.EXT_AUTHZ, "foo/ext")),
                argumentSet(
                        "the provider's allow cannot bypass a DENY policy",
                        PROVIDERS,
                        docs(
                                customAdmin("ext-authz"),
                                waypointPolicy(
                                        "deny", "action: DENY\nrules: [{to: [{operation: {methods: [GET]}}]}]\n")),
                        l7("GET", "/admin/users").extAuthz(ExtAuthzAnswer.ALLOW).build(),
                        deniedBy("foo/deny", 0)),
                argumentSet(
                        "the provider's allow cannot bypass ALLOW policies",
                        PROVIDERS,
                        docs(
                                customAdmin("ext-authz"),
                                waypointPolicy("allow", "rules: [{to: [{operation: {paths: [/public]}}]}]\n")),
                        l7("GET", "/admin/users").extAuthz(ExtAuthzAnswer.ALLOW).build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "after the provider's allow, a matching ALLOW policy allows",
                        PROVIDERS,
                        docs(
                                customAdmin("ext-authz"),
                                waypointPolicy("allow", "rules: [{to: [{operation: {paths: [\"/admin/*\"]}}]}]\n")),
                        l7("GET", "/admin/users").extAuthz(ExtAuthzAnswer.ALLOW).build(),
                        allowedBy("foo/allow", 0)),
                argumentSet(
                        "with rules [{}] every request is sent to the provider",
                        PROVIDERS,
                        waypointPolicy("ext", "action: CUSTOM\nprovider: {name: opa}\nrules: [{}]\n"),
                        l7("DELETE", "/anything").build(),
                        custom("opa", "foo/ext", 0)),
                argumentSet(
                        "the second matching CUSTOM rule is reported with its index",
                        PROVIDERS,
                        waypointPolicy(
                                "ext",
                                "action: CUSTOM\nprovider: {name: opa}\nrules:\n"
                                        + "- to: [{operation: {methods: [DELETE]}}]\n"
                                        + "- to: [{operation: {paths: [\"/admin/*\"]}}]\n"),
                        l7("GET", "/admin/users").build(),
                        custom("opa", "foo/ext", 1)),
                argumentSet(
                        "a CUSTOM policy attached to the waypoint applies to its Services",
                        PROVIDERS,
                        policy(
                                "foo",
                                "ext",
                                "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]\n"
                                        + "action: CUSTOM\nprovider: {name: ext-authz}\nrules: [{}]\n"),
                        l7().destination(service("foo", "reviews", "waypoint")).build(),
                        custom("ext-authz", "foo/ext", 0)),
                argumentSet(
                        "different Services at one waypoint may use different providers (first Service)",
                        PROVIDERS,
                        docs(
                                waypointPolicy("ext", "action: CUSTOM\nprovider: {name: ext-authz}\nrules: [{}]\n"),
                                policy(
                                        "foo",
                                        "opa",
                                        "targetRefs: [{kind: Service, group: \"\", name: reviews}]\n"
                                                + "action: CUSTOM\nprovider: {name: opa}\nrules: [{}]\n")),
                        l7().build(),
                        custom("ext-authz", "foo/ext", 0)),
                argumentSet(
                        "different Services at one waypoint may use different providers (second Service)",
                        PROVIDERS,
                        docs(
                                waypointPolicy("ext", "action: CUSTOM\nprovider: {name: ext-authz}\nrules: [{}]\n"),
                                policy(
                                        "foo",
                                        "opa",
                                        "targetRefs: [{kind: Service, group: \"\", name: reviews}]\n"
                                                + "action: CUSTOM\nprovider: {name: opa}\nrules: [{}]\n")),
                        l7().destination(service("foo", "reviews", "waypoint")).build(),
                        custom("opa", "foo/opa", 0)),
                argumentSet(
                        "without declared extensionProviders every referenced provider is assumed to exist",
                        DEFAULT,
                        customAdmin("anything"),
                        l7("GET", "/admin/users").build(),
                        custom("anything", "foo/ext", 0)));
    }

    @ParameterizedTest
    @MethodSource
    void ztunnelIgnoresCustom(String yaml) {
        check(snapshot(yaml, PROVIDERS).decideL4(l4().build()), allowedNoAllowPolicy());
    }

    static Stream<Arguments> ztunnelIgnoresCustom() {
        return Stream.of(
                argumentSet(
                        "ztunnel ignores a selector CUSTOM policy",
                        policy(
                                "ext",
                                "selector: {matchLabels: {app: httpbin}}\naction: CUSTOM\nprovider: {name: ext-authz}\n"
                                        + "rules: [{}]\n")),
                argumentSet(
                        "ztunnel ignores a namespace-wide CUSTOM policy",
                        policy("ext", "action: CUSTOM\nprovider: {name: ext-authz}\nrules: [{}]\n")),
                argumentSet(
                        "ztunnel ignores a CUSTOM policy with an undeclared provider",
                        policy("ext", "action: CUSTOM\nprovider: {name: missing}\nrules: [{}]\n")));
    }
}
