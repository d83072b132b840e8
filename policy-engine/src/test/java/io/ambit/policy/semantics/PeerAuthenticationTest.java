package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.allowedNoAllowPolicy;
import static io.ambit.policy.semantics.Fixture.assertLoads;
import static io.ambit.policy.semantics.Fixture.assertRejected;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.denied;
import static io.ambit.policy.semantics.Fixture.deniedBy;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.l4;
import static io.ambit.policy.semantics.Fixture.l7;
import static io.ambit.policy.semantics.Fixture.load;
import static io.ambit.policy.semantics.Fixture.mesh;
import static io.ambit.policy.semantics.Fixture.peerAuth;
import static io.ambit.policy.semantics.Fixture.policy;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.workload;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.semantics.Fixture.Expect;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** authz-semantics §3: PeerAuthentication modes, scopes, precedence and portLevelMtls, enforced by ztunnel. */
class PeerAuthenticationTest {
    private static final String MESH_STRICT = peerAuth("istio-system", "mesh", "mtls: {mode: STRICT}\n");
    private static final String MESH_PERMISSIVE = peerAuth("istio-system", "mesh", "mtls: {mode: PERMISSIVE}\n");
    private static final String NS_STRICT = peerAuth("foo", "ns", "mtls: {mode: STRICT}\n");
    private static final String NS_PERMISSIVE = peerAuth("foo", "ns", "mtls: {mode: PERMISSIVE}\n");
    private static final String NS_UNSET = peerAuth("foo", "ns", "mtls: {mode: UNSET}\n");
    private static final String SELECT_HTTPBIN = "selector: {matchLabels: {app: httpbin}}\n";

    private static String workloadPolicy(String spec) {
        return peerAuth("foo", "wl", SELECT_HTTPBIN + spec);
    }

    private static final AccessRequest PLAINTEXT = l4().peer(null).build();
    private static final AccessRequest PLAINTEXT_9090 =
            l4().peer(null).port(9090).build();
    private static final AccessRequest MTLS = l4().build();

    @ParameterizedTest
    @MethodSource
    void modes(String yaml, AccessRequest request, Expect expected) {
        check(snapshot(yaml).decideL4(request), expected);
    }

    private static Expect strictBy(String policy) {
        return denied(Reason.PEER_AUTHENTICATION, policy);
    }

    static Stream<Arguments> modes() {
        return Stream.of(
                argumentSet("with no PeerAuthentication plaintext is accepted", "", PLAINTEXT, allowedNoAllowPolicy()),
                argumentSet("mesh STRICT refuses plaintext", MESH_STRICT, PLAINTEXT, strictBy("istio-system/mesh")),
                argumentSet("mesh STRICT accepts mTLS", MESH_STRICT, MTLS, allowedNoAllowPolicy()),
                argumentSet("mesh PERMISSIVE accepts plaintext", MESH_PERMISSIVE, PLAINTEXT, allowedNoAllowPolicy()),
                argumentSet(
                        "mesh UNSET with nothing above it is PERMISSIVE",
                        peerAuth("istio-system", "mesh", "mtls: {mode: UNSET}\n"),
                        PLAINTEXT,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a policy without mtls is UNSET, which is PERMISSIVE when nothing else is set",
                        peerAuth("istio-system", "mesh", "{}"),
                        PLAINTEXT,
                        allowedNoAllowPolicy()),
                argumentSet("namespace STRICT refuses plaintext", NS_STRICT, PLAINTEXT, strictBy("foo/ns")),
                argumentSet(
                        "namespace STRICT does not reach another namespace",
                        NS_STRICT,
                        l4().peer(null)
                                .destination(workload("bar", Map.of("app", "httpbin")))
                                .build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "namespace PERMISSIVE overrides mesh STRICT",
                        docs(MESH_STRICT, NS_PERMISSIVE),
                        PLAINTEXT,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "namespace UNSET inherits mesh STRICT",
                        docs(MESH_STRICT, NS_UNSET),
                        PLAINTEXT,
                        strictBy("istio-system/mesh")),
                argumentSet(
                        "workload STRICT refuses plaintext",
                        workloadPolicy("mtls: {mode: STRICT}\n"),
                        PLAINTEXT,
                        strictBy("foo/wl")),
                argumentSet(
                        "workload STRICT does not reach other workloads of the namespace",
                        workloadPolicy("mtls: {mode: STRICT}\n"),
                        l4().peer(null)
                                .destination(workload("foo", Map.of("app", "other")))
                                .build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a workload selector matches a subset of the workload's labels",
                        peerAuth("foo", "wl", "selector: {matchLabels: {version: v1}}\nmtls: {mode: STRICT}\n"),
                        PLAINTEXT,
                        strictBy("foo/wl")),
                argumentSet(
                        "workload PERMISSIVE overrides namespace STRICT",
                        docs(NS_STRICT, workloadPolicy("mtls: {mode: PERMISSIVE}\n")),
                        PLAINTEXT,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "workload PERMISSIVE overrides mesh STRICT",
                        docs(MESH_STRICT, workloadPolicy("mtls: {mode: PERMISSIVE}\n")),
                        PLAINTEXT,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "workload UNSET inherits namespace STRICT",
                        docs(NS_STRICT, workloadPolicy("mtls: {mode: UNSET}\n")),
                        PLAINTEXT,
                        strictBy("foo/ns")),
                argumentSet(
                        "workload STRICT overrides namespace PERMISSIVE",
                        docs(NS_PERMISSIVE, workloadPolicy("mtls: {mode: STRICT}\n")),
                        PLAINTEXT,
                        strictBy("foo/wl")),
                argumentSet(
                        "a workload policy in another namespace does not apply, even with matching labels",
                        peerAuth("bar", "wl", SELECT_HTTPBIN + "mtls: {mode: STRICT}\n"),
                        PLAINTEXT,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a root-namespace policy with a selector is ignored",
                        peerAuth("istio-system", "wl", SELECT_HTTPBIN + "mtls: {mode: STRICT}\n"),
                        PLAINTEXT,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a root-namespace policy with a selector does not override mesh STRICT",
                        docs(
                                MESH_STRICT,
                                peerAuth("istio-system", "wl", SELECT_HTTPBIN + "mtls: {mode: PERMISSIVE}\n")),
                        PLAINTEXT,
                        strictBy("istio-system/mesh")),
                argumentSet(
                        "a port entry PERMISSIVE on a STRICT workload accepts plaintext on that port",
                        workloadPolicy("mtls: {mode: STRICT}\nportLevelMtls: {8080: {mode: PERMISSIVE}}\n"),
                        PLAINTEXT,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a port entry PERMISSIVE on a STRICT workload leaves other ports STRICT",
                        workloadPolicy("mtls: {mode: STRICT}\nportLevelMtls: {8080: {mode: PERMISSIVE}}\n"),
                        PLAINTEXT_9090,
                        strictBy("foo/wl")),
                argumentSet(
                        "a port entry STRICT on a PERMISSIVE workload refuses plaintext on that port",
                        workloadPolicy("mtls: {mode: PERMISSIVE}\nportLevelMtls: {8080: {mode: STRICT}}\n"),
                        PLAINTEXT,
                        strictBy("foo/wl")),
                argumentSet(
                        "a port entry STRICT on a PERMISSIVE workload leaves other ports PERMISSIVE",
                        workloadPolicy("mtls: {mode: PERMISSIVE}\nportLevelMtls: {8080: {mode: STRICT}}\n"),
                        PLAINTEXT_9090,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a port entry overrides the inherited namespace mode when the workload mode is UNSET",
                        docs(NS_STRICT, workloadPolicy("portLevelMtls: {8080: {mode: PERMISSIVE}}\n")),
                        PLAINTEXT,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "other ports keep the inherited namespace mode when the workload mode is UNSET",
                        docs(NS_STRICT, workloadPolicy("portLevelMtls: {8080: {mode: PERMISSIVE}}\n")),
                        PLAINTEXT_9090,
                        strictBy("foo/ns")),
                argumentSet(
                        "a port entry overrides the inherited mesh mode when the workload mode is UNSET",
                        docs(MESH_STRICT, workloadPolicy("portLevelMtls: {8080: {mode: PERMISSIVE}}\n")),
                        PLAINTEXT,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a port entry STRICT applies over an inherited PERMISSIVE namespace",
                        docs(NS_PERMISSIVE, workloadPolicy("portLevelMtls: {8080: {mode: STRICT}}\n")),
                        PLAINTEXT,
                        strictBy("foo/wl")),
                argumentSet(
                        "a port entry UNSET inherits the workload mode",
                        workloadPolicy("mtls: {mode: STRICT}\nportLevelMtls: {8080: {mode: UNSET}}\n"),
                        PLAINTEXT,
                        strictBy("foo/wl")),
                argumentSet(
                        "a port entry UNSET with an UNSET workload inherits the namespace mode",
                        docs(NS_STRICT, workloadPolicy("portLevelMtls: {8080: {mode: UNSET}}\n")),
                        PLAINTEXT,
                        strictBy("foo/ns")),
                argumentSet(
                        "port entries compare with the destination (workload) port of the connection",
                        workloadPolicy("mtls: {mode: STRICT}\nportLevelMtls: {9090: {mode: PERMISSIVE}}\n"),
                        PLAINTEXT_9090,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "STRICT beats an ALLOW policy that matches by ipBlocks",
                        docs(NS_STRICT, policy("allow", "rules: [{from: [{source: {ipBlocks: [10.0.0.0/8]}}]}]\n")),
                        PLAINTEXT,
                        strictBy("foo/ns")),
                argumentSet(
                        "STRICT beats an allow-all policy",
                        docs(NS_STRICT, policy("allow", "rules: [{}]\n")),
                        PLAINTEXT,
                        strictBy("foo/ns")),
                argumentSet(
                        "with STRICT, mTLS connections go on to authorization: ALLOW",
                        docs(NS_STRICT, policy("allow", "rules: [{from: [{source: {namespaces: [foo]}}]}]\n")),
                        MTLS,
                        allowedBy("foo/allow", 0)),
                argumentSet(
                        "with STRICT, mTLS connections go on to authorization: DENY",
                        docs(
                                NS_STRICT,
                                policy("deny", "action: DENY\nrules: [{from: [{source: {namespaces: [foo]}}]}]\n")),
                        MTLS,
                        deniedBy("foo/deny", 0)));
    }

    @ParameterizedTest
    @MethodSource
    void theRootNamespaceIsMeshConfiguration(String yaml, AccessRequest request, Expect expected) {
        check(snapshot(yaml, mesh("rootNamespace: mesh-root\n")).decideL4(request), expected);
    }

    static Stream<Arguments> theRootNamespaceIsMeshConfiguration() {
        var inIstioSystem = l4().peer(null)
                .destination(workload("istio-system", Map.of("app", "gateway")))
                .build();
        return Stream.of(
                argumentSet(
                        "with rootNamespace changed, a policy in the new root namespace is the mesh policy",
                        peerAuth("mesh-root", "mesh", "mtls: {mode: STRICT}\n"),
                        PLAINTEXT,
                        strictBy("mesh-root/mesh")),
                argumentSet(
                        "with rootNamespace changed, a policy in istio-system no longer applies mesh-wide",
                        MESH_STRICT,
                        PLAINTEXT,
                        allowedNoAllowPolicy()),
                argumentSet(
                        "with rootNamespace changed, a policy in istio-system is istio-system's namespace policy",
                        MESH_STRICT,
                        inIstioSystem,
                        strictBy("istio-system/mesh")),
                argumentSet(
                        "with rootNamespace changed, a selector policy in istio-system applies to its workloads",
                        peerAuth(
                                "istio-system",
                                "wl",
                                "selector: {matchLabels: {app: gateway}}\nmtls: {mode: STRICT}\n"),
                        inIstioSystem,
                        strictBy("istio-system/wl")));
    }

    @ParameterizedTest
    @MethodSource
    void noSeparateEffectAtTheWaypoint(String yaml) {
        check(snapshot(yaml).decideL7(l7().peer(null).build()), allowedNoAllowPolicy());
    }

    static Stream<Arguments> noSeparateEffectAtTheWaypoint() {
        return Stream.of(
                argumentSet("mesh STRICT has no separate effect at the waypoint", MESH_STRICT),
                argumentSet("namespace STRICT has no separate effect at the waypoint", NS_STRICT),
                argumentSet(
                        "workload STRICT has no separate effect at the waypoint",
                        workloadPolicy("mtls: {mode: STRICT}\n")));
    }

    @ParameterizedTest
    @MethodSource
    void validation(String yaml, boolean valid) {
        if (valid) {
            assertLoads(load(yaml));
        } else {
            assertRejected(load(yaml), "spec.portLevelMtls");
        }
    }

    static Stream<Arguments> validation() {
        return Stream.of(
                argumentSet(
                        "portLevelMtls on a mesh policy is rejected",
                        peerAuth(
                                "istio-system",
                                "mesh",
                                "mtls: {mode: STRICT}\nportLevelMtls: {8080: {mode: PERMISSIVE}}\n"),
                        false),
                argumentSet(
                        "portLevelMtls on a namespace policy is rejected",
                        peerAuth("foo", "ns", "mtls: {mode: STRICT}\nportLevelMtls: {8080: {mode: PERMISSIVE}}\n"),
                        false),
                argumentSet(
                        "portLevelMtls with an empty selector is rejected",
                        peerAuth(
                                "foo",
                                "ns",
                                "selector: {matchLabels: {}}\nportLevelMtls: {8080: {mode: PERMISSIVE}}\n"),
                        false),
                argumentSet(
                        "an empty portLevelMtls is rejected",
                        workloadPolicy("mtls: {mode: STRICT}\nportLevelMtls: {}\n"),
                        false),
                argumentSet(
                        "port 0 in portLevelMtls is rejected",
                        workloadPolicy("portLevelMtls: {0: {mode: PERMISSIVE}}\n"),
                        false),
                argumentSet(
                        "port 65536 in portLevelMtls is rejected",
                        workloadPolicy("portLevelMtls: {65536: {mode: PERMISSIVE}}\n"),
                        false),
                argumentSet(
                        "ports 1 and 65535 in portLevelMtls on a workload policy are valid",
                        workloadPolicy("portLevelMtls: {1: {mode: STRICT}, 65535: {mode: PERMISSIVE}}\n"),
                        true));
    }
}
