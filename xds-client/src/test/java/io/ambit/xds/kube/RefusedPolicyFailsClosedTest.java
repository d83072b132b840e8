package io.ambit.xds.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.PeerIdentity;
import io.ambit.policy.engine.Token;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.MeshState;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An AuthorizationPolicy the waypoint cannot read must not turn into "allow": its targets fail closed until it is
 * fixed, while the objects around it keep applying. Fed straight into the source's sink (the watch protocol is
 * tested against a real HTTPS server in test-support).
 */
class RefusedPolicyFailsClosedTest {
    static final String CREATED = "2026-01-01T00:00:00Z";

    static Map<String, Object> policy(String name, String spec) throws Exception {
        return policy(name, spec, "7");
    }

    static Map<String, Object> policy(String name, String spec, String resourceVersion) throws Exception {
        String json = "{\"apiVersion\":\"security.istio.io/v1\",\"kind\":\"AuthorizationPolicy\",\"metadata\":"
                + "{\"name\":\"" + name + "\",\"namespace\":\"shop\",\"resourceVersion\":\"" + resourceVersion
                + "\",\"creationTimestamp\":\""
                + CREATED + "\"},\"spec\":" + spec + "}";
        return KubeJson.object(json, "a test policy");
    }

    static final String WEB = "{\"kind\":\"Service\",\"group\":\"\",\"name\":\"web\"}";

    /** Lists the given AuthorizationPolicies (every other kind empty) and returns the published state. */
    static MeshState publish(KubePolicySource source, List<Map<String, Object>> policies) throws Exception {
        var sink = source.sink();
        for (var k : source.watchedKinds()) {
            sink.listed(k, k == ApiKind.AUTHORIZATION_POLICY ? policies : List.of());
        }
        source.synced().get(10, TimeUnit.SECONDS);
        return source.current();
    }

    static boolean allowed(MeshState state, String service, String path, String principal) {
        var request = new AccessRequest(
                PeerIdentity.of(principal),
                IpAddress.parse("127.135.0.1"),
                null,
                new AccessRequest.Destination("shop", Map.of(), null, service, "waypoint"),
                IpAddress.parse("127.135.0.2"),
                8080,
                "GET",
                service + ".shop.svc.cluster.local",
                path,
                Map.of(),
                Token.NONE,
                null,
                null,
                null);
        return state.policies().decideL7(request).allowed();
    }

    static KubePolicySource source() {
        return new KubePolicySource("test", KubePolicySource.Settings.DEFAULT, List.of(), null);
    }

    @Test
    void aRefusedDenyDeniesEveryRequestToItsTargetsInsteadOfAllowingThem() throws Exception {
        try (var source = source()) {
            var state = publish(
                    source,
                    List.of(policy(
                            "typo",
                            "{\"targetRefs\":[" + WEB + "],\"action\":\"DENY\",\"rules\":[{\"to\":[{\"operation\":"
                                    + "{\"pathz\":[\"/admin\"]}}]}]}")));
            assertThat(source.refused()).isNotEmpty().allSatisfy(e -> assertThat(e.object())
                    .isEqualTo("AuthorizationPolicy shop/typo"));
            assertThat(allowed(state, "web", "/admin", "cluster.local/ns/shop/sa/client"))
                    .as("the DENY Istio would enforce must not vanish")
                    .isFalse();
            assertThat(allowed(state, "web", "/x", "cluster.local/ns/shop/sa/client"))
                    .as("its target fails closed")
                    .isFalse();
            assertThat(allowed(state, "other", "/admin", "cluster.local/ns/shop/sa/client"))
                    .as("other services are not its targets")
                    .isTrue();
        }
    }

    @Test
    void aRefusedDenyStillDeniesWhenAnotherAllowMatches() throws Exception {
        try (var source = source()) {
            var state = publish(
                    source,
                    List.of(
                            policy(
                                    "allow-shop",
                                    "{\"targetRefs\":[" + WEB + "],\"rules\":[{\"from\":[{\"source\":"
                                            + "{\"namespaces\":[\"shop\"]}}]}]}"),
                            policy(
                                    "typo",
                                    "{\"targetRefs\":[" + WEB + "],\"action\":\"DENY\",\"rules\":[{\"to\":"
                                            + "[{\"operation\":{\"pathz\":[\"/admin\"]}}]}]}")));
            assertThat(allowed(state, "web", "/admin", "cluster.local/ns/shop/sa/client"))
                    .isFalse();
        }
    }

    @Test
    void aRefusedAllowAllowsNothingItselfWhileOtherAllowsStillApply() throws Exception {
        try (var source = source()) {
            var state = publish(
                    source,
                    List.of(
                            policy(
                                    "allow-ops",
                                    "{\"targetRefs\":[" + WEB + "],\"rules\":[{\"from\":[{\"source\":"
                                            + "{\"principals\":[\"cluster.local/ns/ops/sa/admin\"]}}]}]}"),
                            policy(
                                    "typo",
                                    "{\"targetRefs\":[" + WEB + "],\"rules\":[{\"from\":[{\"source\":"
                                            + "{\"namespacez\":[\"shop\"]}}]}]}")));
            assertThat(source.refused()).isNotEmpty();
            assertThat(allowed(state, "web", "/", "cluster.local/ns/shop/sa/client"))
                    .isFalse();
            assertThat(allowed(state, "web", "/", "cluster.local/ns/ops/sa/admin"))
                    .isTrue();
        }
    }

    @Test
    void aRefusedAllowAloneStillMakesItsTargetAllowNothing() throws Exception {
        try (var source = source()) {
            var state = publish(
                    source,
                    List.of(policy(
                            "typo",
                            "{\"targetRefs\":[" + WEB + "],\"rules\":[{\"from\":[{\"source\":"
                                    + "{\"namespacez\":[\"shop\"]}}]}]}")));
            assertThat(allowed(state, "web", "/", "cluster.local/ns/shop/sa/client"))
                    .as("an ALLOW policy attached means: only what it allows")
                    .isFalse();
        }
    }

    @Test
    void fixingTheRefusedPolicyReplacesItsStandIn() throws Exception {
        try (var source = source()) {
            publish(
                    source,
                    List.of(policy(
                            "typo",
                            "{\"targetRefs\":[" + WEB + "],\"action\":\"DENY\",\"rules\":[{\"to\":[{\"operation\":"
                                    + "{\"pathz\":[\"/admin\"]}}]}]}")));
            var fixed = policy(
                    "typo",
                    "{\"targetRefs\":[" + WEB + "],\"action\":\"DENY\",\"rules\":[{\"to\":[{\"operation\":"
                            + "{\"paths\":[\"/admin\"]}}]}]}",
                    "8");
            var published = new java.util.concurrent.CompletableFuture<MeshState>();
            source.addListener(published::complete);
            source.sink().changed(ApiKind.AUTHORIZATION_POLICY, "MODIFIED", fixed);
            var state = published.get(10, TimeUnit.SECONDS);
            assertThat(source.refused()).isEmpty();
            assertThat(allowed(state, "web", "/admin", "cluster.local/ns/shop/sa/client"))
                    .isFalse();
            assertThat(allowed(state, "web", "/x", "cluster.local/ns/shop/sa/client"))
                    .isTrue();
        }
    }

    @Test
    void selectorAndAuditPoliciesGetNoStandInAtAWaypoint() throws Exception {
        try (var source = source()) {
            var state = publish(
                    source,
                    List.of(
                            policy(
                                    "by-selector",
                                    "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"action\":\"DENY\","
                                            + "\"rules\":[{\"to\":[{\"operation\":{\"pathz\":[\"/a\"]}}]}]}"),
                            policy(
                                    "audit",
                                    "{\"targetRefs\":[" + WEB + "],\"action\":\"AUDIT\",\"rules\":[{\"to\":"
                                            + "[{\"operation\":{\"pathz\":[\"/a\"]}}]}]}")));
            assertThat(source.refused()).hasSizeGreaterThanOrEqualTo(2);
            assertThat(allowed(state, "web", "/a", "cluster.local/ns/shop/sa/client"))
                    .as("a selector policy is the ztunnel's; an AUDIT policy decides nothing")
                    .isTrue();
        }
    }
}
