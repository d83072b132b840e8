package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.allowedNoAllowPolicy;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.custom;
import static io.ambit.policy.semantics.Fixture.denied;
import static io.ambit.policy.semantics.Fixture.deniedBy;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.jwt;
import static io.ambit.policy.semantics.Fixture.mesh;
import static io.ambit.policy.semantics.Fixture.policy;
import static io.ambit.policy.semantics.Fixture.requestAuth;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.AccessRequest.Destination;
import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.policy.semantics.Fixture.Expect;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * authz-semantics §1 for a waypoint in another namespace than the Service it serves
 * ({@code istio.io/use-waypoint-namespace}): the Service {@code shop/cart} is served by the waypoint
 * {@code waypoints/waypoint}. Gateway targetRefs attach in the POLICY's namespace, so only policies in
 * {@code waypoints} reach that Gateway; Service targetRefs attach in the Service's namespace, {@code shop}.
 */
class CrossNamespaceWaypointTest {
    private static final String DENY_ALL = "action: DENY\nrules: [{}]\n";
    private static final String TO_GATEWAY =
            "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]\n";
    private static final String TO_CART = "targetRefs: [{kind: Service, group: \"\", name: cart}]\n";
    private static final String JWT_RULES = "jwtRules: [{issuer: https://issuer.example.com}]\n";
    private static final MeshConfig PROVIDERS = mesh("extensionProviders:\n"
            + "- name: ext-authz\n  envoyExtAuthzHttp: {service: ext-authz.waypoints.svc.cluster.local, port: 8000}\n");

    /** {@code shop/cart} through the Gateway {@code waypoints/waypoint}. */
    private static final Destination CART = new Destination("shop", Map.of(), null, "cart", "waypoint", "waypoints");

    private static AccessRequest.Builder toCart(String path) {
        return AccessRequest.builder()
                .peer("cluster.local/ns/front/sa/web")
                .sourceIp("10.0.0.1")
                .destination(CART)
                .http("GET", "cart.shop.svc.cluster.local", path);
    }

    @ParameterizedTest
    @MethodSource
    void gatewayTargetRefsAttachInTheWaypointsNamespace(
            MeshConfig mesh, String yaml, AccessRequest request, Expect expected) {
        check(snapshot(yaml, mesh).decideL7(request), expected);
    }

    static Stream<Arguments> gatewayTargetRefsAttachInTheWaypointsNamespace() {
        return Stream.of(
                argumentSet(
                        "a DENY attached to the waypoint's Gateway applies to another namespace's Service",
                        MeshConfig.DEFAULT,
                        policy("waypoints", "gw-deny", TO_GATEWAY + DENY_ALL),
                        toCart("/").build(),
                        deniedBy("waypoints/gw-deny", 0)),
                argumentSet(
                        "a DENY in the Service's namespace naming a same-named Gateway does not apply",
                        MeshConfig.DEFAULT,
                        policy("shop", "gw-deny", TO_GATEWAY + DENY_ALL),
                        toCart("/").build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "an ALLOW attached to the waypoint's Gateway makes unmatched requests denied",
                        MeshConfig.DEFAULT,
                        policy(
                                "waypoints",
                                "gw-allow",
                                TO_GATEWAY + "action: ALLOW\nrules: [{to: [{operation: {paths: [/public]}}]}]\n"),
                        toCart("/private").build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "an ALLOW in the Service's namespace naming a same-named Gateway does not apply",
                        MeshConfig.DEFAULT,
                        policy(
                                "shop",
                                "gw-allow",
                                TO_GATEWAY + "action: ALLOW\nrules: [{to: [{operation: {paths: [/public]}}]}]\n"),
                        toCart("/private").build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a CUSTOM attached to the waypoint's Gateway sends another namespace's requests to the provider",
                        PROVIDERS,
                        policy(
                                "waypoints",
                                "ext",
                                TO_GATEWAY + "action: CUSTOM\nprovider: {name: ext-authz}\nrules: [{}]\n"),
                        toCart("/").build(),
                        custom("ext-authz", "waypoints/ext", 0)),
                argumentSet(
                        "a CUSTOM in the Service's namespace naming a same-named Gateway does not apply",
                        PROVIDERS,
                        policy(
                                "shop",
                                "ext",
                                TO_GATEWAY + "action: CUSTOM\nprovider: {name: ext-authz}\nrules: [{}]\n"),
                        toCart("/").build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a Service targetRef applies by the Service's namespace, whatever the waypoint's",
                        MeshConfig.DEFAULT,
                        policy("shop", "svc-deny", TO_CART + DENY_ALL),
                        toCart("/").build(),
                        deniedBy("shop/svc-deny", 0)),
                argumentSet(
                        "a Service targetRef in the waypoint's namespace does not reach another namespace's Service",
                        MeshConfig.DEFAULT,
                        policy("waypoints", "svc-deny", TO_CART + DENY_ALL),
                        toCart("/").build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "RequestAuthentication attached to the waypoint's Gateway judges another namespace's tokens",
                        MeshConfig.DEFAULT,
                        requestAuth("waypoints", "jwt", TO_GATEWAY + JWT_RULES),
                        toCart("/")
                                .token(jwt("https://other.example.com", "alice"))
                                .build(),
                        denied(Reason.JWT, "waypoints/jwt")),
                argumentSet(
                        "RequestAuthentication in the Service's namespace naming a same-named Gateway does not apply",
                        MeshConfig.DEFAULT,
                        requestAuth("shop", "jwt", TO_GATEWAY + JWT_RULES),
                        toCart("/")
                                .token(jwt("https://other.example.com", "alice"))
                                .build(),
                        allowedNoAllowPolicy()));
    }

    @Test
    void theWaypointVerifiesTokensWithTheRulesOfItsOwnGatewayOnly() {
        var s = snapshot(docs(
                requestAuth("waypoints", "jwt", TO_GATEWAY + JWT_RULES),
                requestAuth("shop", "wrong", TO_GATEWAY + "jwtRules: [{issuer: https://wrong.example.com}]\n")));
        assertThat(s.jwtRules(CART)).extracting(r -> r.issuer()).containsExactly("https://issuer.example.com");
    }

    @Test
    void theExplanationNamesTheGatewayWithItsNamespace() {
        var s = snapshot(policy(
                "waypoints",
                "gw-allow",
                TO_GATEWAY + "action: ALLOW\nrules: [{to: [{operation: {paths: [/public]}}]}]\n"));
        var d = s.decideL7(toCart("/private").build());
        check(d, deniedNoAllowMatched());
        assertThat(d.explanation()).contains("shop/cart").contains("waypoints/waypoint");
    }

    @Test
    void theOldConstructorMeansAWaypointInTheServicesNamespace() {
        var d = new Destination("shop", Map.of(), null, "cart", "waypoint");
        assertThat(d.waypointNamespace()).isEqualTo("shop");
        assertThat(d).isEqualTo(new Destination("shop", Map.of(), null, "cart", "waypoint", "shop"));
        assertThat(d.gateway()).isEqualTo("shop/waypoint");
    }
}
