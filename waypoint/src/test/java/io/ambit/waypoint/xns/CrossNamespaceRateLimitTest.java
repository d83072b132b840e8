package io.ambit.waypoint.xns;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.waypoint.ratelimit.LocalRateLimit;
import io.ambit.waypoint.ratelimit.RateLimitDecision;
import io.ambit.waypoint.ratelimit.RateLimitLoader;
import io.ambit.waypoint.ratelimit.RateLimits;
import org.junit.jupiter.api.Test;

/**
 * Local rate limits for a waypoint serving another namespace: a Gateway target attaches in the limit's namespace,
 * so a limit in {@code waypoints} naming Gateway {@code waypoint} limits {@code shop/cart} served by
 * {@code waypoints/waypoint}, and a same-named Gateway target in {@code shop} does not.
 */
class CrossNamespaceRateLimitTest {
    private static LocalRateLimit limit(String ns, String targetRefs) {
        var r = new RateLimitLoader("istio-system")
                .text("""
                        apiVersion: ambit.io/v1alpha1
                        kind: LocalRateLimit
                        metadata: {name: one-a-day, namespace: NS}
                        spec:
                          targetRefs: [TARGETS]
                          tokenBucket: {maxTokens: 1, tokensPerFill: 1, fillInterval: 24h}
                        """.replace("NS", ns).replace("TARGETS", targetRefs), "limits.yaml")
                .result();
        assertThat(r.errors()).isEmpty();
        return r.limits().getFirst();
    }

    private static final String GATEWAY = "{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}";
    private static final String CART = "{kind: Service, name: cart}";

    @Test
    void aGatewayTargetAttachesInTheWaypointsNamespace() {
        assertThat(limit("waypoints", GATEWAY).appliesTo("shop", "cart", "waypoints", "waypoint"))
                .isTrue();
        assertThat(limit("shop", GATEWAY).appliesTo("shop", "cart", "waypoints", "waypoint"))
                .isFalse();
    }

    @Test
    void aServiceTargetAttachesInTheServicesNamespace() {
        assertThat(limit("shop", CART).appliesTo("shop", "cart", "waypoints", "waypoint"))
                .isTrue();
        assertThat(limit("waypoints", CART).appliesTo("shop", "cart", "waypoints", "waypoint"))
                .isFalse();
    }

    @Test
    void theThreeArgumentFormMeansAWaypointInTheServicesNamespace() {
        assertThat(limit("shop", GATEWAY).appliesTo("shop", "cart", "waypoint")).isTrue();
        assertThat(limit("waypoints", GATEWAY).appliesTo("shop", "cart", "waypoint"))
                .isFalse();
    }

    @Test
    void theWaypointsGatewayLimitRefusesTheSecondRequest() {
        var limits = new RateLimits();
        limits.update(java.util.List.of(limit("waypoints", GATEWAY)));
        assertThat(limits.check("shop", "cart", "waypoints", "waypoint", null).allowed())
                .isTrue();
        RateLimitDecision second = limits.check("shop", "cart", "waypoints", "waypoint", null);
        assertThat(second.allowed()).isFalse();
    }

    private static LocalRateLimit untargetedEnvoyFilter(String ns) {
        var r = new RateLimitLoader("istio-system")
                .text("""
                        apiVersion: networking.istio.io/v1alpha3
                        kind: EnvoyFilter
                        metadata: {name: limit, namespace: THE_NAMESPACE}
                        spec:
                          configPatches:
                            - applyTo: HTTP_FILTER
                              patch:
                                operation: INSERT_BEFORE
                                value:
                                  name: envoy.filters.http.local_ratelimit
                                  typed_config:
                                    "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                                    type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                                    value:
                                      stat_prefix: rate_limit
                                      token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 24h}
                                      filter_enabled: {default_value: {numerator: 100, denominator: HUNDRED}}
                                      filter_enforced: {default_value: {numerator: 100, denominator: HUNDRED}}
                        """.replace("THE_NAMESPACE", ns), "limits.yaml")
                .result();
        assertThat(r.errors()).isEmpty();
        return r.limits().getFirst();
    }

    /** Istio applies an EnvoyFilter without a selector to every proxy of its namespace: there, the waypoint. */
    @Test
    void anUntargetedEnvoyFilterAppliesToTheWaypointsOfItsNamespaceWhateverTheServicesNamespace() {
        assertThat(untargetedEnvoyFilter("waypoints").appliesTo("shop", "cart", "waypoints", "waypoint"))
                .as("in the waypoint's namespace: every request it serves")
                .isTrue();
        assertThat(untargetedEnvoyFilter("shop").appliesTo("shop", "cart", "waypoints", "waypoint"))
                .as("in the service's namespace: not a proxy of that namespace")
                .isFalse();
        assertThat(untargetedEnvoyFilter("shop").appliesTo("shop", "cart", "waypoint"))
                .as("a waypoint of the service's own namespace: as before")
                .isTrue();
        assertThat(untargetedEnvoyFilter("istio-system").appliesTo("shop", "cart", "waypoints", "waypoint"))
                .as("the root namespace: every waypoint")
                .isTrue();
    }

    @Test
    void anUntargetedLocalRateLimitStillMeansEveryServiceOfItsNamespace() {
        var r = new RateLimitLoader("istio-system").text("""
                        apiVersion: ambit.io/v1alpha1
                        kind: LocalRateLimit
                        metadata: {name: all, namespace: shop}
                        spec:
                          tokenBucket: {maxTokens: 1, tokensPerFill: 1, fillInterval: 24h}
                        """, "limits.yaml").result();
        var limit = r.limits().getFirst();
        assertThat(limit.appliesTo("shop", "cart", "waypoints", "waypoint")).isTrue();
        assertThat(limit.appliesTo("other", "cart", "shop", "waypoint")).isFalse();
    }
}
