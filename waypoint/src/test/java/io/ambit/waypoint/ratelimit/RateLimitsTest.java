package io.ambit.waypoint.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RateLimitsTest {
    private final FakeTicker ticker = new FakeTicker();

    private static List<LocalRateLimit> load(String yaml) {
        var r = new RateLimitLoader("istio-system").text(yaml, "limits.yaml").result();
        assertThat(r.errors()).isEmpty();
        return r.limits();
    }

    private static String ambit(String name, String ns, String spec) {
        return """
                apiVersion: ambit.io/v1alpha1
                kind: LocalRateLimit
                metadata: {name: %s, namespace: %s}
                spec:
                %s
                """.formatted(name, ns, spec.indent(2));
    }

    @Test
    void theArticlesLimitLetsAHundredRequestsAMinuteThrough() {
        var limits = new RateLimits(ticker, Sampler.RANDOM);
        limits.update(load(RateLimitLoaderTest.ARTICLE));
        for (int i = 0; i < 100; i++) {
            assertThat(limits.check("production", "payments", "waypoint", null).allowed())
                    .as("request %d", i)
                    .isTrue();
        }
        var refused = limits.check("production", "payments", "waypoint", null);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.limited()).isTrue();
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.body()).isEqualTo("local_rate_limited");
        assertThat(refused.grpcStatus()).isEqualTo(14);
        assertThat(refused.policy()).isEqualTo("EnvoyFilter production/rate-limit-filter");
        assertThat(refused.rateLimitHeaders()).isEmpty(); // not enabled in the article

        assertThat(limits.check("staging", "payments", "waypoint", null)).isSameAs(RateLimitDecision.UNLIMITED);
        ticker.advance(Duration.ofSeconds(60));
        assertThat(limits.check("production", "payments", "waypoint", null).allowed())
                .isTrue();
    }

    @Test
    void withoutFilterEnabledNothingIsCountedAndWithoutFilterEnforcedNothingIsRefused() {
        var limits = new RateLimits(ticker, Sampler.RANDOM);
        limits.update(load(RateLimitLoaderTest.ARTICLE
                .replaceAll("(?s)\\n *filter_enabled:.*", "\n")
                .replace("rate-limit-filter", "disabled")));
        for (int i = 0; i < 500; i++) {
            assertThat(limits.check("production", "p", "w", null)).isSameAs(RateLimitDecision.UNLIMITED);
        }
        limits.update(load("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: shadow, namespace: production}
                spec:
                  configPatches:
                    - applyTo: HTTP_FILTER
                      patch:
                        operation: INSERT_BEFORE
                        value:
                          name: envoy.filters.http.local_ratelimit
                          typed_config:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                            stat_prefix: shadow
                            token_bucket: {max_tokens: 1, fill_interval: 1s}
                            filter_enabled: {default_value: {numerator: 100}}
                            request_headers_to_add_when_not_enforced:
                              - header: {key: x-rate-limited, value: "true"}
                """));
        assertThat(limits.check("production", "p", "w", null).limited()).isFalse();
        var marked = limits.check("production", "p", "w", null);
        assertThat(marked.allowed()).isTrue();
        assertThat(marked.limited()).isTrue();
        assertThat(marked.policy()).isEqualTo("EnvoyFilter production/shadow");
        assertThat(marked.requestHeaders()).containsExactly(Map.entry("x-rate-limited", "true"));
    }

    @Test
    void enforcedAndEnabledSharesAreDrawnPerRequest() {
        var draws = new AtomicInteger();
        Sampler everyOther = f -> f.always() || (!f.never() && draws.incrementAndGet() % 2 == 0);
        var limits = new RateLimits(ticker, everyOther);
        limits.update(load("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: half, namespace: ns}
                spec:
                  configPatches:
                    - applyTo: HTTP_FILTER
                      patch:
                        operation: INSERT_BEFORE
                        value:
                          name: envoy.filters.http.local_ratelimit
                          typed_config:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                            stat_prefix: half
                            token_bucket: {max_tokens: 1, fill_interval: 1s}
                            filter_enabled: {default_value: {numerator: 100}}
                            filter_enforced: {default_value: {numerator: 50}}
                """));
        assertThat(limits.check("ns", "s", "w", null).allowed()).isTrue(); // the token
        int refused = 0;
        for (int i = 0; i < 10; i++) {
            if (!limits.check("ns", "s", "w", null).allowed()) {
                refused++;
            }
        }
        assertThat(refused).isEqualTo(5);
    }

    @Test
    void xRateLimitHeadersAndResponseHeadersAreEnvoys() {
        var limits = new RateLimits(ticker, Sampler.RANDOM);
        limits.update(load(ambit("api", "shop", """
                tokenBucket: {maxTokens: 2, tokensPerFill: 2, fillInterval: 10s}
                xRateLimitHeaders: true
                responseHeaders: {x-local-rate-limit: "true"}
                """)));
        var first = limits.check("shop", "api", null, null);
        assertThat(first.rateLimitHeaders())
                .containsExactly(
                        Map.entry("x-ratelimit-limit", "2"),
                        Map.entry("x-ratelimit-remaining", "1"),
                        Map.entry("x-ratelimit-reset", "10"));
        ticker.advance(Duration.ofSeconds(4));
        limits.check("shop", "api", null, null);
        var refused = limits.check("shop", "api", null, null);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.responseHeaders()).containsExactly(Map.entry("x-local-rate-limit", "true"));
        assertThat(refused.rateLimitHeaders())
                .containsExactly(
                        Map.entry("x-ratelimit-limit", "2"),
                        Map.entry("x-ratelimit-remaining", "0"),
                        Map.entry("x-ratelimit-reset", "6"));
    }

    @Test
    void targetsPickTheirDestinations() {
        var limits = new RateLimits(ticker, Sampler.RANDOM);
        limits.update(load(ambit("orders", "shop", """
                targetRefs: [{kind: Service, name: orders}]
                tokenBucket: {maxTokens: 1, fillInterval: 1s}
                """) + "---\n" + ambit("edge", "shop", """
                targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: shop-waypoint}]
                tokenBucket: {maxTokens: 1, fillInterval: 1s}
                """)));
        assertThat(limits.check("shop", "orders", "other", null).allowed()).isTrue();
        assertThat(limits.check("shop", "orders", "other", null).allowed()).isFalse();
        assertThat(limits.check("shop", "payments", "other", null)).isSameAs(RateLimitDecision.UNLIMITED);
        assertThat(limits.check("shop", "payments", "shop-waypoint", null).allowed())
                .isTrue();
        var r = limits.check("shop", "payments", "shop-waypoint", null);
        assertThat(r.allowed()).isFalse();
        assertThat(r.policy()).isEqualTo("LocalRateLimit shop/edge");
        assertThat(limits.check("other", "orders", "shop-waypoint", null)).isSameAs(RateLimitDecision.UNLIMITED);
    }

    @Test
    void perConnectionLimitsGiveEachConnectionItsOwnBucket() {
        var limits = new RateLimits(ticker, Sampler.RANDOM);
        limits.update(load(ambit("c", "ns", """
                tokenBucket: {maxTokens: 2, fillInterval: 1s}
                perConnection: true
                """)));
        var a = limits.newConnection();
        var b = limits.newConnection();
        assertThat(limits.check("ns", "s", null, a).allowed()).isTrue();
        assertThat(limits.check("ns", "s", null, a).allowed()).isTrue();
        assertThat(limits.check("ns", "s", null, a).allowed()).isFalse();
        assertThat(limits.check("ns", "s", null, b).allowed()).isTrue();
    }

    @Test
    void anUnchangedLimitKeepsItsBucketAcrossUpdates() {
        var limits = new RateLimits(ticker, Sampler.RANDOM);
        String one = ambit("one", "ns", "tokenBucket: {maxTokens: 1, fillInterval: 1h}");
        limits.update(load(one));
        assertThat(limits.check("ns", "s", null, null).allowed()).isTrue();
        limits.update(
                load(one + "---\n" + ambit("other", "elsewhere", "tokenBucket: {maxTokens: 1, fillInterval: 1s}")));
        assertThat(limits.check("ns", "s", null, null).allowed())
                .as("a reload must not refill")
                .isFalse();
        limits.update(load(ambit("one", "ns", "tokenBucket: {maxTokens: 2, fillInterval: 1h}")));
        assertThat(limits.check("ns", "s", null, null).allowed())
                .as("a changed limit starts full")
                .isTrue();
    }

    @Test
    void aMarkingLimitLetsTheNextOneDecide() {
        var limits = new RateLimits(ticker, Sampler.RANDOM);
        limits.update(load("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: a-shadow, namespace: ns}
                spec:
                  configPatches:
                    - applyTo: HTTP_FILTER
                      patch:
                        operation: INSERT_BEFORE
                        value:
                          name: envoy.filters.http.local_ratelimit
                          typed_config:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                            stat_prefix: s
                            token_bucket: {max_tokens: 1, fill_interval: 1s}
                            filter_enabled: {default_value: {numerator: 100}}
                            rate_limited_as_resource_exhausted: true
                ---
                """ + ambit("b-hard", "ns", "tokenBucket: {maxTokens: 1, fillInterval: 1s}")));
        assertThat(limits.check("ns", "s", null, null).allowed()).isTrue();
        var r = limits.check("ns", "s", null, null);
        assertThat(r.allowed()).isFalse();
        assertThat(r.policy()).isEqualTo("LocalRateLimit ns/b-hard");
        assertThat(r.grpcStatus()).isEqualTo(14);
    }
}
