package io.ambit.xds.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.crd.JwtRule;
import io.ambit.policy.engine.AccessRequest;
import io.ambit.xds.mesh.MeshState;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A RequestAuthentication the waypoint cannot read must not vanish: a token it was meant to judge would pass
 * unjudged, as "no token" (which {@code notRequestPrincipals} reads as a match). Its stand-in refuses every token
 * presented to its targets — keys that verify nothing, as istiod does when a JWKS cannot be had — and looks for
 * tokens where the user said. What the waypoint does with such rules (401 for every token, no token passes on) is
 * tested in the waypoint's JWT tests.
 */
class RefusedRequestAuthenticationTest {
    static final String WEB = "{\"kind\":\"Service\",\"group\":\"\",\"name\":\"web\"}";

    static Map<String, Object> requestAuthentication(String name, String spec) throws Exception {
        String json = "{\"apiVersion\":\"security.istio.io/v1\",\"kind\":\"RequestAuthentication\",\"metadata\":"
                + "{\"name\":\"" + name + "\",\"namespace\":\"shop\",\"resourceVersion\":\"3\",\"creationTimestamp\":"
                + "\"2026-01-01T00:00:00Z\"},\"spec\":" + spec + "}";
        return KubeJson.object(json, "a test RequestAuthentication");
    }

    static MeshState publish(KubePolicySource source, List<Map<String, Object>> objects) throws Exception {
        var sink = source.sink();
        for (var k : source.watchedKinds()) {
            sink.listed(k, k == ApiKind.REQUEST_AUTHENTICATION ? objects : List.of());
        }
        source.synced().get(10, TimeUnit.SECONDS);
        return source.current();
    }

    static List<JwtRule> rulesFor(MeshState state, String service) {
        return state.policies().jwtRules(new AccessRequest.Destination("shop", Map.of(), null, service, "waypoint"));
    }

    static KubePolicySource source() {
        return new KubePolicySource("test", KubePolicySource.Settings.DEFAULT, List.of(), null);
    }

    @Test
    void aRefusedRequestAuthenticationRefusesEveryTokenToItsTargets() throws Exception {
        try (var source = source()) {
            var state = publish(
                    source,
                    List.of(requestAuthentication(
                            "typo",
                            "{\"targetRefs\":[" + WEB + "],\"jwtRules\":[{\"issuer\":\"https://issuer.example\","
                                    + "\"jwksUrl\":\"https://issuer.example/keys\",\"fromHeaders\":[{\"name\":"
                                    + "\"x-jwt\",\"prefix\":\"Bearer \"}],\"fromParams\":[\"token\"]}]}")));
            assertThat(source.refused()).isNotEmpty().allSatisfy(e -> assertThat(e.object())
                    .isEqualTo("RequestAuthentication shop/typo"));

            var rules = rulesFor(state, "web");
            assertThat(rules).as("a stand-in, not nothing").hasSize(2);
            assertThat(rules)
                    .as("no rule can verify a token: every token presented is refused")
                    .allSatisfy(r -> {
                        assertThat(r.jwks()).isEqualTo("{\"keys\":[]}");
                        assertThat(r.jwksUri()).isNull();
                    });
            var written = rules.get(0);
            assertThat(written.issuer()).isEqualTo("https://issuer.example");
            assertThat(written.fromHeaders()).containsExactly(new JwtRule.HeaderLocation("x-jwt", "Bearer "));
            assertThat(written.fromParams()).containsExactly("token");
            var fallback = rules.get(1);
            assertThat(fallback.fromHeaders()).as("the default locations").isEmpty();
            assertThat(fallback.fromParams()).isEmpty();

            assertThat(rulesFor(state, "other"))
                    .as("other services are not its targets")
                    .isEmpty();
        }
    }

    @Test
    void unreadableRulesStillLeaveAStandInAtTheDefaultLocations() throws Exception {
        try (var source = source()) {
            var state = publish(
                    source,
                    List.of(requestAuthentication(
                            "broken", "{\"targetRefs\":[" + WEB + "],\"jwtRules\":[{\"issuer\":7}, \"x\"]}")));
            assertThat(source.refused()).isNotEmpty();
            assertThat(rulesFor(state, "web")).singleElement().satisfies(r -> {
                assertThat(r.issuer()).isEqualTo("ambit.invalid/refused/RequestAuthentication/shop/broken");
                assertThat(r.jwks()).isEqualTo("{\"keys\":[]}");
            });
        }
    }

    @Test
    void aSelectorRequestAuthenticationGetsNoStandInAtAWaypoint() throws Exception {
        try (var source = source()) {
            var state = publish(
                    source,
                    List.of(requestAuthentication(
                            "by-selector",
                            "{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"jwtRules\":[{\"issuerz\":\"x\"}]}")));
            assertThat(source.refused()).isNotEmpty();
            assertThat(rulesFor(state, "web")).isEmpty();
        }
    }
}
