package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.Layer.L4;
import static io.ambit.policy.semantics.Fixture.Layer.L7;
import static io.ambit.policy.semantics.Fixture.allowedNoAllowPolicy;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.denied;
import static io.ambit.policy.semantics.Fixture.deniedBy;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.jwt;
import static io.ambit.policy.semantics.Fixture.l4;
import static io.ambit.policy.semantics.Fixture.l7;
import static io.ambit.policy.semantics.Fixture.mesh;
import static io.ambit.policy.semantics.Fixture.policy;
import static io.ambit.policy.semantics.Fixture.requestAuth;
import static io.ambit.policy.semantics.Fixture.service;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.waypointPolicy;
import static io.ambit.policy.semantics.Fixture.waypointRequestAuth;
import static io.ambit.policy.semantics.Fixture.workload;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.AccessRequest.Destination;
import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.policy.semantics.Fixture.Expect;
import io.ambit.policy.semantics.Fixture.Layer;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** authz-semantics §1: which enforcement point applies which policy. */
class AttachmentTest {
    private static final String DENY_ALL = "action: DENY\nrules: [{}]\n";
    private static final MeshConfig DEFAULT = MeshConfig.DEFAULT;
    private static final MeshConfig ROOT_MESH_ROOT = mesh("rootNamespace: mesh-root\n");

    private static final Destination BAR_V1 = workload("bar", Map.of("app", "other", "version", "v1"));
    private static final Destination BAR_V2 = workload("bar", Map.of("app", "other", "version", "v2"));
    private static final Destination ROOT_WORKLOAD = workload("istio-system", Map.of("app", "gateway"));

    @ParameterizedTest
    @MethodSource
    void policiesAttach(MeshConfig mesh, String yaml, Layer layer, AccessRequest request, Expect expected) {
        check(snapshot(yaml, mesh), layer, request, expected);
    }

    static Stream<Arguments> policiesAttach() {
        return Stream.of(
                // ztunnel: namespace, labels, root namespace
                argumentSet(
                        "a root-namespace policy without selector applies to every workload of the mesh",
                        DEFAULT,
                        policy("istio-system", "deny-all", DENY_ALL),
                        L4,
                        l4().destination(BAR_V2).build(),
                        deniedBy("istio-system/deny-all", 0)),
                argumentSet(
                        "a namespace policy without selector applies to every workload of its namespace",
                        DEFAULT,
                        policy("foo", "deny-all", DENY_ALL),
                        L4,
                        l4().build(),
                        deniedBy("foo/deny-all", 0)),
                argumentSet(
                        "a namespace policy without selector does not apply in another namespace",
                        DEFAULT,
                        policy("foo", "deny-all", DENY_ALL),
                        L4,
                        l4().destination(BAR_V1).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a root-namespace selector applies to matching workloads in any namespace",
                        DEFAULT,
                        policy("istio-system", "v1", "selector: {matchLabels: {version: v1}}\n" + DENY_ALL),
                        L4,
                        l4().destination(BAR_V1).build(),
                        deniedBy("istio-system/v1", 0)),
                argumentSet(
                        "a root-namespace selector skips workloads without its labels",
                        DEFAULT,
                        policy("istio-system", "v1", "selector: {matchLabels: {version: v1}}\n" + DENY_ALL),
                        L4,
                        l4().destination(BAR_V2).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a selector matches when the workload's labels contain all matchLabels (extra labels are fine)",
                        DEFAULT,
                        policy("foo", "sel", "selector: {matchLabels: {app: httpbin}}\n" + DENY_ALL),
                        L4,
                        l4().build(),
                        deniedBy("foo/sel", 0)),
                argumentSet(
                        "a selector does not match when one of its labels is missing or different",
                        DEFAULT,
                        policy("foo", "sel", "selector: {matchLabels: {app: httpbin, version: v2}}\n" + DENY_ALL),
                        L4,
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a selector in a non-root namespace never reaches workloads of other namespaces",
                        DEFAULT,
                        policy("bar", "sel", "selector: {matchLabels: {app: httpbin}}\n" + DENY_ALL),
                        L4,
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "an empty selector behaves as all workloads of the namespace",
                        DEFAULT,
                        policy("foo", "empty", "selector: {}\n" + DENY_ALL),
                        L4,
                        l4().build(),
                        deniedBy("foo/empty", 0)),
                argumentSet(
                        "an empty matchLabels behaves as all workloads of the namespace",
                        DEFAULT,
                        policy("foo", "empty", "selector: {matchLabels: {}}\n" + DENY_ALL),
                        L4,
                        l4().build(),
                        deniedBy("foo/empty", 0)),
                argumentSet(
                        "an empty selector in the root namespace applies to every workload of the mesh",
                        DEFAULT,
                        policy("istio-system", "empty", "selector: {}\n" + DENY_ALL),
                        L4,
                        l4().destination(BAR_V2).build(),
                        deniedBy("istio-system/empty", 0)),
                argumentSet(
                        "ztunnel ignores a policy with a Service targetRef",
                        DEFAULT,
                        waypointPolicy("svc", DENY_ALL),
                        L4,
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "ztunnel ignores a policy with a Gateway targetRef",
                        DEFAULT,
                        policy(
                                "foo",
                                "gw",
                                "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]\n"
                                        + DENY_ALL),
                        L4,
                        l4().build(),
                        allowedNoAllowPolicy()),

                // waypoint: targetRefs only
                argumentSet(
                        "a Service targetRef applies at the waypoint serving that Service",
                        DEFAULT,
                        waypointPolicy("svc", DENY_ALL),
                        L7,
                        l7().build(),
                        deniedBy("foo/svc", 0)),
                argumentSet(
                        "a Service targetRef with group core is the same as the empty group",
                        DEFAULT,
                        policy("foo", "svc", "targetRefs: [{kind: Service, group: core, name: httpbin}]\n" + DENY_ALL),
                        L7,
                        l7().build(),
                        deniedBy("foo/svc", 0)),
                argumentSet(
                        "a Service targetRef does not apply to another Service of the same waypoint",
                        DEFAULT,
                        waypointPolicy("svc", DENY_ALL),
                        L7,
                        l7().destination(service("foo", "other", "waypoint")).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a Service targetRef names a Service in the policy's namespace, not a same-named one elsewhere",
                        DEFAULT,
                        waypointPolicy("svc", DENY_ALL),
                        L7,
                        l7().destination(service("bar", "httpbin", "waypoint")).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a Service targetRef with another namespace never matches, not even there",
                        DEFAULT,
                        policy(
                                "foo",
                                "svc",
                                "targetRefs: [{kind: Service, group: \"\", name: httpbin, namespace: bar}]\n"
                                        + DENY_ALL),
                        L7,
                        l7().destination(service("bar", "httpbin", "waypoint")).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a Gateway targetRef applies to every Service its waypoint serves",
                        DEFAULT,
                        policy(
                                "foo",
                                "gw",
                                "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]\n"
                                        + DENY_ALL),
                        L7,
                        l7().destination(service("foo", "other", "waypoint")).build(),
                        deniedBy("foo/gw", 0)),
                argumentSet(
                        "a Gateway targetRef does not apply at another waypoint",
                        DEFAULT,
                        policy(
                                "foo",
                                "gw",
                                "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]\n"
                                        + DENY_ALL),
                        L7,
                        l7().destination(service("foo", "other", "other-waypoint"))
                                .build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a Gateway targetRef whose namespace differs from the policy's never matches",
                        DEFAULT,
                        policy(
                                "foo",
                                "gw",
                                "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint,"
                                        + " namespace: bar}]\n" + DENY_ALL),
                        L7,
                        l7().destination(service("bar", "httpbin", "waypoint")).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a Gateway targetRef whose namespace differs from the policy's does not apply in the policy's"
                                + " namespace either",
                        DEFAULT,
                        policy(
                                "foo",
                                "gw",
                                "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint,"
                                        + " namespace: bar}]\n" + DENY_ALL),
                        L7,
                        l7().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "the istio-waypoint GatewayClass in the root namespace applies at every waypoint",
                        DEFAULT,
                        policy(
                                "istio-system",
                                "all-waypoints",
                                "targetRefs: [{kind: GatewayClass, group: gateway.networking.k8s.io,"
                                        + " name: istio-waypoint}]\n" + DENY_ALL),
                        L7,
                        l7().destination(service("bar", "reviews", "bar-waypoint"))
                                .build(),
                        deniedBy("istio-system/all-waypoints", 0)),
                argumentSet(
                        "the istio-waypoint GatewayClass outside the root namespace applies nowhere",
                        DEFAULT,
                        policy(
                                "foo",
                                "all-waypoints",
                                "targetRefs: [{kind: GatewayClass, group: gateway.networking.k8s.io,"
                                        + " name: istio-waypoint}]\n" + DENY_ALL),
                        L7,
                        l7().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a ServiceEntry targetRef applies to that ServiceEntry at the waypoint",
                        DEFAULT,
                        policy(
                                "foo",
                                "se",
                                "targetRefs: [{kind: ServiceEntry, group: networking.istio.io, name: external-api}]\n"
                                        + DENY_ALL),
                        L7,
                        l7().destination(service("foo", "external-api", "waypoint"))
                                .build(),
                        deniedBy("foo/se", 0)),
                argumentSet(
                        "the deprecated singular targetRef is a one-element targetRefs",
                        DEFAULT,
                        policy("foo", "single", "targetRef: {kind: Service, group: \"\", name: httpbin}\n" + DENY_ALL),
                        L7,
                        l7().build(),
                        deniedBy("foo/single", 0)),
                argumentSet(
                        "ztunnel ignores a policy with the deprecated singular targetRef",
                        DEFAULT,
                        policy("foo", "single", "targetRef: {kind: Service, group: \"\", name: httpbin}\n" + DENY_ALL),
                        L4,
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a waypoint ignores a selector policy",
                        DEFAULT,
                        policy("foo", "sel", "selector: {matchLabels: {app: httpbin}}\n" + DENY_ALL),
                        L7,
                        l7().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a waypoint ignores a namespace-wide policy",
                        DEFAULT,
                        policy("foo", "ns-wide", DENY_ALL),
                        L7,
                        l7().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a waypoint ignores a root-namespace-wide policy",
                        DEFAULT,
                        policy("istio-system", "mesh-wide", DENY_ALL),
                        L7,
                        l7().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a waypoint ignores a root-namespace selector policy",
                        DEFAULT,
                        policy("istio-system", "v1", "selector: {matchLabels: {app: httpbin}}\n" + DENY_ALL),
                        L7,
                        l7().build(),
                        allowedNoAllowPolicy()),

                // the root namespace is mesh configuration
                argumentSet(
                        "with rootNamespace changed, a policy in the new root namespace applies mesh-wide",
                        ROOT_MESH_ROOT,
                        policy("mesh-root", "deny-all", DENY_ALL),
                        L4,
                        l4().build(),
                        deniedBy("mesh-root/deny-all", 0)),
                argumentSet(
                        "with rootNamespace changed, istio-system is an ordinary namespace for other workloads",
                        ROOT_MESH_ROOT,
                        policy("istio-system", "deny-all", DENY_ALL),
                        L4,
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "with rootNamespace changed, an istio-system policy still applies to istio-system workloads",
                        ROOT_MESH_ROOT,
                        policy("istio-system", "deny-all", DENY_ALL),
                        L4,
                        l4().destination(ROOT_WORKLOAD).build(),
                        deniedBy("istio-system/deny-all", 0)),
                argumentSet(
                        "with rootNamespace changed, an istio-system selector no longer reaches other namespaces",
                        ROOT_MESH_ROOT,
                        policy("istio-system", "v1", "selector: {matchLabels: {version: v1}}\n" + DENY_ALL),
                        L4,
                        l4().destination(BAR_V1).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "with rootNamespace changed, a selector in the new root namespace reaches every namespace",
                        ROOT_MESH_ROOT,
                        policy("mesh-root", "v1", "selector: {matchLabels: {version: v1}}\n" + DENY_ALL),
                        L4,
                        l4().destination(BAR_V1).build(),
                        deniedBy("mesh-root/v1", 0)),
                argumentSet(
                        "with rootNamespace changed, the istio-waypoint GatewayClass applies only from the new root",
                        ROOT_MESH_ROOT,
                        policy(
                                "istio-system",
                                "all-waypoints",
                                "targetRefs: [{kind: GatewayClass, group: gateway.networking.k8s.io,"
                                        + " name: istio-waypoint}]\n" + DENY_ALL),
                        L7,
                        l7().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "with rootNamespace changed, the istio-waypoint GatewayClass in the new root applies everywhere",
                        ROOT_MESH_ROOT,
                        policy(
                                "mesh-root",
                                "all-waypoints",
                                "targetRefs: [{kind: GatewayClass, group: gateway.networking.k8s.io,"
                                        + " name: istio-waypoint}]\n" + DENY_ALL),
                        L7,
                        l7().build(),
                        deniedBy("mesh-root/all-waypoints", 0)));
    }

    private static final String JWT_RULES = "jwtRules: [{issuer: https://issuer.example.com}]\n";

    /** RequestAuthentication uses the same attachment rules (§1, §4); a foreign issuer shows it applies. */
    @ParameterizedTest
    @MethodSource
    void requestAuthenticationsAttachLikeAuthorizationPolicies(String yaml, Layer layer, Expect expected) {
        var request = (layer == L4 ? l4() : l7())
                .token(jwt("https://other.example.com", "alice"))
                .build();
        check(snapshot(yaml), layer, request, expected);
    }

    static Stream<Arguments> requestAuthenticationsAttachLikeAuthorizationPolicies() {
        return Stream.of(
                argumentSet(
                        "a RequestAuthentication attached to the Service judges tokens at its waypoint",
                        waypointRequestAuth("jwt", JWT_RULES),
                        L7,
                        denied(Reason.JWT)),
                argumentSet(
                        "a RequestAuthentication attached to the waypoint judges tokens for its Services",
                        requestAuth(
                                "foo",
                                "jwt",
                                "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]\n"
                                        + JWT_RULES),
                        L7,
                        denied(Reason.JWT)),
                argumentSet(
                        "a RequestAuthentication for the istio-waypoint GatewayClass in the root namespace applies at"
                                + " every waypoint",
                        requestAuth(
                                "istio-system",
                                "jwt",
                                "targetRefs: [{kind: GatewayClass, group: gateway.networking.k8s.io,"
                                        + " name: istio-waypoint}]\n" + JWT_RULES),
                        L7,
                        denied(Reason.JWT)),
                argumentSet(
                        "a selector RequestAuthentication is ignored at the waypoint",
                        requestAuth("foo", "jwt", "selector: {matchLabels: {app: httpbin}}\n" + JWT_RULES),
                        L7,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a namespace-wide RequestAuthentication is ignored at the waypoint",
                        requestAuth("foo", "jwt", JWT_RULES),
                        L7,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a RequestAuthentication attached to another Service does not apply",
                        requestAuth(
                                "foo", "jwt", "targetRefs: [{kind: Service, group: \"\", name: other}]\n" + JWT_RULES),
                        L7,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "ztunnel never processes JWTs, whatever the RequestAuthentication's attachment",
                        docs(
                                requestAuth("foo", "jwt-sel", "selector: {matchLabels: {app: httpbin}}\n" + JWT_RULES),
                                requestAuth("foo", "jwt-ns", JWT_RULES),
                                waypointRequestAuth("jwt-svc", JWT_RULES)),
                        L4,
                        allowedNoAllowPolicy()));
    }
}
