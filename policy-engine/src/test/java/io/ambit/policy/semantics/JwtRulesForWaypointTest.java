package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.HTTPBIN;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.requestAuth;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.waypointRequestAuth;
import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.crd.JwtRule;
import io.ambit.policy.engine.AccessRequest.Destination;
import org.junit.jupiter.api.Test;

/** {@code PolicySnapshot.jwtRules}: what a waypoint verifies tokens against, as the engine attaches them. */
class JwtRulesForWaypointTest {
    @Test
    void rulesAttachedToTheServiceAndToAllWaypointsAreMergedWithoutRepeats() {
        var s = snapshot(docs(
                waypointRequestAuth(
                        "svc", "jwtRules: [{issuer: https://svc.example}, {issuer: https://both.example}]\n"),
                requestAuth(
                        "istio-system",
                        "all-waypoints",
                        "targetRefs: [{group: gateway.networking.k8s.io, kind: GatewayClass, name: istio-waypoint}]\n"
                                + "jwtRules: [{issuer: https://class.example}]\n")));
        assertThat(s.jwtRules(HTTPBIN))
                .extracting(JwtRule::issuer)
                .containsExactly("https://svc.example", "https://both.example", "https://class.example");
    }

    @Test
    void anotherServiceGetsOnlyTheClassWideRules() {
        var s = snapshot(waypointRequestAuth("svc", "jwtRules: [{issuer: https://svc.example}]\n"));
        var other = new Destination(HTTPBIN.namespace(), HTTPBIN.labels(), "other", "other", "waypoint");
        assertThat(s.jwtRules(other)).isEmpty();
        assertThat(s.jwtRules(HTTPBIN)).hasSize(1);
    }
}
